// Client credentials listed and revoked (admin): GET and DELETE /api/v1/tenants/{tenantId}/clients…
// A revoked client's tokens are refused at once, even when this process had already verified them,
// its secret gets no new token, and a token requested while the revocation runs does not survive it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  apiClient,
  createClientCredentials,
  createTenantWithToken,
  eventually,
  requestToken,
  setupHub,
  type Json,
  type ApiClient,
  type ClientCredentials,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { TOKEN_RECHECK_MS } from '../../src/api/auth.js';
import { connectRawHub } from '../gateway/raw-hub-client.js';

let engine: RunningEngine;
let admin: ApiClient;

beforeAll(async () => {
  engine = await startEngine();
  admin = adminClient(engine);
});

afterAll(async () => {
  await engine?.stop();
});

const newClient = (tenantId: string): Promise<ClientCredentials> => createClientCredentials(engine, tenantId);
const tokenFor = (client: ClientCredentials) => requestToken(engine.url, client);

describe('listing and revoking client credentials', () => {
  let tenant: TenantFixture;

  beforeAll(async () => {
    tenant = await createTenantWithToken(engine);
  });

  it("lists the tenant's clients, oldest first, without their secrets", async () => {
    const other = await createTenantWithToken(engine);
    const second = await newClient(tenant.tenantId);
    const listed = await admin.get(`/api/v1/tenants/${tenant.tenantId}/clients`);
    expect(listed.status, listed.text).toBe(200);
    const ids = (listed.body.results as { clientId: string }[]).map((c) => c.clientId);
    expect(ids.slice(0, 2)).toEqual([tenant.clientId, second.clientId]);
    expect(ids).not.toContain(other.clientId);
    expect(listed.body.total).toBe(ids.length);
    expect(listed.body.pageNumber).toBe(0);
    expect(Object.keys(listed.body.results[0]).sort()).toEqual(['clientId', 'created', 'scope', 'tenantId']);
    expect(listed.text).not.toContain(second.clientSecret);

    const paged = await admin.get(`/api/v1/tenants/${tenant.tenantId}/clients?pageSize=1&pageNumber=1`);
    expect(paged.status, paged.text).toBe(200);
    expect(paged.body.results.map((c: { clientId: string }) => c.clientId)).toEqual([second.clientId]);
    expect(paged.body.total).toBe(ids.length);
  });

  it('refuses the list and the revocation to a tenant token (403) and hides other tenants (404)', async () => {
    const other = await createTenantWithToken(engine);
    const own = await tenant.client.get(`/api/v1/tenants/${tenant.tenantId}/clients`);
    expect(own.status, own.text).toBe(403);
    const foreign = await tenant.client.get(`/api/v1/tenants/${other.tenantId}/clients`);
    expect(foreign.status, foreign.text).toBe(404);
    const revoke = await tenant.client.delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(tenant.clientId)}`,
    );
    expect(revoke.status, revoke.text).toBe(403);
    const unknownTenant = await admin.get(`/api/v1/tenants/${randomUUID()}/clients`);
    expect(unknownTenant.status, unknownTenant.text).toBe(404);
    const badPage = await admin.get(`/api/v1/tenants/${tenant.tenantId}/clients?pageSize=0`);
    expect(badPage.status, badPage.text).toBe(400);
    // The tenant's own token still works: nothing was revoked.
    expect((await tenant.client.get('/api/v1/hubs')).status).toBe(200);
  });

  it("revokes a client: its tokens are refused at once, its secret gets none, the tenant's others work", async () => {
    const revoked = await newClient(tenant.tenantId);
    const kept = await newClient(tenant.tenantId);
    const first = await tokenFor(revoked);
    const second = await tokenFor(revoked);
    const other = await tokenFor(kept);
    expect([first.status, second.status, other.status]).toEqual([200, 200, 200]);
    // Verified (and cached) by this process before the revocation.
    expect((await apiClient(engine.url, first.token!).get('/api/v1/hubs')).status).toBe(200);

    const deleted = await admin.delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(revoked.clientId)}`,
    );
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toMatchObject({
      clientId: revoked.clientId,
      tenantId: tenant.tenantId,
      revokedTokens: 2,
    });
    expect(deleted.text).not.toContain(revoked.clientSecret);

    for (const token of [first.token!, second.token!]) {
      const refused = await apiClient(engine.url, token).get('/api/v1/hubs');
      expect(refused.status, refused.text).toBe(401);
    }
    expect((await tokenFor(revoked)).status).toBe(401);
    expect((await apiClient(engine.url, other.token!).get('/api/v1/hubs')).status).toBe(200);
    expect((await tenant.client.get('/api/v1/hubs')).status).toBe(200);

    const listed = await admin.get(`/api/v1/tenants/${tenant.tenantId}/clients?pageSize=100`);
    const ids = (listed.body.results as { clientId: string }[]).map((c) => c.clientId);
    expect(ids).not.toContain(revoked.clientId);
    expect(ids).toContain(kept.clientId);

    const again = await admin.delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(revoked.clientId)}`,
    );
    expect(again.status, again.text).toBe(404);
  });

  it("does not revoke another tenant's client named through this tenant", async () => {
    const other = await createTenantWithToken(engine);
    const response = await admin.delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(other.clientId)}`,
    );
    expect(response.status, response.text).toBe(404);
    expect((await other.client.get('/api/v1/hubs')).status).toBe(200);
    expect((await tokenFor({ clientId: other.clientId, clientSecret: other.clientSecret })).status).toBe(200);
  });

  it('leaves no working token from token requests that ran during the revocation', async () => {
    const target = await newClient(tenant.tenantId);
    const requests = Array.from({ length: 24 }, () => tokenFor(target));
    const revocation = admin.delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(target.clientId)}`,
    );
    const [issued, deleted] = await Promise.all([Promise.all(requests), revocation]);
    expect(deleted.status, deleted.text).toBe(200);
    for (const answer of issued) expect([200, 401]).toContain(answer.status);
    for (const answer of issued.filter((a) => a.status === 200)) {
      const refused = await apiClient(engine.url, answer.token!).get('/api/v1/hubs');
      expect(refused.status, refused.text).toBe(401);
    }
  });

  it('gives the first id back to a client created after the revocation, with a new secret', async () => {
    const fresh = await createTenantWithToken(engine);
    const revoke = await admin.delete(
      `/api/v1/tenants/${fresh.tenantId}/clients/${encodeURIComponent(fresh.clientId)}`,
    );
    expect(revoke.status, revoke.text).toBe(200);
    const again = await newClient(fresh.tenantId);
    expect(again.clientId).toBe(fresh.clientId);
    // The old secret does not work for the new client; the old token stays refused.
    expect((await tokenFor({ clientId: fresh.clientId, clientSecret: fresh.clientSecret })).status).toBe(401);
    expect((await fresh.client.get('/api/v1/hubs')).status).toBe(401);
    expect((await tokenFor(again)).status).toBe(200);
  });
});

describe('a revocation served by another engine process on the same database', () => {
  let first: RunningEngine;
  let other: RunningEngine;

  beforeAll(async () => {
    // Two API processes on one SQLite file (or one PostgreSQL schema), as behind a load balancer; the
    // second checks its websocket connections every 200 ms.
    first = await startEngine({ role: 'api' });
    other = await startEngine({
      role: 'api',
      ...(first.dbPath === undefined ? { databaseUrl: first.databaseUrl } : { dbPath: first.dbPath }),
      adminToken: first.adminToken,
      env: { HOOKSTER_WS_PING_INTERVAL: '200ms' },
    });
  });

  afterAll(async () => {
    await other?.stop();
    await first?.stop();
  });

  it('is seen by this process within TOKEN_RECHECK_MS, and its websocket connection is closed', async () => {
    const tenant = await createTenantWithToken(first);
    const revoked = await createClientCredentials(first, tenant.tenantId);
    const issued = await requestToken(first.url, revoked);
    expect(issued.status).toBe(200);
    const token = issued.token!;
    const elsewhere = apiClient(other.url, token);
    // Verified, and cached, by the other process before the revocation.
    expect((await elsewhere.get('/api/v1/hubs')).status).toBe(200);
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const connection = await connectRawHub(other.url, { token, iId: agent.integrationId });

    const deleted = await adminClient(first).delete(
      `/api/v1/tenants/${tenant.tenantId}/clients/${encodeURIComponent(revoked.clientId)}`,
    );
    expect(deleted.status, deleted.text).toBe(200);
    const revokedAt = Date.now();
    await eventually(
      async () => ((await elsewhere.get('/api/v1/hubs')).status === 401 ? true : undefined),
      TOKEN_RECHECK_MS + 5_000,
      'the other process to refuse the revoked token',
    );
    const closed = await Promise.race([
      connection.closed,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error('the connection is still open')), 10_000),
      ),
    ]);
    expect(closed.code).toBe(1008);
    expect(connection.messages.find((message) => message.type === 7)?.error).toMatch(/token was revoked/);
    expect(Date.now() - revokedAt).toBeLessThan(TOKEN_RECHECK_MS + 5_000);
    // The tenant's other token still works on both processes.
    expect((await apiClient(other.url, tenant.token).get('/api/v1/hubs')).status).toBe(200);
  });
});
