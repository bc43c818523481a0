// The websocket gateway through the real HTTP API, a real SQLite store and real sockets: the hub
// protocol spoken by hand on `ws`, authentication, scoping, fire-and-forget outcomes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  setupHub,
  submitText,
  type HubFixture,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub, firstRecord, hubUrl } from './raw-hub-client.js';
import WebSocket from 'ws';
import { request } from 'undici';

let engine: InProcessEngine;
let tenant: TenantFixture;
let other: TenantFixture;
let hub: HubFixture;
let customer: Json;
let agent: Json;
let conversationId: string;

beforeAll(async () => {
  engine = await startInProcessEngine({ gateway: { pingIntervalMs: 100 } });
  tenant = await createTenantWithToken(engine);
  other = await createTenantWithToken(engine);
  hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
  ({ customer, conversationId } = await hub.openConversation({ echo: true }));
});

afterAll(async () => {
  await engine?.stop();
});

function customerSays(conversation: string, text: string): Promise<number> {
  return submitText(tenant.client, conversation, text);
}

function agentSays(conversation: string, text: string): Promise<number> {
  return submitText(tenant.client, conversation, text, agent.integrationId as string);
}

/** Polls the delivery log (bounded) until the integration's newest delivery leaves `pending`. */
async function settledDeliveries(integrationId: string, count: number): Promise<Json[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await tenant.client.get(`/api/v1/integrations/${integrationId}/deliveries?pageSize=100`);
    expect(response.status, response.text).toBe(200);
    const results = response.body.results as Json[];
    if (results.length >= count && results.every((d: Json) => d.status !== 'pending')) return results;
    if (Date.now() > deadline) throw new Error(`deliveries not settled: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function refusedStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', () => undefined);
  });
}

describe('websocket gateway (hub protocol by hand)', () => {
  it('pushes a customer message to the agent as a bare activity in a ReceiveDirectActivities invocation', async () => {
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    const eventId = await customerSays(conversationId, 'hello over the socket');
    await client.waitFor(() => client.activities.length === 1, 10_000, 'one activity');
    const invocation = client.messages.find((m) => m.type === 1);
    expect(invocation).toMatchObject({ type: 1, target: 'ReceiveDirectActivities' });
    expect(invocation?.invocationId).toBeUndefined();
    expect(invocation?.arguments).toHaveLength(1);
    expect(client.activities[0]).toMatchObject({
      type: 'message',
      eventTrigger: 'message:customer',
      eventId,
      isEcho: false,
      sender: { integrationId: customer.integrationId, integrationType: 'Customer' },
      recipient: { integrationId: agent.integrationId },
      message: { type: 'text', text: 'hello over the socket' },
    });
    client.close();
    await client.closed;
  });

  it('sends the echo copy with isEcho true to a sender that asked for echoes', async () => {
    const client = await connectRawHub(engine.url, {
      token: tenant.token,
      iId: customer.integrationId,
      cId: conversationId,
    });
    const eventId = await customerSays(conversationId, 'echo me');
    await client.waitFor(() => client.activities.length === 1, 10_000, 'the echo');
    expect(client.activities[0]).toMatchObject({ eventId, isEcho: true, message: { text: 'echo me' } });
    client.close();
    await client.closed;
  });

  it('accepts the token as access_token in the query and sends keep-alive pings', async () => {
    const client = await connectRawHub(engine.url, {
      token: tenant.token,
      tokenInQuery: true,
      iId: agent.integrationId,
    });
    await client.waitFor(() => client.messages.some((m) => m.type === 6), 5_000, 'a ping');
    client.close();
    await client.closed;
  });

  it('reads several records of one frame and answers an invocation of an unknown method', async () => {
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    client.send('{"type":6}\x1e{"type":1,"invocationId":"1","target":"SendMessage","arguments":[]}\x1e');
    await client.waitFor(() => client.messages.some((m) => m.type === 3), 5_000, 'a completion');
    expect(client.messages.find((m) => m.type === 3)).toMatchObject({
      invocationId: '1',
      error: expect.stringContaining('SendMessage'),
    });
    client.close();
    await client.closed;
  });

  it('answers an unsupported handshake with an error and closes', async () => {
    const client = await connectRawHub(engine.url, {
      token: tenant.token,
      iId: agent.integrationId,
      handshake: null,
    });
    const answer = await firstRecord(client.ws, '{"protocol":"messagepack","version":1}\x1e');
    expect(JSON.parse(answer)).toEqual({ error: "The protocol 'messagepack' is not supported." });
    await client.closed;
  });

  it('narrows a connection with cId to one conversation of the integration', async () => {
    const first = await hub.openConversation();
    const established = await tenant.client.post('/api/v1/conversations/establish', {
      integrationId: first.customer.integrationId,
      binding: 'second-binding',
      channelType: 'Direct',
    });
    expect(established.status, established.text).toBe(200);
    const secondId = established.body.conversationId as string;
    const iId = first.customer.integrationId as string;
    const narrowed = await connectRawHub(engine.url, { token: tenant.token, iId, cId: first.conversationId });
    const wide = await connectRawHub(engine.url, { token: tenant.token, iId });
    const elsewhere = await agentSays(secondId, 'for the second conversation');
    const here = await agentSays(first.conversationId, 'for the first conversation');
    await wide.waitFor(() => wide.activities.length === 2, 10_000, 'both replies');
    await narrowed.waitFor(() => narrowed.activities.length === 1, 10_000, 'the first reply');
    expect(wide.activities.map((a) => a.eventId)).toEqual([elsewhere, here]);
    expect(narrowed.activities.map((a) => a.eventId)).toEqual([here]);
    narrowed.close();
    wide.close();
    await Promise.all([narrowed.closed, wide.closed]);
  });

  it('does not push a delivery the store wrote as held (paused integration or hub)', async () => {
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    const conversation = await engine.store.getConversation(conversationId);
    if (!conversation) throw new Error('conversation missing');
    const result = (eventId: number, held: boolean) => ({
      plan: {
        activity: { type: 'message' as const, eventTrigger: 'message:customer', eventId, isEcho: false },
        activityJson: `{"type":"message","eventTrigger":"message:customer","eventId":${eventId},"isEcho":false}`,
        deliveries: [
          { integrationId: agent.integrationId as string, echo: false, transport: 'websocket' as const },
        ],
      },
      conversation,
      deliveryIds: [`unknown-${eventId}`],
      held: [held],
    });
    engine.gateway.publish(result(1, true));
    engine.gateway.publish(result(2, false));
    client.send('{"type":1,"invocationId":"sync","target":"Barrier","arguments":[]}\x1e');
    await client.waitFor(() => client.messages.some((m) => m.type === 3), 5_000, 'the barrier');
    expect(client.activities.map((a) => a.eventId)).toEqual([2]);
    client.close();
    await client.closed;
  });

  it('records delivered when a connection received the push and failed "no connection" otherwise', async () => {
    const lonely = await hub.openConversation();
    const before = (await settledDeliveries(lonely.customer.integrationId, 0)).length;
    await agentSays(lonely.conversationId, 'nobody listens');
    const [unheard] = await settledDeliveries(lonely.customer.integrationId, before + 1);
    expect(unheard.status).toBe('failed');
    const detail = await tenant.client.get(`/api/v1/deliveries/${unheard.deliveryId}`);
    expect(detail.body.attempts).toEqual([
      expect.objectContaining({ attemptNumber: 1, error: 'no connection' }),
    ]);
    // Fire-and-forget: a websocket delivery cannot be resent, and the answer says why.
    const retried = await tenant.client.post(`/api/v1/deliveries/${unheard.deliveryId}/retry`);
    expect(retried.status).toBe(400);
    expect(retried.text).toMatch(/receives over the websocket \(no webhookUrl\), fire-and-forget/);

    const client = await connectRawHub(engine.url, {
      token: tenant.token,
      iId: lonely.customer.integrationId,
    });
    await agentSays(lonely.conversationId, 'now someone listens');
    await client.waitFor(() => client.activities.length === 1, 10_000, 'the push');
    const settled = await settledDeliveries(lonely.customer.integrationId, before + 2);
    expect(settled.map((d: Json) => d.status).sort()).toEqual(['delivered', 'failed']);
    client.close();
    await client.closed;
  });
});

describe('websocket gateway authentication', () => {
  it('refuses a missing or bad token with 401 at the handshake', async () => {
    const url = hubUrl(engine.url, { iId: agent.integrationId });
    expect((await refusedStatus(url)).status).toBe(401);
    const bad = await refusedStatus(url, { authorization: 'Bearer not-a-token' });
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toMatchObject({ status: 401, errors: [{ code: 102 }] });
    const badQuery = await refusedStatus(
      hubUrl(engine.url, { iId: agent.integrationId, token: 'nope', tokenInQuery: true }),
    );
    expect(badQuery.status).toBe(401);
  });

  it("refuses another tenant's token as if the integration did not exist", async () => {
    const foreign = await refusedStatus(
      hubUrl(engine.url, { iId: agent.integrationId, token: other.token, tokenInQuery: true }),
    );
    expect(foreign.status).toBe(404);
    const unknown = await refusedStatus(
      hubUrl(engine.url, {
        iId: '00000000-0000-4000-8000-000000000000',
        token: other.token,
        tokenInQuery: true,
      }),
    );
    expect(unknown).toEqual(foreign);
  });

  it('refuses an integration that receives by webhook and a conversation of another hub', async () => {
    const webhooked = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Bot', webhookUrl: 'http://127.0.0.1:9/hook' },
    });
    const refused = await refusedStatus(
      hubUrl(engine.url, { iId: webhooked.integrationId, token: tenant.token, tokenInQuery: true }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('webhookUrl');

    const otherHub = await setupHub(tenant.client);
    const elsewhere = await otherHub.openConversation();
    const scoped = await refusedStatus(
      hubUrl(engine.url, {
        iId: agent.integrationId,
        cId: elsewhere.conversationId,
        token: tenant.token,
        tokenInQuery: true,
      }),
    );
    expect(scoped.status).toBe(404);
  });

  it('lets the admin token connect to any tenant integration', async () => {
    const client = await connectRawHub(engine.url, { token: engine.adminToken, iId: agent.integrationId });
    client.close();
    await client.closed;
  });

  it('answers a plain GET of the hub (no websocket upgrade) with 426 and what to do', async () => {
    const response = await tenant.client.get('/engine-chat-hub');
    expect(response.status).toBe(426);
    expect(response.headers.upgrade).toBe('websocket');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.text).toMatch(/open it as a websocket/);
    // Other methods are no route of the hub.
    expect((await tenant.client.post('/engine-chat-hub', {})).status).toBe(404);
  });

  it('authorises negotiate like the upgrade and returns a version 1 negotiate response', async () => {
    const path = `/engine-chat-hub/negotiate?iId=${agent.integrationId}&negotiateVersion=1`;
    const denied = await request(engine.url + path, { method: 'POST' });
    expect(denied.statusCode).toBe(401);
    await denied.body.text();
    const foreign = await request(engine.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect(foreign.statusCode).toBe(404);
    await foreign.body.text();
    const ok = await request(engine.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(ok.statusCode).toBe(200);
    const body = (await ok.body.json()) as Json;
    expect(body).toMatchObject({
      negotiateVersion: 1,
      connectionId: expect.any(String),
      connectionToken: expect.any(String),
      availableTransports: [{ transport: 'WebSockets', transferFormats: ['Text'] }],
    });
  });

  it('answers the CORS preflight of a browser negotiate and allows its origin', async () => {
    const path = `/engine-chat-hub/negotiate?iId=${agent.integrationId}&negotiateVersion=1`;
    const preflight = await request(engine.url + path, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://chat.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,x-signalr-user-agent',
      },
    });
    await preflight.body.text();
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://chat.example.com');
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('authorization');
    const ok = await request(engine.url + path + `&access_token=${tenant.token}`, {
      method: 'POST',
      headers: { origin: 'https://chat.example.com' },
    });
    await ok.body.text();
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://chat.example.com');
  });
});
