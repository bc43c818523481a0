// Bad input never reaches the store and never yields a 500: every problem is listed in a 400, a body
// over the limit is a 413, unknown ids and routes are 404, a missing or bad token is 401.

import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  apiClient,
  createTenantWithToken,
  setupHub,
  type ApiClient,
  type Json,
} from '../support/client.js';
import { rawStatusLine } from '../support/raw-http.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

let engine: RunningEngine;
let client: ApiClient;
let hubId: string;
let conversationId: string;

beforeAll(async () => {
  engine = await startEngine({ env: { HOOKSTER_BODY_LIMIT: '64KiB' } });
  const tenant = await createTenantWithToken(engine);
  client = tenant.client;
  const hub = await setupHub(client);
  hubId = hub.hubId;
  conversationId = (await hub.openConversation()).conversationId;
});

afterAll(async () => {
  await engine?.stop();
});

function descriptions(body: Json): string {
  return (body.errors as { description: string }[]).map((e) => e.description).join('\n');
}

function expectErrorShape(status: number, body: Json): void {
  expect(body.status).toBe(status);
  expect(Array.isArray(body.errors)).toBe(true);
  for (const error of body.errors) {
    expect(typeof error.code).toBe('number');
    expect(error.description).toMatch(/\(code: [A-Z]{3}\d{6}\)$/);
  }
}

describe('bad input', () => {
  it('lists every missing or wrongly typed field of an integration', async () => {
    const response = await client.post(`/api/v1/integrations/hubs/${hubId}`, { name: 42, statusId: 'on' });
    expect(response.status).toBe(400);
    expectErrorShape(400, response.body);
    const text = descriptions(response.body);
    expect(text).toContain("'channelId'");
    expect(text).toContain("'name'");
    expect(text).toContain("'statusId'");
    expect(text).toContain("'configuration'");
    expect(response.body.errors.length).toBeGreaterThanOrEqual(4);
  });

  it('rejects an unknown channelId, an invalid webhookUrl and empty or unknown events together', async () => {
    const unknownChannel = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'Carrier-Pigeon',
      name: 'x',
      configuration: {},
    });
    expect(unknownChannel.status).toBe(400);
    expect(descriptions(unknownChannel.body)).toContain('channelId');

    const system = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'System',
      name: 'bad system',
      configuration: { webhookUrl: 'ftp://nowhere', events: [] },
    });
    expect(system.status).toBe(400);
    expect(descriptions(system.body)).toContain('webhookUrl');
    expect(descriptions(system.body)).toContain('events');
    expect(system.body.errors).toHaveLength(2);

    const wrongTyped = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'System',
      name: 'typed events',
      configuration: { webhookUrl: 'https://example.com/h', events: 'message' },
    });
    expect(wrongTyped.status).toBe(400);
    expect(descriptions(wrongTyped.body)).toContain('events');
  });

  it('lists an unknown event filter together with an invalid webhookUrl', async () => {
    const unknownEvents = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'System',
      name: 'bad events',
      configuration: { webhookUrl: 'not a url', events: ['message', 'message:martian'] },
    });
    expect(unknownEvents.status).toBe(400);
    const text = descriptions(unknownEvents.body);
    expect(text).toContain('webhookUrl');
    expect(text).toMatch(/events\[1\]/);
  });

  it('rejects an activity with both message and event, listing every problem', async () => {
    const response = await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'hi' },
      event: { type: 'payload', payloadType: 'x', payload: {} },
    });
    expect(response.status).toBe(400);
    expectErrorShape(400, response.body);
    expect(response.body.errors.map((e: Json) => e.code)).toContain(5004);
  });

  it('rejects an activity without message or event and with a wrong type', async () => {
    const response = await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'shout',
    });
    expect(response.status).toBe(400);
    const codes = response.body.errors.map((e: Json) => e.code);
    expect(codes).toContain(5003);
    expect(descriptions(response.body)).toContain("'type'");
  });

  it('rejects a location with neither address nor coordinates', async () => {
    const response = await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'location', imageUrl: 'https://example.com/map.png' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: Json) => e.code)).toContain(5024);
  });

  it('never answers 500 to NUL characters in text (PostgreSQL text cannot hold them)', async () => {
    const nul = 'a\u0000b';
    const responses = [
      await client.put(`/api/v1/hubs/${hubId}`, { name: `hub ${nul}`, description: nul }),
      await client.post('/api/v1/hubs', { name: nul, description: nul }),
      await client.post(`/api/v1/integrations/hubs/${hubId}`, {
        channelId: 'Direct',
        name: nul,
        configuration: { integrationType: 'Agent' },
      }),
      await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        externalId: nul,
        message: { type: 'text', text: nul },
      }),
    ];
    for (const response of responses) {
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
      if (response.status >= 400) expectErrorShape(response.status, response.body);
    }
  });

  it('answers malformed JSON with 400 MalformedJson', async () => {
    for (const body of ['{"type":', '{"a":1}}', 'nul', '[1,2', '{"__proto__":{"x":1}}']) {
      const response = await client.raw(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBeGreaterThanOrEqual(400);
      expect(response.status, body).toBeLessThan(500);
      expectErrorShape(response.status, response.body);
    }
    const broken = await client.raw('/api/v1/hubs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "x",',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].code).toBe(309);
  });

  it('refuses invalid UTF-8, unpaired surrogates and prototype keys with a 400 that says so', async () => {
    const post = (body: string | Buffer) =>
      client.raw('/api/v1/hubs', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    // Before: the bytes were replaced by U+FFFD and the hub stored under that name with a 200.
    const invalidUtf8 = await post(
      Buffer.from([...Buffer.from('{"name":"'), 0xff, 0xfe, ...Buffer.from('"}')]),
    );
    expect(invalidUtf8.status).toBe(400);
    expectErrorShape(400, invalidUtf8.body);
    expect(descriptions(invalidUtf8.body)).toContain('not valid UTF-8');
    // Before: 200 echoing "\ud83d" while SQLite stored replacement characters.
    for (const body of [
      '{"name":"lone \\ud83d","description":""}',
      '{"name":"x","description":"\\udc00 low"}',
    ]) {
      const lone = await post(body);
      expect(lone.status, body).toBe(400);
      expect(descriptions(lone.body)).toContain('unpaired UTF-16 surrogate');
    }
    const paired = await post('{"name":"pair \\ud83d\\ude00","description":""}');
    expect(paired.status).toBe(200);
    expect((await client.get(`/api/v1/hubs/${paired.body.hubId}`)).body.name).toBe('pair 😀');
    for (const body of ['{"__proto__":{"x":1}}', '{"a":{"constructor":{"prototype":{"x":1}}}}']) {
      const poisoned = await post(body);
      expect(poisoned.status, body).toBe(400);
      expect(descriptions(poisoned.body)).toContain('"__proto__"');
    }
    // Nested 20,000 deep around a lone surrogate: valid JSON; checking it overflowed the stack (a 500).
    const deep = await client.raw('/connect/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `${'['.repeat(20_000)}"\\ud800"${']'.repeat(20_000)}`,
    });
    expect(deep.status).toBe(400);
    expect(descriptions(deep.body)).toContain('unpaired UTF-16 surrogate');
  });

  it('reduces message and action types named like Object.prototype members to {type} (was a 500)', async () => {
    for (const message of [
      { type: 'constructor' },
      { type: '__proto__' },
      { type: 'toString' },
      { type: 'text', text: 'x', actions: [{ type: 'constructor' }] },
    ]) {
      const response = await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message,
      });
      expect(response.status, JSON.stringify(message)).toBe(200);
    }
    const direct = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'Direct',
      name: `start-${randomBytes(4).toString('hex')}`,
      configuration: { integrationType: 'Customer', start: [{ type: 'Constructor' }] },
    });
    expect(direct.status, JSON.stringify(direct.body)).toBe(200);
  });

  it('refuses retry steps over 168h and dormant periods past an integer (a 500 or a lost outcome before)', async () => {
    const system = (retrySchedule: string) =>
      client.post(`/api/v1/integrations/hubs/${hubId}`, {
        channelId: 'System',
        name: `retry-${randomBytes(4).toString('hex')}`,
        configuration: { webhookUrl: 'https://example.com/hook', events: ['message'], retrySchedule },
      });
    for (const schedule of ['99999999999999999999h', '1s,169h']) {
      const response = await system(schedule);
      expect(response.status, schedule).toBe(400);
      expect(descriptions(response.body)).toContain('retrySchedule');
    }
    expect((await system('1s,168h')).status).toBe(200);
    for (const days of [3_000_000_000, 1e300]) {
      const created = await client.post('/api/v1/hubs', {
        name: `dormant-${randomBytes(4).toString('hex')}`,
        description: '',
        closeDormantConversation: days,
      });
      expect(created.status, String(days)).toBe(400);
      expect(descriptions(created.body)).toContain('closeDormantConversation');
      const updated = await client.put(`/api/v1/hubs/${hubId}`, { closeDormantConversation: days });
      expect(updated.status, String(days)).toBe(400);
    }
  });

  it('answers request targets that are no URL (also as websocket upgrades) and keeps running', async () => {
    // Before: `new URL` threw in the gateway's request and upgrade listeners, ending the process.
    const send = (request: Buffer | string) => rawStatusLine(engine.url, request);
    const upgrade =
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const request of [
      'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST http://x:99999/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
      `GET http://x:99999/engine-chat-hub HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`,
      `GET //[/engine-chat-hub HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`,
    ]) {
      expect(await send(request), request).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect((await client.get('/healthz')).status).toBe(200);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await client.raw(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', message: { type: 'text', text: 'x'.repeat(70 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expectErrorShape(413, response.body);
  });

  it('answers oversized headers in the error shape', async () => {
    const response = await client.raw('/api/v1/hubs', { headers: { 'x-padding': 'a'.repeat(20_000) } });
    expect(response.status).toBe(431);
    expectErrorShape(431, response.body);
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await client.raw('/api/v1/hubs', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<hub/>',
    });
    expect(response.status).toBe(415);
    expectErrorShape(415, response.body);
  });

  it('answers JSON sent as text/plain (fetch without a content-type) or as a form with 415, not a validation error', async () => {
    const body = JSON.stringify({ name: 'F', description: 'f' });
    for (const contentType of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const response = await client.raw('/api/v1/hubs', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      expect(response.status, contentType).toBe(415);
      expectErrorShape(415, response.body);
      expect(response.text).toMatch(/send application\/json/);
    }
    // A route that takes no body does not care what an empty body claims to be (curl -X POST -d '').
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const retry = await client.raw(`/api/v1/deliveries/${crypto.randomUUID()}/retry`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: '',
      });
      expect(retry.status, contentType).toBe(404);
    }
  });

  it('takes an empty body labelled application/json on routes without a body, and says a body is missing on the others', async () => {
    // Before: the JSON parser refused every empty body with "Request body is required", so a client that
    // labels every request JSON (curl -H 'content-type: application/json' -X POST) could not retry a
    // delivery or create client credentials, although text/plain and form labels were accepted.
    const json = { 'content-type': 'application/json' };
    const retry = await client.raw(`/api/v1/deliveries/${crypto.randomUUID()}/retry`, {
      method: 'POST',
      headers: json,
      body: '',
    });
    expect(retry.status, retry.text).toBe(404);
    expect(retry.body.errors[0].description).toContain('Delivery not found');
    const deleted = await client.raw(`/api/v1/hubs/${crypto.randomUUID()}`, {
      method: 'DELETE',
      headers: json,
      body: '',
    });
    expect(deleted.status, deleted.text).toBe(404);
    const admin = adminClient(engine);
    const tenant = await admin.post('/api/v1/tenants', {
      name: 'empty-json',
      accountHolderEmail: 'a@example.com',
    });
    const clients = await admin.raw(`/api/v1/tenants/${tenant.body.tenantId}/clients`, {
      method: 'POST',
      headers: json,
      body: '',
    });
    expect(clients.status, clients.text).toBe(200);
    expect(clients.body.clientSecret).toEqual(expect.any(String));
    // Routes that need a body still refuse an empty one with a 400 that says so.
    for (const path of ['/api/v1/hubs', `/inbound/customer/v1/direct/activity/${conversationId}`]) {
      const empty = await client.raw(path, { method: 'POST', headers: json, body: '' });
      expect(empty.status, path).toBe(400);
      expectErrorShape(400, empty.body);
      expect(descriptions(empty.body)).toMatch(/body is required/i);
    }
  });

  it('refuses a compressed body with 415 that names the encoding, instead of calling it malformed JSON', async () => {
    // Before: Content-Encoding was ignored, so a gzip-compressed valid body was "not valid JSON" (309),
    // and a body labelled with an encoding it did not have was read as plain JSON and stored.
    const body = JSON.stringify({ name: 'compressed', description: '' });
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(body)],
      ['br', body],
      ['gzip, identity', body],
    ] as const) {
      const response = await client.raw('/api/v1/hubs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: bytes,
      });
      expect(response.status, encoding).toBe(415);
      expectErrorShape(415, response.body);
      expect(descriptions(response.body)).toContain('Content-Encoding');
    }
    const token = await apiClient(engine.url, null).raw('/connect/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: gzipSync('grant_type=client_credentials'),
    });
    expect(token.status).toBe(415);
    // identity is no encoding at all.
    const plain = await client.raw('/api/v1/hubs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      body: JSON.stringify({ name: `identity-${randomBytes(4).toString('hex')}`, description: '' }),
    });
    expect(plain.status, plain.text).toBe(200);
  });

  it('answers an expectation other than 100-continue with 417 in the error shape', async () => {
    // Before: Node answered 417 itself, with an empty body.
    const { hostname, port } = new URL(engine.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.end(
          `POST /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${client.token}\r\n` +
            'Content-Type: application/json\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}',
        ),
      );
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 417 Expectation Failed');
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Json;
    expectErrorShape(417, body);
    expect(descriptions(body)).toContain('Expect');
  });

  it('answers unknown ids, unknown routes and wrong methods with 404', async () => {
    const unknown = '0b4d6f8a-1c3e-4b5d-8f21-017767496800';
    for (const path of [
      `/api/v1/hubs/${unknown}`,
      `/api/v1/integrations/${unknown}`,
      `/api/v1/conversations/${unknown}`,
      `/api/v1/deliveries/${unknown}`,
      `/api/v1/tenants/${unknown}`,
      `/api/v1/interactions/activities/${unknown}`,
      `/api/v1/integrations/${unknown}/deliveries`,
      '/api/v1/nothing-here',
    ]) {
      const response = await client.get(path);
      expect(response.status, path).toBe(404);
      expectErrorShape(404, response.body);
    }
    const submit = await client.post(`/inbound/customer/v1/direct/activity/${unknown}`, {
      type: 'message',
      message: { type: 'text', text: 'hi' },
    });
    expect(submit.status).toBe(404);
    const wrongMethod = await client.raw(`/api/v1/hubs/${hubId}`, { method: 'PATCH' });
    expect([404, 405]).toContain(wrongMethod.status);
  });

  it('lists a bad status filter together with a bad page in the delivery log', async () => {
    const system = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      channelId: 'System',
      name: 'delivery log query',
      configuration: { webhookUrl: 'https://hooks.example.com/log', events: ['message'] },
    });
    expect(system.status).toBe(200);
    const response = await client.get(
      `/api/v1/integrations/${system.body.integrationId}/deliveries?status=lost&pageNumber=x&pageSize=0`,
    );
    expect(response.status).toBe(400);
    expectErrorShape(400, response.body);
    const text = descriptions(response.body);
    expect(text).toContain("'status'");
    expect(text).toContain("'pageNumber'");
    expect(text).toContain("'pageSize'");
    expect(response.body.errors).toHaveLength(3);
  });

  it('lists a malformed hubId together with a bad page in the integration list', async () => {
    const response = await client.get('/api/v1/integrations?hubId=nope&pageNumber=-1&pageSize=101');
    expect(response.status).toBe(400);
    expectErrorShape(400, response.body);
    const text = descriptions(response.body);
    expect(text).toContain("'hubId'");
    expect(text).toContain("'pageNumber'");
    expect(text).toContain("'pageSize'");
    expect(response.body.errors).toHaveLength(3);
  });

  it('answers a malformed id with 400', async () => {
    const response = await client.get('/api/v1/hubs/not-a-guid');
    expect(response.status).toBe(400);
    expect(response.body.errors[0].code).toBe(200);
    const encoding = await client.get('/api/v1/hubs/%E0%A4%A');
    expect(encoding.status).toBe(400);
    expectErrorShape(400, encoding.body);
  });

  it('answers an id longer than the router takes (over 100 characters) with 400, not 500', async () => {
    const long = 'x'.repeat(101);
    for (const [method, path] of [
      ['GET', `/api/v1/hubs/${long}`],
      ['GET', `/api/v1/tenants/${long}`],
      ['GET', `/api/v1/integrations/${long}/deliveries`],
      ['POST', `/api/v1/deliveries/${'0'.repeat(5000)}/retry`],
    ] as const) {
      const response = await client.raw(path, { method });
      expect(response.status, `${method} ${path.slice(0, 40)}`).toBe(400);
      expectErrorShape(400, response.body);
      expect(response.body.errors[0].code).toBe(200);
    }
  });

  it('answers no token, a bad token and a malformed header with 401', async () => {
    const anonymous = apiClient(engine.url, null);
    for (const path of ['/api/v1/hubs', `/api/v1/hubs/${hubId}`, '/api/v1/notifications']) {
      expect((await anonymous.get(path)).status).toBe(401);
      expect((await anonymous.get(path, 'not-a-token')).status).toBe(401);
    }
    const basic = await anonymous.raw('/api/v1/hubs', { headers: { authorization: 'Basic abc' } });
    expect(basic.status).toBe(401);
    expectErrorShape(401, basic.body);
    const submit = await anonymous.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'hi' },
    });
    expect(submit.status).toBe(401);
  });

  it('refuses wrong client credentials with 401 and a bad grant with 400', async () => {
    const anonymous = apiClient(engine.url, null);
    const form = (fields: Record<string, string>) =>
      anonymous.raw('/connect/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const wrong = await form({
      grant_type: 'client_credentials',
      client_id: 'hubster.engine.api.X',
      client_secret: 'nope',
    });
    expect(wrong.status).toBe(401);
    const grant = await form({ grant_type: 'password' });
    expect(grant.status).toBe(400);
    expect(grant.body.errors.length).toBe(3);
  });

  it('never answers 500 to random bodies on any route', async () => {
    const paths = [
      '/api/v1/tenants',
      '/api/v1/hubs',
      `/api/v1/hubs/${hubId}`,
      `/api/v1/integrations/hubs/${hubId}`,
      '/api/v1/conversations/establish',
      `/inbound/customer/v1/direct/activity/${conversationId}`,
      `/inbound/business/v1/direct/activity/${conversationId}`,
      '/connect/token',
      `/api/v1/integrations/${hubId}/recover`,
    ];
    const atoms = (): unknown => {
      const pick = randomInt(12);
      switch (pick) {
        case 0:
          return null;
        case 1:
          return randomInt(1e9) - 5e8;
        case 2:
          return randomBytes(randomInt(1, 12)).toString('base64');
        case 3:
          return [];
        case 4:
          return {};
        case 5:
          return true;
        case 6:
          return 'message';
        case 7:
          return ['message', 'event', 'text'][randomInt(3)];
        case 8:
          return 1e308 * 10;
        case 9:
          return '\u0000\ud800';
        default:
          return {
            type: ['text', 'location', 'carousel', 'payload', 'image'][randomInt(5)],
            text: 'x',
            items: [{}],
          };
      }
    };
    const keys = [
      'type',
      'message',
      'event',
      'sender',
      'name',
      'channelId',
      'configuration',
      'integrationId',
      'binding',
      'since',
      'description',
      'statusId',
      'tenantId',
      'grant_type',
      'webhookUrl',
      'events',
    ];
    const randomValue = (depth: number): unknown => {
      if (depth > 3 || randomInt(3) === 0) return atoms();
      if (randomInt(4) === 0) return Array.from({ length: randomInt(4) }, () => randomValue(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = randomInt(6); i > 0; i--)
        object[keys[randomInt(keys.length)] as string] = randomValue(depth + 1);
      return object;
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const path = paths[i % paths.length] as string;
      const method = path.startsWith('/api/v1/hubs/') ? 'PUT' : 'POST';
      const text =
        i % 7 === 0
          ? randomBytes(randomInt(1, 40)).toString('latin1')
          : (JSON.stringify(randomValue(0)) ?? 'null');
      const response = await client.raw(path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.status, `${method} ${path} ${text}`).toBeLessThan(500);
    }
    expect(statuses.get(400)).toBeGreaterThan(100);
  });
});
