// Open hub connections of an integration that may no longer receive over the websocket — deleted (with
// itself or its hub) or given a webhookUrl — are closed with the reason as the SignalR close
// error: at once when the change goes through this process's API, within a keep-alive period when
// another process made it (here: a write straight to the store).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  setupHub,
  submitText,
  until,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub, type RawHubClient } from './raw-hub-client.js';

/** The close record and the websocket close of a connection the engine closed, within `timeoutMs`. */
async function closedWith(client: RawHubClient, timeoutMs: number) {
  const closed = await Promise.race([
    client.closed,
    new Promise<never>((_resolve, reject) =>
      setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs),
    ),
  ]);
  const record = client.messages.find((message) => message.type === 7);
  return { code: closed.code, error: record?.error, allowReconnect: record?.allowReconnect };
}

describe('connections of a changed integration, through the API (keep-alive period 60 s)', () => {
  let engine: InProcessEngine;
  let tenant: TenantFixture;

  beforeAll(async () => {
    // A 60 s period: a close within a few seconds can only come from the change itself.
    engine = await startInProcessEngine({ gateway: { pingIntervalMs: 60_000, clientTimeoutMs: 120_000 } });
    tenant = await createTenantWithToken(engine);
  });

  afterAll(async () => {
    await engine?.stop();
  });

  async function connectedAgent() {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    return { hub, agent, client };
  }

  it('closes the connection when the integration is given a webhookUrl, and keeps the others', async () => {
    const { hub, agent, client } = await connectedAgent();
    const bot: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Bot' },
    });
    const other = await connectRawHub(engine.url, { token: tenant.token, iId: bot.integrationId });

    const updated = await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, {
      name: agent.name,
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', webhookUrl: 'https://example.com/hook' },
    });
    expect(updated.status, updated.text).toBe(200);
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/webhookUrl/);
    expect(closed.allowReconnect).toBeUndefined();

    // The bot's connection is untouched and still receives.
    const { conversationId } = await hub.openConversation();
    await submitText(tenant.client, conversationId, 'still here');
    await other.waitFor(() => other.activities.length === 1, 10_000, 'the push to the bot');
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    other.close();
    await other.closed;
  });

  it('keeps the connection of a paused integration (held, not revoked)', async () => {
    const { agent, client } = await connectedAgent();
    const updated = await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, {
      name: agent.name,
      channelId: 'Direct',
      statusId: 3002,
      configuration: { integrationType: 'Agent' },
    });
    expect(updated.status, updated.text).toBe(200);
    // The update's answer follows the check it made: the connection is still open afterwards.
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(client.messages.filter((message) => message.type === 7)).toEqual([]);
    client.close();
    await client.closed;
  });

  it('closes the connection when the integration is deleted, and refuses a new one', async () => {
    const { agent, client } = await connectedAgent();
    const deleted = await tenant.client.delete(`/api/v1/integrations/${agent.integrationId}`);
    expect(deleted.status, deleted.text).toBe(200);
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/no longer exists/);
    await expect(
      connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("closes the connections of a deleted hub's integrations", async () => {
    const { hub, client } = await connectedAgent();
    const deleted = await tenant.client.delete(`/api/v1/hubs/${hub.hubId}`);
    expect(deleted.status, deleted.text).toBe(200);
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/no longer exists/);
  });

  it('keeps the connection through an update that changes nothing it depends on (a rename)', async () => {
    const { agent, client } = await connectedAgent();
    const updated = await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, {
      name: `${agent.name as string}-renamed`,
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', echo: true },
    });
    expect(updated.status, updated.text).toBe(200);
    // The update's answer follows the check it made: the connection is still open afterwards.
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(client.messages.filter((message) => message.type === 7)).toEqual([]);
    client.close();
    await client.closed;
  });
});

describe('connections of an integration deleted by another process (keep-alive period 100 ms)', () => {
  let engine: InProcessEngine;
  let tenant: TenantFixture;

  beforeAll(async () => {
    engine = await startInProcessEngine({ gateway: { pingIntervalMs: 100 } });
    tenant = await createTenantWithToken(engine);
  });

  afterAll(async () => {
    await engine?.stop();
  });

  it('closes the connection within a keep-alive period of a delete written straight to the store', async () => {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    await engine.store.deleteIntegration(agent.integrationId as string);
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/no longer exists/);
    await until('the engine to forget the connection', () => engine.gateway.connectionCount() === 0, 5_000);
  });
});
