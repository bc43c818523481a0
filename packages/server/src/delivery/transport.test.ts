// The webhook transport against real loopback receivers: vector bytes, statuses, redirects, time-outs.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestReceiver, startTestReceiver } from '../../test/delivery/receiver.js';
import { hubsterVectors } from '../../test/delivery/vectors.js';
import type { ClaimedDelivery } from '../store/contract.js';
import { buildWebhookRequest } from './request.js';
import { EXCERPT_BYTES, type Transport, createTransport, utf8Excerpt } from './transport.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function transport(egressAllow = ['127.0.0.0/8']): Transport {
  const created = createTransport({ egressAllow, connectTimeoutMs: 2000 });
  cleanups.push(() => created.close());
  return created;
}

async function receiver(...args: Parameters<typeof startTestReceiver>): Promise<TestReceiver> {
  const started = await startTestReceiver(...args);
  cleanups.push(() => started.close());
  return started;
}

function claimedFromVector(index: number, url: string): ClaimedDelivery {
  const vector = hubsterVectors[index];
  if (!vector) throw new Error('vector');
  const body = JSON.parse(vector.body) as Record<string, string>;
  return {
    deliveryId: '0b4d6f8a-1c3e-4b5d-8f21-000000000001',
    fence: 1,
    attemptNumber: 1,
    integrationId: body.integrationId ?? '',
    hubId: body.hubId ?? '',
    tenantId: body.tenantId ?? '',
    conversationId: body.conversationId ?? '',
    webhookUrl: url,
    publicSigningKey: vector.publicSigningKey,
    privateSigningKey: vector.privateSigningKey,
    body: vector.body,
    activityCount: 1,
    createdAt: Date.now(),
  };
}

describe('webhook transport', () => {
  it('sends the vector body with exactly the vector headers and a Standard Webhooks signature', async () => {
    const hook = await receiver((_req, res) => res.end('ok'));
    const send = transport();
    for (let index = 0; index < hubsterVectors.length; index++) {
      const vector = hubsterVectors[index];
      if (!vector) continue;
      const claimed = claimedFromVector(index, `${hook.url}?x=1`);
      const outcome = await send.send(buildWebhookRequest(claimed, 'engine.hubster.io', 2000, Date.now()));
      expect(outcome).toMatchObject({ statusCode: 200, excerpt: 'ok' });
      expect(outcome.error).toBeUndefined();
      const got = hook.requests[index];
      if (!got) throw new Error('no request');
      expect(got.method).toBe('POST');
      expect(got.url).toBe('/hook?x=1');
      expect(got.body.equals(Buffer.from(vector.body, 'utf8'))).toBe(true);
      for (const [name, value] of Object.entries(vector.headers)) {
        expect(got.headers[name.toLowerCase()], name).toBe(value);
      }
      expect(got.headers['webhook-id']).toBe(claimed.deliveryId);
      const secret = 'whsec_' + Buffer.from(vector.privateSigningKey, 'utf8').toString('base64');
      const verified = new Webhook(secret).verify(got.body.toString('utf8'), {
        'webhook-id': String(got.headers['webhook-id']),
        'webhook-timestamp': String(got.headers['webhook-timestamp']),
        'webhook-signature': String(got.headers['webhook-signature']),
      });
      expect(verified).toEqual(JSON.parse(vector.body));
    }
  });

  it('reports non-2xx statuses with the excerpt and the Retry-After header', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(503, { 'retry-after': '120' });
      res.end('busy');
    });
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(outcome).toMatchObject({ statusCode: 503, retryAfter: '120', excerpt: 'busy' });
    expect(outcome.error).toBeUndefined();
  });

  it('never follows a redirect', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(outcome.statusCode).toBe(302);
    expect(hook.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('times out a receiver that never answers within one overall bound', async () => {
    const hook = await receiver(() => undefined);
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 300 });
    expect(outcome.error).toBe('timeout after 300 ms');
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(1500);
  });

  it('times out a body that trickles in slower than the bound', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 400 });
    expect(outcome.error).toBe('timeout after 400 ms');
    expect(outcome.statusCode).toBe(200);
    expect(outcome.durationMs).toBeLessThan(1500);
  });

  it('caps the excerpt at 4 KiB and stops reading a body that never ends', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(500);
      res.write('x'.repeat(EXCERPT_BYTES + 100));
    });
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 5000 });
    expect(outcome.statusCode).toBe(500);
    expect(outcome.error).toBeUndefined();
    expect(outcome.excerpt.length).toBe(EXCERPT_BYTES);
    expect(outcome.durationMs).toBeLessThan(2000);
  });

  it('keeps an excerpt of bytes that are not UTF-8 within 4 KiB as stored, without a cut character', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(500);
      // 0xFF is never UTF-8: each shows as U+FFFD, 3 bytes once stored (it used to give 12 KiB).
      res.end(Buffer.alloc(8192, 0xff));
    });
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 5000 });
    expect(outcome.statusCode).toBe(500);
    expect(Buffer.byteLength(outcome.excerpt)).toBeLessThanOrEqual(EXCERPT_BYTES);
    expect(outcome.excerpt).toBe('\ufffd'.repeat(Math.floor(EXCERPT_BYTES / 3)));
  });

  it('utf8Excerpt cuts on a character boundary and counts bytes as stored', () => {
    const e = 'é'; // 2 bytes
    expect(utf8Excerpt(Buffer.from('a' + e.repeat(3)), 4)).toBe('a' + e); // 'a' + é + half of é → dropped
    expect(utf8Excerpt(Buffer.from('ab' + e), 4)).toBe('ab' + e);
    expect(utf8Excerpt(Buffer.from('abc' + '😀'), 5)).toBe('abc'); // a 4-byte character cut after 2 bytes
    expect(utf8Excerpt(Buffer.from('abcd'), 4)).toBe('abcd');
    expect(utf8Excerpt(Buffer.from([0x61, 0xff, 0xff]), 4)).toBe('a\ufffd'); // 'a' + 3 bytes; the second would make 7
    expect(utf8Excerpt(Buffer.alloc(0), 4)).toBe('');
    // NUL (which PostgreSQL text cannot hold) shows as U+FFFD, counted as the 3 bytes it is stored as.
    expect(utf8Excerpt(Buffer.from('a\u0000b'), 5)).toBe('a\ufffdb');
    expect(utf8Excerpt(Buffer.alloc(8, 0), 7)).toBe('\ufffd\ufffd');
  });

  it('reports a refused connection', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    server.close();
    await once(server, 'close');
    const outcome = await transport().send({
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      body: '{}',
      timeoutMs: 2000,
    });
    expect(outcome.error).toBe('connection refused (ECONNREFUSED)');
    expect(outcome.statusCode).toBeUndefined();
  });

  it('reports a connection reset before any response', async () => {
    const hook = await receiver((_req, res) => res.socket?.destroy());
    const outcome = await transport().send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 2000 });
    expect(outcome.error).toMatch(/connection (reset|closed)/);
    expect(outcome.statusCode).toBeUndefined();
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    const hook = await receiver((_req, res) => res.end('ok'));
    const send = transport();
    for (let i = 0; i < 10; i++) {
      const outcome = await send.send({ url: hook.url, headers: {}, body: '{}', timeoutMs: 2000 });
      expect(outcome.statusCode).toBe(200);
    }
    expect(hook.requests.length).toBe(10);
    // The next request may be dispatched before the previous socket is back in the pool: at most two.
    expect(hook.connections()).toBeLessThanOrEqual(2);
  });

  it('answers an invalid or non-HTTP URL with an error value', async () => {
    const send = transport();
    expect((await send.send({ url: 'not a url', headers: {}, body: '', timeoutMs: 100 })).error).toMatch(
      /invalid/,
    );
    expect(
      (await send.send({ url: 'ftp://127.0.0.1/', headers: {}, body: '', timeoutMs: 100 })).error,
    ).toMatch(/unsupported URL scheme/);
  });

  it('reports a certificate the receiver cannot prove as a TLS error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookster-tls-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_req, res) => res.end('ok'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      server.close();
      server.closeAllConnections();
    });
    const port = (server.address() as AddressInfo).port;
    const outcome = await transport().send({
      url: `https://127.0.0.1:${port}/`,
      headers: {},
      body: '{}',
      timeoutMs: 2000,
    });
    expect(outcome.error).toMatch(/^TLS error: .*self.signed/i);
    expect(outcome.statusCode).toBeUndefined();
  });
});
