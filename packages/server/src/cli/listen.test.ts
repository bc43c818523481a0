// `hookster listen` receiving real signed requests over HTTP: 200 and a block per activity, 403 flagged.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signHubster, signStandard, standardSecretFromPrivateKey } from '@hookster/sdk';
import { parseListenArgs, startListener, type RunningListener } from './listen.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const vectors = JSON.parse(
  readFileSync(path.resolve(repoRoot, '..', 'shared', 'spec', 'vectors', 'hubster-signature.json'), 'utf8'),
) as {
  vectors: {
    publicSigningKey: string;
    privateSigningKey: string;
    body: string;
    headers: Record<string, string>;
  }[];
};
const carousel = vectors.vectors[2]!;

function signed(body: string, privateKey: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    ...carousel.headers,
    'x-hubster-signature': signHubster(body, privateKey),
    'webhook-id': 'dlv_listen',
    'webhook-timestamp': timestamp,
    'webhook-signature': signStandard(
      'dlv_listen',
      timestamp,
      body,
      standardSecretFromPrivateKey(privateKey),
    ),
  };
}

describe('hookster listen', () => {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  let listener: RunningListener;

  beforeAll(async () => {
    const options = parseListenArgs([
      '--port',
      '0',
      '--key',
      `${carousel.publicSigningKey}:${carousel.privateSigningKey}`,
    ]);
    listener = await startListener({ ...options, out, colour: false });
  });
  afterAll(() => listener.close());

  it('answers 200 to a signed delivery and prints one block per activity', async () => {
    const { 'Content-Length': _length, ...headers } = signed(carousel.body, carousel.privateSigningKey);
    const response = await fetch(`${listener.url}/webhooks`, {
      method: 'POST',
      body: carousel.body,
      headers,
    });
    expect(response.status).toBe(200);
    expect(printed).toContain('✔ 200 System delivery dlv_listen');
    expect(printed.match(/message:bot #1612360042\d+/g)).toHaveLength(2);
    expect(printed).toContain('text: Here are our most popular models:');
    expect(printed).toContain('• Victorious — European style https://cdn.example.com/cars/victorious.png');
    expect(printed).toContain('[link] More Info → https://example.com/victorious');
    expect(printed).not.toContain('\u001b[');
  });

  it('answers 403 to a tampered delivery and flags it', async () => {
    const { 'Content-Length': _length, ...headers } = signed(carousel.body, carousel.privateSigningKey);
    const response = await fetch(listener.url, {
      method: 'POST',
      body: carousel.body.replace('Victorious', 'Victorius'),
      headers,
    });
    expect(response.status).toBe(403);
    expect(printed).toContain('✘ 403 BAD SIGNATURE bad_signature');
  });

  it('prints control characters of a message as escapes, so a text cannot drive the terminal', async () => {
    // A customer's text with terminal controls: clear the screen, set the window title, ring the bell.
    const hostile = '\\u001b[2J\\u001b]0;pwned\\u0007\\u009b1mline\\nnext';
    const body = carousel.body.replace('Here are our most popular models:', hostile);
    expect(body).not.toBe(carousel.body);
    const { 'Content-Length': _length, ...headers } = signed(body, carousel.privateSigningKey);
    const before = printed.length;
    const response = await fetch(listener.url, { method: 'POST', body, headers });
    expect(response.status).toBe(200);
    const block = printed.slice(before);
    expect(block).toContain('text: \\u001b[2J\\u001b]0;pwned\\u0007\\u009b1mline\\nnext');
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(block).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('refuses malformed flags with the usage text', () => {
    expect(() => parseListenArgs(['--port', '1'])).toThrow(/--key PUBLIC:PRIVATE is required/);
    expect(() => parseListenArgs(['--key', 'nocolon'])).toThrow(/usage: hookster listen/);
    expect(() => parseListenArgs(['--key', 'a:b', '--scheme', 'md5'])).toThrow(/--scheme/);
    expect(parseListenArgs(['--key', 'A:B', '--key', 'C:D']).keys).toEqual(
      new Map([
        ['A', 'B'],
        ['C', 'D'],
      ]),
    );
  });

  it('colours the blocks when asked to', async () => {
    const colourOut = new PassThrough();
    let coloured = '';
    colourOut.on('data', (chunk: Buffer) => (coloured += chunk.toString()));
    const options = parseListenArgs([
      '--port',
      '0',
      '--key',
      `${carousel.publicSigningKey}:${carousel.privateSigningKey}`,
    ]);
    const colourful = await startListener({ ...options, out: colourOut, colour: true });
    try {
      const { 'Content-Length': _length, ...headers } = signed(carousel.body, carousel.privateSigningKey);
      await fetch(colourful.url, { method: 'POST', body: carousel.body, headers });
      expect(coloured).toContain('\u001b[32m✔ 200\u001b[0m');
    } finally {
      await colourful.close();
    }
  });
});

describe('hookster listen as a command', () => {
  it('prints its URL, answers a signed delivery with 200 and exits 0 on SIGTERM', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        main,
        'listen',
        '--port',
        '0',
        '--key',
        `${carousel.publicSigningKey}:${carousel.privateSigningKey}`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    // 'close', not 'exit': at 'exit' the child's stdout may not all have been read.
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    let stdout = '';
    child.stdout.setEncoding('utf8');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout}`)), 30_000);
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        void exited.then((code) => reject(new Error(`exited with ${code}: ${stdout}`)));
      });
      const { 'Content-Length': _length, ...headers } = signed(carousel.body, carousel.privateSigningKey);
      const response = await fetch(url, { method: 'POST', body: carousel.body, headers });
      expect(response.status).toBe(200);
      const forged = await fetch(url, { method: 'POST', body: `${carousel.body} `, headers });
      expect(forged.status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('✔ 200 System delivery dlv_listen');
    expect(stdout).toContain('✘ 403 BAD SIGNATURE bad_signature');
  });
});
