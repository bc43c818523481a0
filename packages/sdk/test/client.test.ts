// The typed API client against a running engine: every method of DESIGN §5 once, and the error shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HooksterApiError, HooksterClient } from '../src/client.js';
import { eventually } from '../../server/test/support/client.js';
import { startEngine, type RunningEngine } from '../../server/test/support/engine.js';
import { startReceiver, type Receiver } from '../../server/test/support/receiver.js';

describe('HooksterClient', () => {
  let engine: RunningEngine;
  let endpoint: Receiver;
  let admin: HooksterClient;

  beforeAll(async () => {
    [engine, endpoint] = await Promise.all([startEngine(), startReceiver(500)]);
    admin = new HooksterClient({ url: engine.url, token: engine.adminToken });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([endpoint?.close(), engine?.stop()]);
  });

  it('drives tenants, hubs, integrations, conversations, activities, deliveries and notifications', async () => {
    expect(await admin.health()).toEqual({ status: 'ok' });
    const tenant = await admin.createTenant({
      name: `client-${Date.now()}`,
      accountHolderEmail: 'c@example.com',
    });
    expect(await admin.getTenant(tenant.tenantId)).toMatchObject({
      tenantId: tenant.tenantId,
      statusId: 1000,
    });
    expect(
      await admin.updateTenant(tenant.tenantId, { accountHolderEmail: 'ops@example.com' }),
    ).toMatchObject({
      tenantId: tenant.tenantId,
      accountHolderEmail: 'ops@example.com',
    });
    const credentials = await admin.createClientCredentials(tenant.tenantId);
    const token = await admin.requestToken(credentials);
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    const api = admin.withToken(token.access_token);

    const hub = await api.createHub({ name: 'client hub', description: 'first' });
    expect((await api.listHubs()).results.map((h) => h.hubId)).toContain(hub.hubId);
    expect(await api.updateHub(hub.hubId, { name: 'client hub', description: 'second' })).toMatchObject({
      description: 'second',
    });
    expect(await api.getHub(hub.hubId)).toMatchObject({ description: 'second' });

    const system = await api.createIntegration(hub.hubId, {
      channelId: 'System',
      name: 'failing endpoint',
      configuration: {
        webhookUrl: endpoint.url,
        events: ['message'],
        retrySchedule: '50ms',
        deliveryTimeout: '2s',
      },
    });
    const agent = await api.createIntegration(hub.hubId, {
      channelId: 'Direct',
      name: 'agent',
      configuration: { integrationType: 'Agent' },
    });
    const customer = await api.createIntegration(hub.hubId, {
      channelId: 'Direct',
      name: 'customer',
      configuration: { integrationType: 'Customer' },
    });
    expect((await api.listIntegrations(hub.hubId)).total).toBe(3);
    expect(await api.getIntegration(system.integrationId)).toMatchObject({
      channelId: 'System',
      integrationTypeId: 'System',
    });

    const conversation = await api.establishConversation({
      integrationId: customer.integrationId,
      binding: 'u-1',
    });
    expect(conversation.isNew).toBe(true);
    expect(await api.getConversation(conversation.conversationId)).toMatchObject({
      conversationId: conversation.conversationId,
    });
    const fromCustomer = await api.submitCustomerActivity(conversation.conversationId, {
      type: 'message',
      message: { type: 'text', text: 'hello' },
    });
    const fromAgent = await api.submitBusinessActivity(conversation.conversationId, {
      type: 'message',
      sender: { integrationId: agent.integrationId },
      message: { type: 'text', text: 'hi, how can I help?' },
    });
    expect(fromAgent.eventId).toBeGreaterThan(fromCustomer.eventId);
    const activities = await api.listActivities(conversation.conversationId);
    expect(activities.map((a) => a.eventTrigger)).toEqual(['message:customer', 'message:agent']);

    // Both activities reach the System endpoint, which fails (500 twice per delivery), so they are
    // exhausted — in two deliveries, or in one if the second arrived before the first was dispatched
    // (System batching).
    const activitiesIn = (page: { results: { activityCount: number }[] }) =>
      page.results.reduce((sum, d) => sum + d.activityCount, 0);
    const failed = await eventually(
      async () => {
        const page = await api.listDeliveries(system.integrationId, { status: 'failed' });
        return activitiesIn(page) >= 2 ? page : undefined;
      },
      20_000,
      'both activities in failed deliveries',
    );
    const delivery = await api.getDelivery(failed.results[0]!.deliveryId);
    expect(delivery.attempts?.map((a) => a.statusCode)).toEqual([500, 500]);
    const notifications = await eventually(
      async () => {
        const page = await api.listNotifications();
        return page.total >= 1 ? page : undefined;
      },
      20_000,
      'a notification',
    );
    expect(notifications.results[0]).toMatchObject({ integrationId: system.integrationId });

    endpoint.respond(200);
    const resent = await api.retryDelivery(delivery.deliveryId);
    expect(['pending', 'delivered']).toContain(resent.status);
    const recovered = await api.recoverIntegration(system.integrationId, 0);
    expect(recovered.status).toBe(200);
    await eventually(
      async () => {
        const page = await api.listDeliveries(system.integrationId, { status: 'delivered' });
        return activitiesIn(page) >= 2 ? page : undefined;
      },
      20_000,
      'every delivery delivered',
    );

    expect(await api.deleteIntegration(agent.integrationId)).toMatchObject({
      integrationId: agent.integrationId,
    });
    expect(await api.deleteHub(hub.hubId)).toMatchObject({ hubId: hub.hubId });
  });

  it('throws HooksterApiError with the status and Hubster error list', async () => {
    const error = await admin.getHub('0f1e2d3c-4b5a-4968-8776-000000000000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HooksterApiError);
    expect(error).toMatchObject({ status: 404, method: 'GET', errors: [{ code: expect.any(Number) }] });
    const unauthorized = await new HooksterClient({ url: engine.url, token: 'nope' })
      .listHubs()
      .catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ status: 401 });
  });
});
