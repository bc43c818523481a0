// Open hub connections of an integration that may no longer receive over the websocket — deleted (with
// itself or its hub) or given a webhookUrl — or opened with a token of a revoked client are closed with
// the reason as the SignalR close error: at once when the change goes through this process's API,
// within a keep-alive period when another process made it (here: a write straight to the store).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_RECHECK_MS } from '../../src/api/auth.js';
import {
  adminClient,
  apiClient,
  createClientCredentials,
  createTenantWithToken,
  eventually,
  requestToken,
  setupHub,
  submitText,
  until,
  type Json,
  type TenantFixture,
  storeTenantToken,
} from '../support/client.js';
import { dropIsolatedSchema, isolatedTestDatabaseUrl } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub, type RawHubClient } from './raw-hub-client.js';

/**
 * The close record and the websocket close (code, reason) of a connection the engine closed, within
 * `timeoutMs`.
 */
async function closedWith(client: RawHubClient, timeoutMs: number) {
  const closed = await Promise.race([
    client.closed,
    new Promise<never>((_resolve, reject) =>
      setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs),
    ),
  ]);
  const record = client.messages.find((message) => message.type === 7);
  return {
    code: closed.code,
    reason: closed.reason,
    error: record?.error,
    allowReconnect: record?.allowReconnect,
  };
}

/** A second client of the tenant and a token of it. */
async function secondClientToken(engine: InProcessEngine, tenantId: string) {
  const credentials = await createClientCredentials(engine, tenantId);
  const issued = await requestToken(engine.url, credentials);
  expect(issued.status).toBe(200);
  return { clientId: credentials.clientId, token: issued.token! };
}

describe('connections of a changed integration, through the API (keep-alive period 60 s)', () => {
  let engine: InProcessEngine;
  let tenant: TenantFixture;
  // PostgreSQL in the suite's PostgreSQL run (a schema of its own), else SQLite.
  const databaseUrl = isolatedTestDatabaseUrl();

  beforeAll(async () => {
    // A 60 s period: a close within a few seconds can only come from the change itself.
    engine = await startInProcessEngine({
      databaseUrl,
      gateway: { pingIntervalMs: 60_000, clientTimeoutMs: 120_000 },
    });
    tenant = await createTenantWithToken(engine);
  });

  afterAll(async () => {
    await engine?.stop();
    if (databaseUrl !== undefined) await dropIsolatedSchema(databaseUrl);
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

  it('closes the connection when its token expires, and refuses a new one with that token', async () => {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    // A token of the tenant that expires in 3 s (POST /connect/token issues 30-day ones).
    const expiresAt = Date.now() + 3_000;
    const token = await storeTenantToken(engine.store, tenant, expiresAt);
    const client = await connectRawHub(engine.url, { token, iId: agent.integrationId });
    const { conversationId } = await hub.openConversation();
    await submitText(tenant.client, conversationId, 'before expiry');
    await client.waitFor(() => client.activities.length === 1, 10_000, 'the push before expiry');
    const closed = await closedWith(client, 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/token has expired/);
    // A client that refreshes its token (accessTokenFactory) may reconnect at once.
    expect(closed.allowReconnect).toBe(true);
    await expect(connectRawHub(engine.url, { token, iId: agent.integrationId })).rejects.toMatchObject({
      status: 401,
    });
    const fresh = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    fresh.close();
    await fresh.closed;
  });

  it("closes the connections opened with a revoked client's token, and keeps the tenant's others", async () => {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const second = await secondClientToken(engine, tenant.tenantId);
    const revoked = await connectRawHub(engine.url, { token: second.token, iId: agent.integrationId });
    const kept = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });

    const deleted = await adminClient(engine).delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(second.clientId)}`,
    );
    expect(deleted.status, deleted.text).toBe(200);
    const closed = await closedWith(revoked, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/token was revoked/);
    expect(closed.allowReconnect).toBeUndefined();
    await expect(
      connectRawHub(engine.url, { token: second.token, iId: agent.integrationId }),
    ).rejects.toMatchObject({ status: 401 });

    const { conversationId } = await hub.openConversation();
    await submitText(tenant.client, conversationId, 'after the revocation');
    await kept.waitFor(() => kept.activities.length === 1, 10_000, 'the push on the kept connection');
    expect(kept.ws.readyState).toBe(kept.ws.OPEN);
    kept.close();
    await kept.closed;
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
  it('closes the connection, and refuses its token, soon after its client is deleted straight in the store', async () => {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const second = await secondClientToken(engine, tenant.tenantId);
    const client = await connectRawHub(engine.url, { token: second.token, iId: agent.integrationId });
    const api = apiClient(engine.url, second.token);
    // Verified, and cached, before the revocation.
    expect((await api.get('/api/v1/hubs')).status).toBe(200);

    expect(await engine.store.deleteClient(tenant.tenantId, second.clientId)).toBe(1);
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.error).toMatch(/token was revoked/);
    // This process was not told: its cache trusts the token for at most TOKEN_RECHECK_MS.
    const refusedAt = Date.now();
    await eventually(
      async () => ((await api.get('/api/v1/hubs')).status === 401 ? true : undefined),
      TOKEN_RECHECK_MS + 5_000,
      'the revoked token to be refused',
    );
    expect(Date.now() - refusedAt).toBeLessThan(TOKEN_RECHECK_MS + 5_000);
    expect((await tenant.client.get('/api/v1/hubs')).status).toBe(200);
  });
});

describe('a change racing an upgrade whose access check is still reading the store', () => {
  let engine: InProcessEngine;
  let tenant: TenantFixture;
  /** While set, the gateway's conversation read (an upgrade with cId) waits for it: a slow round trip. */
  let hold: { reached: () => void; released: Promise<void> } | undefined;
  let integrationReads = 0;

  beforeAll(async () => {
    engine = await startInProcessEngine({
      gateway: { pingIntervalMs: 60_000, clientTimeoutMs: 120_000 },
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'getConversation') {
              return async (id: string) => {
                const waiting = hold;
                if (waiting) {
                  waiting.reached();
                  await waiting.released;
                }
                return target.getConversation(id);
              };
            }
            if (prop === 'getIntegration') {
              return (id: string) => {
                integrationReads++;
                return target.getIntegration(id);
              };
            }
            return Reflect.get(target, prop, receiver) as unknown;
          },
        }),
    });
    tenant = await createTenantWithToken(engine);
  });

  afterAll(async () => {
    await engine?.stop();
  });

  it('closes a connection accepted after its integration was deleted by a request answered meanwhile', async () => {
    const hub = await setupHub(tenant.client);
    const { conversationId } = await hub.openConversation();
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    let release = (): void => undefined;
    const reached = new Promise<void>((resolve) => {
      hold = { reached: resolve, released: new Promise<void>((done) => (release = done)) };
    });
    const connecting = connectRawHub(engine.url, {
      token: tenant.token,
      iId: agent.integrationId as string,
      cId: conversationId,
      // Resolve at the upgrade: the connection may be closed before a handshake could be answered.
      handshake: null,
    });
    // The upgrade has read the integration (still there) and now waits for the conversation.
    await reached;
    hold = undefined;
    const deleted = await tenant.client.delete(`/api/v1/integrations/${agent.integrationId}`);
    expect(deleted.status, deleted.text).toBe(200);
    release();
    const client = await connecting;
    // Closed before any handshake: no close record, the reason is the websocket close's.
    const closed = await closedWith(client, 5_000);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/no longer exists/);
  });

  it("checks only the deleted hub's connections, not every connected integration", async () => {
    const busy = await setupHub(tenant.client);
    const clients: RawHubClient[] = [];
    for (let i = 0; i < 20; i++) {
      const agent: Json = await busy.addIntegration({
        channelId: 'Direct',
        configuration: { integrationType: 'Agent' },
      });
      clients.push(
        await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId as string }),
      );
    }
    const empty = await setupHub(tenant.client);
    const before = integrationReads;
    const deleted = await tenant.client.delete(`/api/v1/hubs/${empty.hubId}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(integrationReads - before).toBe(0);
    for (const client of clients) expect(client.ws.readyState).toBe(client.ws.OPEN);
    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => client.closed));
  });
});
