// `hookster send` against a running engine, whose delivery `hookster listen` verifies and prints.
import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HooksterClient } from '@hookster/sdk/client';
import { until } from '../../test/support/client.js';
import { startEngine, type RunningEngine } from '../../test/support/engine.js';
import { startListener, type RunningListener } from './listen.js';
import { parseSendArgs, sendActivity } from './send.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('hookster send → engine → hookster listen', () => {
  let engine: RunningEngine;
  let listener: RunningListener;
  let token: string;
  let conversationId: string;
  let printed = '';
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const keys = new Map<string, string>();

  beforeAll(async () => {
    engine = await startEngine();
    const admin = new HooksterClient({ url: engine.url, token: engine.adminToken });
    const tenant = await admin.createTenant({
      name: `send-${Date.now()}`,
      accountHolderEmail: 'send@example.com',
    });
    token = (await admin.requestToken(await admin.createClientCredentials(tenant.tenantId))).access_token;
    const api = admin.withToken(token);
    const hub = await api.createHub({ name: 'cli', description: 'send and listen' });
    // The listener must exist before the integration (its URL), and know the keys after: it reads the map.
    listener = await startListener({ port: 0, host: '127.0.0.1', keys, scheme: 'both', out, colour: false });
    const system = await api.createIntegration(hub.hubId, {
      channelId: 'System',
      name: 'listen',
      configuration: { webhookUrl: `${listener.url}/hooks`, events: ['message:customer'] },
    });
    keys.set(system.configuration.publicSigningKey!, system.configuration.privateSigningKey!);
    const customer = await api.createIntegration(hub.hubId, {
      channelId: 'Direct',
      name: 'customer',
      configuration: { integrationType: 'Customer' },
    });
    conversationId = (
      await api.establishConversation({ integrationId: customer.integrationId, binding: 'cli-user' })
    ).conversationId;
  }, 60_000);

  afterAll(async () => {
    await listener?.close();
    await engine?.stop();
  });

  it('submits a text message that the listener receives, verifies and prints', async () => {
    const response = await sendActivity(
      parseSendArgs([
        '--url',
        engine.url,
        '--token',
        token,
        '--conversation',
        conversationId,
        '--text',
        'hello from send',
      ]),
    );
    expect(response).toMatchObject({ status: 200, conversationId });
    await until('the printed delivery', () => printed.includes('text: hello from send'));
    expect(printed).toContain('✔ 200 System delivery');
    expect(printed).toContain(`message:customer #${response.eventId}`);
  });

  it('runs as `hookster send` and prints the submit response as JSON', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'send',
        '--url',
        engine.url,
        '--token',
        token,
        '--conversation',
        conversationId,
        '--text',
        'via the CLI',
        '--external-id',
        'ext-1',
      ],
      { cwd: REPO_ROOT, timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toMatchObject({ status: 200, conversationId, externalId: 'ext-1' });
    await until('the second printed delivery', () => printed.includes('text: via the CLI'));
    expect(printed).toContain('externalId ext-1');
  });

  it('exits 1 with the engine error when the conversation does not exist', async () => {
    const failed = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'send',
        '--url',
        engine.url,
        '--token',
        token,
        '--conversation',
        '00000000-0000-4000-8000-000000000000',
      ],
      { cwd: REPO_ROOT, timeout: 30_000 },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(
      /hookster send: POST \/inbound\/customer\/v1\/direct\/activity\/\S+ answered 404/,
    );
  });

  it('takes a token that starts with a dash as a separate argument (one base64url token in 64 does)', () => {
    // Before: util.parseArgs refused `--token -Fxb…` as ambiguous, and this file's engine tests failed
    // whenever the generated token happened to start with "-".
    expect(parseSendArgs(['--token', '-Fxb_d3N', '--conversation', 'c'])).toMatchObject({
      token: '-Fxb_d3N',
      conversationId: 'c',
    });
    expect(() => parseSendArgs(['--token', '--conversation', 'c'])).toThrow(/--token/);
  });

  it('refuses missing flags with the usage text', () => {
    expect(() => parseSendArgs(['--token', 't'])).toThrow(/--conversation is required/);
    expect(() => parseSendArgs(['--conversation', 'c'])).toThrow(/usage: hookster send/);
  });
});
