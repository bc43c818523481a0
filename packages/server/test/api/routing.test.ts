// Routing through the HTTP API (DESIGN §2.2), checked with the delivery log and real receivers:
// System filters with the once-only rule, the recipient rule, echo, events, and pause = held.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  eventually,
  setupHub,
  type ApiClient,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let engine: RunningEngine;
let receiver: Receiver;
let tenant: TenantFixture;
let client: ApiClient;

beforeAll(async () => {
  engine = await startEngine();
  receiver = await startReceiver(200);
  tenant = await createTenantWithToken(engine);
  client = tenant.client;
});

afterAll(async () => {
  await receiver?.close();
  await engine?.stop();
});

async function deliveriesOf(integrationId: string, status?: string): Promise<Json[]> {
  const query = status ? `?status=${status}&pageSize=100` : '?pageSize=100';
  const page = await client.get(`/api/v1/integrations/${integrationId}/deliveries${query}`);
  expect(page.status).toBe(200);
  return page.body.results;
}

function say(
  conversationId: string,
  text: string,
  side: 'customer' | 'business' = 'customer',
  sender?: string,
) {
  return client.post(`/inbound/${side}/v1/direct/activity/${conversationId}`, {
    type: 'message',
    message: { type: 'text', text },
    ...(sender ? { sender: { integrationId: sender } } : {}),
  });
}

function system(hub: { addIntegration: (b: Json) => Promise<Json> }, events: string[], path = 'system') {
  return hub.addIntegration({
    channelId: 'System',
    configuration: { webhookUrl: `${receiver.url}/${path}`, events },
  });
}

describe('routing', () => {
  it('delivers a customer message once to each matching System filter set and not to message:agent', async () => {
    const hub = await setupHub(client);
    const a = await system(hub, ['message']);
    const b = await system(hub, ['message:customer']);
    const c = await system(hub, ['message', 'message:customer']);
    const d = await system(hub, ['message:agent']);
    const { conversationId } = await hub.openConversation();
    const submitted = await say(conversationId, 'hello');
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ status: 200, hubId: hub.hubId, conversationId });
    expect(typeof submitted.body.eventId).toBe('number');
    expect(submitted.body.interactionId).toMatch(/^[0-9a-f-]{36}$/);
    // Committed before the answer: the log shows the deliveries at once.
    expect(await deliveriesOf(a.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(b.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(c.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(d.integrationId)).toHaveLength(0);
    const one = (await deliveriesOf(c.integrationId))[0];
    const detail = await client.get(`/api/v1/deliveries/${one.deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      deliveryId: one.deliveryId,
      integrationId: c.integrationId,
      conversationId,
    });
    expect(Array.isArray(detail.body.attempts)).toBe(true);
  });

  it('routes an agent reply to the customer and makes that agent the business integration', async () => {
    const hub = await setupHub(client);
    const bot = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Bot', webhookUrl: `${receiver.url}/bot` },
    });
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', webhookUrl: `${receiver.url}/agent` },
    });
    const { customer, conversationId } = await hub.openConversation({
      webhookUrl: `${receiver.url}/customer`,
    });
    expect((await say(conversationId, 'first')).status).toBe(200);
    // No agent/bot spoke yet: the hub's first active Bot receives the customer.
    expect(await deliveriesOf(bot.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(agent.integrationId)).toHaveLength(0);

    const reply = await say(conversationId, 'agent here', 'business', agent.integrationId);
    expect(reply.status).toBe(200);
    expect(reply.body.integrationId).toBe(agent.integrationId);
    expect(await deliveriesOf(customer.integrationId)).toHaveLength(1);
    const conversation = await client.get(`/api/v1/conversations/${conversationId}`);
    expect(conversation.body.businessIntegrationId).toBe(agent.integrationId);

    expect((await say(conversationId, 'second')).status).toBe(200);
    expect(await deliveriesOf(agent.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(bot.integrationId)).toHaveLength(1);

    const activities = await client.get(`/api/v1/interactions/activities/${conversationId}`);
    expect(activities.status).toBe(200);
    expect(activities.body.map((a: Json) => a.eventTrigger)).toEqual([
      'message:customer',
      'message:agent',
      'message:customer',
    ]);
    const ids = activities.body.map((a: Json) => a.eventId);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    expect(activities.body[1]).toMatchObject({
      sender: { integrationId: agent.integrationId, integrationType: 'Agent', channelType: 'Direct' },
      recipient: { integrationId: customer.integrationId, integrationType: 'Customer' },
      isEcho: false,
    });
    const agentOnly = await client.get(
      `/api/v1/interactions/activities/${conversationId}?type=Agent&leid=${ids[1]}`,
    );
    expect(agentOnly.body.map((a: Json) => a.eventId)).toEqual([ids[1], ids[2]]);
  });

  it('sends echo copies only to the sender and events to no System integration', async () => {
    const hub = await setupHub(client);
    const watcher = await system(hub, ['message']);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', webhookUrl: `${receiver.url}/agent2` },
    });
    const { customer, conversationId } = await hub.openConversation({
      webhookUrl: `${receiver.url}/echo-customer`,
      echo: true,
    });
    expect((await say(conversationId, 'echo me')).status).toBe(200);
    // The customer (echo: true) gets its own copy; the agent gets the original; System once.
    expect(await deliveriesOf(customer.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(agent.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(watcher.integrationId)).toHaveLength(1);
    const echo = await receiver
      .waitFor(1)
      .then(() => eventually(async () => receiver.requests.find((r) => r.url === '/echo-customer')));
    expect(echo.json<Json>().activity.isEcho).toBe(true);
    expect(echo.headers['x-integration-id']).toBe(customer.integrationId);

    const event = await client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'event',
      event: { type: 'payload', payloadType: 'my.payload.01', payload: { a: 1 } },
    });
    expect(event.status).toBe(200);
    expect(event.body.interactionId).toBeUndefined();
    expect(await deliveriesOf(watcher.integrationId)).toHaveLength(1);
    expect(await deliveriesOf(agent.integrationId)).toHaveLength(2);
  });

  it('holds a paused integration’s deliveries and releases them in order on resume', async () => {
    const paused = await startReceiver(200);
    try {
      const hub = await setupHub(client);
      const sink = await hub.addIntegration({
        channelId: 'System',
        statusId: 3002,
        configuration: { webhookUrl: `${paused.url}/paused`, events: ['message'] },
      });
      const { conversationId } = await hub.openConversation();
      for (const text of ['one', 'two', 'three']) expect((await say(conversationId, text)).status).toBe(200);
      const held = await deliveriesOf(sink.integrationId, 'held');
      expect(held).toHaveLength(3);
      expect(paused.requests).toHaveLength(0);

      const resumed = await client.put(`/api/v1/integrations/${sink.integrationId}`, { statusId: 3000 });
      expect(resumed.status).toBe(200);
      // Released in eventId order; the first dispatch may batch the waiting activities into one body.
      await eventually(async () => {
        const delivered = await deliveriesOf(sink.integrationId, 'delivered');
        const count = delivered.reduce((sum, d) => sum + (d.activityCount as number), 0);
        return count === 3 ? delivered : undefined;
      });
      expect(await deliveriesOf(sink.integrationId, 'held')).toHaveLength(0);
      const texts = paused.requests.flatMap((r) =>
        r.json<Json>().activities.map((a: Json) => a.message.text as string),
      );
      expect(texts).toEqual(['one', 'two', 'three']);
    } finally {
      await paused.close();
    }
  });

  it('holds deliveries of a paused hub and releases them when the hub resumes', async () => {
    const hub = await setupHub(client);
    const sink = await system(hub, ['message'], 'hub-paused');
    const { conversationId } = await hub.openConversation();
    expect((await client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2002 })).status).toBe(200);
    expect((await say(conversationId, 'while paused')).status).toBe(200);
    expect(await deliveriesOf(sink.integrationId, 'held')).toHaveLength(1);
    expect((await client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 })).status).toBe(200);
    await eventually(async () => {
      const delivered = await deliveriesOf(sink.integrationId, 'delivered');
      return delivered.length === 1 ? delivered : undefined;
    });
  });
});
