// Tenant isolation: a tenant token gets 404 for every id of another tenant, on every route, and never
// changes or lists the other tenant's resources. The admin token sees everything.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  apiClient,
  createTenantWithToken,
  eventually,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let engine: RunningEngine;
let receiver: Receiver;
let owner: TenantFixture;
let intruder: TenantFixture;
const ids: Record<string, string> = {};

beforeAll(async () => {
  engine = await startEngine();
  receiver = await startReceiver(200);
  owner = await createTenantWithToken(engine);
  intruder = await createTenantWithToken(engine);
  const hub = await setupHub(owner.client);
  const system = await hub.addIntegration({
    channelId: 'System',
    configuration: { webhookUrl: `${receiver.url}/hook`, events: ['message'] },
  });
  const agent = await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Agent' },
  });
  const { customer, conversationId } = await hub.openConversation();
  const submitted = await owner.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
    type: 'message',
    message: { type: 'text', text: 'hello' },
  });
  expect(submitted.status).toBe(200);
  const deliveries = await eventually(async () => {
    const page = await owner.client.get(`/api/v1/integrations/${system.integrationId}/deliveries`);
    return page.body.total === 1 ? page.body : undefined;
  });
  Object.assign(ids, {
    tenant: owner.tenantId,
    hub: hub.hubId,
    system: system.integrationId,
    agent: agent.integrationId,
    customer: customer.integrationId,
    conversation: conversationId,
    delivery: deliveries.results[0].deliveryId,
  });
});

afterAll(async () => {
  await receiver?.close();
  await engine?.stop();
});

describe('tenant isolation', () => {
  it("answers 404 for another tenant's ids on every route", async () => {
    const c = intruder.client;
    const message = { type: 'message', message: { type: 'text', text: 'intrusion' } };
    const attempts: [string, Promise<Json>][] = [
      ['GET tenant', c.get(`/api/v1/tenants/${ids.tenant}`)],
      ['POST clients', c.post(`/api/v1/tenants/${ids.tenant}/clients`, {})],
      ['GET hub', c.get(`/api/v1/hubs/${ids.hub}`)],
      ['PUT hub', c.put(`/api/v1/hubs/${ids.hub}`, { name: 'stolen', statusId: 2002 })],
      ['DELETE hub', c.delete(`/api/v1/hubs/${ids.hub}`)],
      [
        'POST integration',
        c.post(`/api/v1/integrations/hubs/${ids.hub}`, {
          channelId: 'Direct',
          name: 'x',
          configuration: { integrationType: 'Bot' },
        }),
      ],
      ['POST alias update', c.post(`/api/v1/integrations/hubs/${ids.system}`, { name: 'stolen' })],
      ['GET integration', c.get(`/api/v1/integrations/${ids.system}`)],
      [
        'PUT integration',
        c.put(`/api/v1/integrations/${ids.system}`, {
          configuration: { webhookUrl: 'https://evil.example/h', events: ['message'] },
        }),
      ],
      ['DELETE integration', c.delete(`/api/v1/integrations/${ids.agent}`)],
      ['GET integrations of hub', c.get(`/api/v1/integrations?hubId=${ids.hub}`)],
      [
        'establish',
        c.post('/api/v1/conversations/establish', {
          integrationId: ids.customer,
          binding: 'u1',
          channelType: 'Direct',
        }),
      ],
      ['GET conversation', c.get(`/api/v1/conversations/${ids.conversation}`)],
      ['submit customer', c.post(`/inbound/customer/v1/direct/activity/${ids.conversation}`, message)],
      [
        'submit business',
        c.post(`/inbound/business/v1/direct/activity/${ids.conversation}`, {
          ...message,
          sender: { integrationId: ids.agent },
        }),
      ],
      ['GET interactions', c.get(`/api/v1/interactions/activities/${ids.conversation}`)],
      ['GET deliveries', c.get(`/api/v1/integrations/${ids.system}/deliveries`)],
      ['GET delivery', c.get(`/api/v1/deliveries/${ids.delivery}`)],
      ['POST retry', c.post(`/api/v1/deliveries/${ids.delivery}/retry`)],
      ['POST recover', c.post(`/api/v1/integrations/${ids.system}/recover`, { since: 0 })],
    ];
    for (const [what, pending] of attempts) {
      const response = await pending;
      expect(response.status, `${what}: ${response.text}`).toBe(404);
      expect(response.body.status).toBe(404);
    }
  });

  it("lists none of another tenant's resources", async () => {
    const c = intruder.client;
    const hubs = await c.get('/api/v1/hubs');
    expect(hubs.status).toBe(200);
    expect(hubs.body.results.map((h: Json) => h.hubId)).not.toContain(ids.hub);
    const integrations = await c.get('/api/v1/integrations');
    expect(integrations.body.results.map((i: Json) => i.integrationId)).not.toContain(ids.system);
    const notifications = await c.get('/api/v1/notifications');
    expect(notifications.status).toBe(200);
    for (const n of notifications.body.results) expect(n.tenantId).toBe(intruder.tenantId);
  });

  it('leaves the owner’s resources untouched and visible to the owner and the admin', async () => {
    const hub = await owner.client.get(`/api/v1/hubs/${ids.hub}`);
    expect(hub.status).toBe(200);
    expect(hub.body.statusId).toBe(2000);
    expect(hub.body.name).not.toBe('stolen');
    expect((await owner.client.get(`/api/v1/integrations/${ids.agent}`)).status).toBe(200);
    const system = await owner.client.get(`/api/v1/integrations/${ids.system}`);
    expect(system.body.configuration.webhookUrl).toBe(`${receiver.url}/hook`);
    const interactions = await owner.client.get(`/api/v1/interactions/activities/${ids.conversation}`);
    expect(interactions.body).toHaveLength(1);
    const admin = adminClient(engine);
    for (const path of [
      `/api/v1/tenants/${ids.tenant}`,
      `/api/v1/hubs/${ids.hub}`,
      `/api/v1/conversations/${ids.conversation}`,
      `/api/v1/deliveries/${ids.delivery}`,
    ]) {
      expect((await admin.get(path)).status, path).toBe(200);
    }
  });

  it("takes no other tenant's id from a body or a query parameter", async () => {
    const c = intruder.client;
    const own = await setupHub(c);
    const { conversationId } = await own.openConversation();
    const message = { type: 'message', message: { type: 'text', text: 'as someone else' } };
    // The owner's agent as the sender of the intruder's own conversation: answered like an unknown id.
    const foreignSender = await c.post(`/inbound/business/v1/direct/activity/${conversationId}`, {
      ...message,
      sender: { integrationId: ids.agent },
    });
    const unknownSender = await c.post(`/inbound/business/v1/direct/activity/${conversationId}`, {
      ...message,
      sender: { integrationId: '00000000-0000-4000-8000-0000000000aa' },
    });
    expect(foreignSender.status, foreignSender.text).toBe(404);
    expect(foreignSender.body.errors[0].code).toBe(unknownSender.body.errors[0].code);
    expect(unknownSender.status).toBe(404);
    // A tenantId in a hub body is ignored: the hub is the token's tenant's.
    const hub = await c.post('/api/v1/hubs', { name: 'mine', description: 'd', tenantId: owner.tenantId });
    expect(hub.status, hub.text).toBe(200);
    expect(hub.body.tenantId).toBe(intruder.tenantId);
    const renamed = await c.put(`/api/v1/hubs/${own.hubId}`, { tenantId: owner.tenantId });
    expect(renamed.body.tenantId).toBe(intruder.tenantId);
    // A tenantId in a list query does not widen the list.
    for (const path of ['/api/v1/hubs', '/api/v1/integrations', '/api/v1/notifications']) {
      const listed = await c.get(`${path}?tenantId=${owner.tenantId}`);
      expect(listed.status, path).toBe(200);
      for (const item of listed.body.results) {
        if ('tenantId' in item) expect(item.tenantId, path).toBe(intruder.tenantId);
        if ('hubId' in item) expect(item.hubId, path).not.toBe(ids.hub);
      }
    }
    // The REST API takes the token from the Authorization header only, never from the query.
    const queried = await apiClient(engine.url, null).get(`/api/v1/hubs?access_token=${intruder.token}`);
    expect(queried.status).toBe(401);
  });

  it('keeps admin-only operations from tenant tokens', async () => {
    const create = await intruder.client.post('/api/v1/tenants', {
      name: 'x',
      accountHolderEmail: 'x@example.com',
    });
    expect(create.status).toBe(403);
    const ownClients = await intruder.client.post(`/api/v1/tenants/${intruder.tenantId}/clients`, {});
    expect(ownClients.status).toBe(403);
    const ownTenant = await intruder.client.get(`/api/v1/tenants/${intruder.tenantId}`);
    expect(ownTenant.status).toBe(200);
  });
});
