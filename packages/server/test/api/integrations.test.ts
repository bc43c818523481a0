// Integrations through the real engine: the spec's System and Direct examples, keys, regenerateKeys,
// key casing, unique names, the update alias, list and delete.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  createTenantWithToken,
  setupHub,
  type HubFixture,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

const KEY = /^[0-9A-F]{32}$/;
let engine: RunningEngine;
let tenant: TenantFixture;
let hub: HubFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
  hub = await setupHub(tenant.client);
});

afterAll(async () => {
  await engine?.stop();
});

describe('integrations', () => {
  it('creates and reads back the System example with signing keys', async () => {
    const created = await tenant.client.post(`/api/v1/integrations/hubs/${hub.hubId}`, {
      channelId: 'System',
      name: 'My Webhook',
      configuration: {
        webhookUrl: 'https://hooks.example.com/hubster/activities',
        events: ['message', 'message:customer'],
      },
    });
    expect(created.status).toBe(200);
    const body = created.body;
    expect(body).toMatchObject({
      hubId: hub.hubId,
      integrationTypeId: 'System',
      channelId: 'System',
      name: 'My Webhook',
      statusId: 3000,
      configuration: {
        webhookUrl: 'https://hooks.example.com/hubster/activities',
        events: ['message', 'message:customer'],
      },
    });
    expect(body.integrationId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(body.configuration.publicSigningKey).toMatch(KEY);
    expect(body.configuration.privateSigningKey).toMatch(KEY);
    expect(body.configuration.publicSigningKey).not.toBe(body.configuration.privateSigningKey);
    const read = await tenant.client.get(`/api/v1/integrations/${body.integrationId}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(body);
  });

  it('creates the Direct example with keys given in any case and returns them in camelCase', async () => {
    const created = await tenant.client.post(`/api/v1/integrations/hubs/${hub.hubId}`, {
      channelId: 'Direct',
      name: 'My Agent Desk',
      configuration: {
        IntegrationType: 'Agent',
        Echo: true,
        WebhookUrl: 'https://app.example.org/api/hubster/direct',
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      integrationTypeId: 'Agent',
      channelId: 'Direct',
      configuration: {
        integrationType: 'Agent',
        echo: true,
        webhookUrl: 'https://app.example.org/api/hubster/direct',
      },
    });
    expect(Object.keys(created.body.configuration)).not.toContain('WebhookUrl');
    expect(created.body.configuration.publicSigningKey).toMatch(KEY);
    expect(created.body.configuration.privateSigningKey).toMatch(KEY);
    const read = await tenant.client.get(`/api/v1/integrations/${created.body.integrationId}`);
    expect(read.body).toEqual(created.body);
  });

  it('creates a websocket-mode Direct integration without keys', async () => {
    const created = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Customer' },
    });
    expect(created.integrationTypeId).toBe('Customer');
    expect(created.configuration.publicSigningKey).toBeUndefined();
  });

  it('changes both keys on regenerateKeys and keeps them otherwise', async () => {
    const created = await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: 'https://a.example.com/h', events: ['message'] },
    });
    const id = created.integrationId;
    const kept = await tenant.client.put(`/api/v1/integrations/${id}`, {
      configuration: { webhookUrl: 'https://b.example.com/h', events: ['message:bot'] },
    });
    expect(kept.status).toBe(200);
    expect(kept.body.configuration).toMatchObject({
      webhookUrl: 'https://b.example.com/h',
      events: ['message:bot'],
      publicSigningKey: created.configuration.publicSigningKey,
      privateSigningKey: created.configuration.privateSigningKey,
    });
    const rotated = await tenant.client.put(`/api/v1/integrations/${id}`, {
      configuration: { webhookUrl: 'https://b.example.com/h', events: ['message:bot'], regenerateKeys: true },
    });
    expect(rotated.status).toBe(200);
    const keys = rotated.body.configuration;
    expect(keys.publicSigningKey).toMatch(KEY);
    expect(keys.privateSigningKey).toMatch(KEY);
    expect(keys.publicSigningKey).not.toBe(created.configuration.publicSigningKey);
    expect(keys.privateSigningKey).not.toBe(created.configuration.privateSigningKey);
    expect(keys.regenerateKeys).toBeUndefined();
    const read = await tenant.client.get(`/api/v1/integrations/${id}`);
    expect(read.body.configuration.privateSigningKey).toBe(keys.privateSigningKey);
  });

  it('updates through the documented POST /api/v1/integrations/hubs/{integrationId} alias', async () => {
    const created = await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: 'https://a.example.com/h', events: ['message'] },
    });
    const updated = await tenant.client.post(`/api/v1/integrations/hubs/${created.integrationId}`, {
      name: 'renamed-by-alias',
      statusId: 3002,
      configuration: { webhookUrl: 'https://c.example.com/h', events: ['message:agent'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      integrationId: created.integrationId,
      name: 'renamed-by-alias',
      statusId: 3002,
      configuration: { webhookUrl: 'https://c.example.com/h', events: ['message:agent'] },
    });
  });

  it('refuses a second integration with the same name in a hub', async () => {
    const body = { channelId: 'Direct', name: 'Same Name', configuration: { integrationType: 'Bot' } };
    expect((await tenant.client.post(`/api/v1/integrations/hubs/${hub.hubId}`, body)).status).toBe(200);
    const again = await tenant.client.post(`/api/v1/integrations/hubs/${hub.hubId}`, body);
    expect(again.status).toBe(400);
    expect(again.body.errors[0].code).toBe(700);
  });

  it('lists the integrations of a hub paginated and deletes one', async () => {
    const other = await setupHub(tenant.client);
    const a = await other.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Bot' } });
    await other.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
    const page = await tenant.client.get(`/api/v1/integrations?hubId=${other.hubId}&pageSize=1`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ pageNumber: 0, pageSize: 1, total: 2 });
    expect(page.body.results).toHaveLength(1);
    const removed = await tenant.client.delete(`/api/v1/integrations/${a.integrationId}`);
    expect(removed.status).toBe(200);
    expect((await tenant.client.get(`/api/v1/integrations/${a.integrationId}`)).status).toBe(404);
    const after = await tenant.client.get(`/api/v1/integrations?hubId=${other.hubId}`);
    expect(after.body.total).toBe(1);
  });

  it('lists the integrations of a hub with one channel type as a plain array, by name or number', async () => {
    const other = await setupHub(tenant.client);
    const system = await other.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: 'https://hooks.example.com/a', events: ['message'] },
    });
    const bot = await other.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Bot' },
    });
    const agent = await other.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });

    const direct = await tenant.client.get(`/api/v1/integrations/hubs/${other.hubId}/Direct`);
    expect(direct.status).toBe(200);
    expect(direct.body.map((i: { integrationId: string }) => i.integrationId)).toEqual([
      bot.integrationId,
      agent.integrationId,
    ]);
    const systems = await tenant.client.get(`/api/v1/integrations/hubs/${other.hubId}/3`);
    expect(systems.status).toBe(200);
    expect(systems.body).toEqual([
      (await tenant.client.get(`/api/v1/integrations/${system.integrationId}`)).body,
    ]);
    expect((await tenant.client.get(`/api/v1/integrations/hubs/${other.hubId}/webchat`)).body).toEqual([]);

    const unknown = await tenant.client.get(`/api/v1/integrations/hubs/${other.hubId}/Pigeon`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].description).toContain('channelType');
    const foreign = await createTenantWithToken(engine);
    expect((await foreign.client.get(`/api/v1/integrations/hubs/${other.hubId}/Direct`)).status).toBe(404);
  });

  it('takes integrationTypeId as the Direct type and refuses one that contradicts the integration', async () => {
    const client = tenant.client;
    const create = (body: Record<string, unknown>) =>
      client.post(`/api/v1/integrations/hubs/${hub.hubId}`, { name: `typed ${Math.random()}`, ...body });

    const bot = await create({ channelId: 'Direct', integrationTypeId: 'Bot', configuration: {} });
    expect(bot.status).toBe(200);
    expect(bot.body).toMatchObject({ integrationTypeId: 'Bot', configuration: { integrationType: 'Bot' } });
    const numbered = await create({ channelId: 1, integrationTypeId: 3, configuration: {} });
    expect(numbered.body).toMatchObject({ integrationTypeId: 'Agent' });

    const conflicting = await create({
      channelId: 'Direct',
      integrationTypeId: 'Bot',
      configuration: { integrationType: 'Agent' },
    });
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.errors[0].description).toContain('integrationTypeId');
    const system = await create({
      channelId: 'System',
      integrationTypeId: 'Agent',
      configuration: { webhookUrl: 'https://hooks.example.com/t', events: ['message'] },
    });
    expect(system.status).toBe(400);
    expect(system.body.errors[0].description).toContain('integrationTypeId');
    const unknown = await create({ channelId: 'Direct', integrationTypeId: 'Pigeon', configuration: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e: { description: string }) => e.description).join()).toContain(
      "'integrationTypeId' has an unknown value 'Pigeon'",
    );

    const changed = await client.put(`/api/v1/integrations/${bot.body.integrationId}`, {
      integrationTypeId: 'Agent',
    });
    expect(changed.status).toBe(400);
    expect(changed.body.errors[0].description).toContain('integrationTypeId');
    const roundTrip = await client.put(`/api/v1/integrations/${bot.body.integrationId}`, bot.body);
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.body.integrationTypeId).toBe('Bot');
  });

  it('lets the admin create a hub for a tenant and read its integrations', async () => {
    const admin = adminClient(engine);
    const adminHub = await setupHub(admin, tenant.tenantId);
    const created = await adminHub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const seen = await tenant.client.get(`/api/v1/integrations/${created.integrationId}`);
    expect(seen.status).toBe(200);
  });
});
