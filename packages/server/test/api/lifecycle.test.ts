// Hubs, conversations and the delivery log through the API: hub CRUD and paging, establish
// idempotency, a failing endpoint exhausting into a notification, manual retry and recover.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  eventually,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let engine: RunningEngine;
let tenant: TenantFixture;
let receiver: Receiver;

beforeAll(async () => {
  engine = await startEngine({ env: { HOOKSTER_RETRY_SCHEDULE: '20ms,20ms' } });
  tenant = await createTenantWithToken(engine);
  receiver = await startReceiver(500);
});

afterAll(async () => {
  await receiver?.close();
  await engine?.stop();
});

describe('hubs', () => {
  it('creates, pages, updates and deletes hubs', async () => {
    const c = tenant.client;
    const created: Json[] = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const hub = await c.post('/api/v1/hubs', { name: `${name}-${Date.now()}`, description: `${name} hub` });
      expect(hub.status).toBe(200);
      expect(hub.body).toMatchObject({
        tenantId: tenant.tenantId,
        statusId: 2000,
        description: `${name} hub`,
      });
      created.push(hub.body);
    }
    const page = await c.get('/api/v1/hubs?pageNumber=1&pageSize=2');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ pageNumber: 1, pageSize: 2, total: 3 });
    expect(page.body.results).toHaveLength(1);
    const duplicate = await c.post('/api/v1/hubs', { name: created[0].name, description: 'again' });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.errors[0].code).toBe(600);
    const badPage = await c.get('/api/v1/hubs?pageSize=1000&pageNumber=-1');
    expect(badPage.status).toBe(400);
    expect(badPage.body.errors).toHaveLength(2);

    const updated = await c.put(`/api/v1/hubs/${created[1].hubId}`, {
      description: 'changed',
      statusId: 2002,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: created[1].name, description: 'changed', statusId: 2002 });
    expect((await c.get(`/api/v1/hubs/${created[1].hubId}`)).body.statusId).toBe(2002);

    const hub = await setupHub(c);
    const integration = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Bot' },
    });
    expect((await c.delete(`/api/v1/hubs/${hub.hubId}`)).status).toBe(200);
    expect((await c.get(`/api/v1/hubs/${hub.hubId}`)).status).toBe(404);
    expect((await c.get(`/api/v1/integrations/${integration.integrationId}`)).status).toBe(404);
  });
});

describe('conversations', () => {
  it('establishes once per integration and binding and reads the conversation back', async () => {
    const hub = await setupHub(tenant.client);
    const customer = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Customer' },
    });
    const body = {
      integrationId: customer.integrationId,
      binding: 'user-42',
      channelType: 'Direct',
      properties: { profile: { email: 'zoe@example.com' }, additional: { plan: 'gold' } },
    };
    const first = await tenant.client.post('/api/v1/conversations/establish', body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      tenantId: tenant.tenantId,
      hubId: hub.hubId,
      integrationId: customer.integrationId,
      isNew: true,
      properties: { profile: { email: 'zoe@example.com', device: 'Direct' }, additional: { plan: 'gold' } },
    });
    expect(first.body.tokenId).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const second = await tenant.client.post('/api/v1/conversations/establish', body);
    expect(second.body).toMatchObject({ conversationId: first.body.conversationId, isNew: false });
    const read = await tenant.client.get(`/api/v1/conversations/${first.body.conversationId}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      conversationId: first.body.conversationId,
      tokenId: first.body.tokenId,
    });

    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const notCustomer = await tenant.client.post('/api/v1/conversations/establish', {
      ...body,
      integrationId: agent.integrationId,
    });
    expect(notCustomer.status).toBe(400);
    const missing = await tenant.client.post('/api/v1/conversations/establish', { channelType: 'Direct' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.length).toBeGreaterThanOrEqual(2);
  });
});

describe('delivery log', () => {
  it('exhausts a failing endpoint into a notification, then retries and recovers on request', async () => {
    const hub = await setupHub(tenant.client);
    const system = await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: `${receiver.url}/failing`, events: ['message'] },
    });
    const { conversationId } = await hub.openConversation();
    const sent = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'will fail' },
    });
    expect(sent.status).toBe(200);
    const failed = await eventually(async () => {
      const page = await tenant.client.get(
        `/api/v1/integrations/${system.integrationId}/deliveries?status=failed`,
      );
      return page.body.total === 1 ? page.body.results[0] : undefined;
    });
    const detail = await tenant.client.get(`/api/v1/deliveries/${failed.deliveryId}`);
    expect(detail.body.status).toBe('failed');
    expect(detail.body.attempts).toHaveLength(3);
    expect(detail.body.attempts.map((a: Json) => a.statusCode)).toEqual([500, 500, 500]);
    const notification = await eventually(async () => {
      const page = await tenant.client.get('/api/v1/notifications');
      return page.body.results.find((n: Json) => n.integrationId === system.integrationId);
    });
    expect(notification).toMatchObject({ tenantId: tenant.tenantId, hubId: hub.hubId });

    const pending = await tenant.client.post(`/api/v1/deliveries/${failed.deliveryId}/retry`);
    expect(pending.status).toBe(200);
    await eventually(async () => {
      const again = await tenant.client.get(`/api/v1/deliveries/${failed.deliveryId}`);
      return again.body.status === 'failed' && again.body.attempts.length >= 4 ? again : undefined;
    });

    receiver.respond(200);
    const recovered = await tenant.client.post(`/api/v1/integrations/${system.integrationId}/recover`, {
      since: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(recovered.status).toBe(200);
    expect(recovered.body.recovered).toBe(1);
    await eventually(async () => {
      const again = await tenant.client.get(`/api/v1/deliveries/${failed.deliveryId}`);
      return again.body.status === 'delivered' ? again : undefined;
    });
    const badSince = await tenant.client.post(`/api/v1/integrations/${system.integrationId}/recover`, {
      since: 'yesterday',
    });
    expect(badSince.status).toBe(400);
    const badStatus = await tenant.client.get(
      `/api/v1/integrations/${system.integrationId}/deliveries?status=lost`,
    );
    expect(badStatus.status).toBe(400);
  });
  it('refuses to resend a webhook delivery once its integration dropped its webhookUrl (websocket now)', async () => {
    const hub = await setupHub(tenant.client);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', webhookUrl: `${receiver.url}/agent` },
    });
    receiver.respond(500);
    const { conversationId } = await hub.openConversation();
    const sent = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'to the agent' },
    });
    expect(sent.status).toBe(200);
    const failed = await eventually(async () => {
      const page = await tenant.client.get(
        `/api/v1/integrations/${agent.integrationId}/deliveries?status=failed`,
      );
      return page.body.total === 1 ? page.body.results[0] : undefined;
    });
    // The agent desk moves to the websocket gateway: no webhookUrl any more.
    const moved = await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, {
      configuration: { integrationType: 'Agent' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.configuration.webhookUrl).toBeUndefined();
    receiver.respond(200);

    const retry = await tenant.client.post(`/api/v1/deliveries/${failed.deliveryId}/retry`);
    expect(retry.status, retry.text).toBe(400);
    expect(retry.text).toContain('websocket');
    const recovered = await tenant.client.post(`/api/v1/integrations/${agent.integrationId}/recover`, {
      since: 0,
    });
    expect(recovered.status).toBe(200);
    expect(recovered.body.recovered).toBe(0);
    const after = await tenant.client.get(`/api/v1/deliveries/${failed.deliveryId}`);
    expect(after.body.status).toBe('failed');
    expect(after.body.attempts).toHaveLength(3);
  });
  it('reads since strictly: text after the date is refused, a time without offset is UTC on any host', async () => {
    // A host far from UTC: a date-time without offset was read in its zone (10 h later here).
    const honolulu = await startEngine({ env: { TZ: 'Pacific/Honolulu' } });
    try {
      const own = await createTenantWithToken(honolulu);
      const hub = await setupHub(own.client);
      const system = await hub.addIntegration({
        channelId: 'System',
        configuration: {
          webhookUrl: 'http://127.0.0.1:1/refused',
          events: ['message'],
          retrySchedule: 'none',
        },
      });
      const { conversationId } = await hub.openConversation();
      const sent = await own.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: 'nobody listens' },
      });
      expect(sent.status).toBe(200);
      const failed = await eventually(async () => {
        const page = await own.client.get(
          `/api/v1/integrations/${system.integrationId}/deliveries?status=failed`,
        );
        return page.body.total === 1 ? page.body.results[0] : undefined;
      });
      const recover = (since: unknown) =>
        own.client.post(`/api/v1/integrations/${system.integrationId}/recover`, { since });
      // Date.parse read "2024-01-01 junk" as 1 June 2024 ("jun"), and "2024-02-30" as 1 March.
      for (const since of [
        '2024-01-01 junk',
        '2024-02-30',
        '2024-01-01T10:00:00 PM',
        '2024-01-01T24:00:00Z',
      ]) {
        const refused = await recover(since);
        expect(refused.status, since).toBe(400);
        expect(refused.body.errors[0].code, since).toBe(201);
      }
      const hourBefore = new Date(Date.parse(failed.createdAt) - 3_600_000).toISOString();
      const local = await recover(hourBefore.replace(/\.\d{3}Z$/, ''));
      expect(local.status).toBe(200);
      expect(local.body.recovered).toBe(1);
    } finally {
      await honolulu.stop();
    }
  });
});
