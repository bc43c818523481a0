// Client credentials and tokens: POST /connect/token (form and JSON), Hubster's clientId form, secrets
// and tokens stored only as hashes, 30-day expiry, expired tokens refused.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { adminClient, apiClient, createTenantWithToken, type TenantFixture } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

let engine: RunningEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
});

describe('client credentials and tokens', () => {
  it('names the first client hubster.engine.api.<TENANTID> and a second one apart', async () => {
    expect(tenant.clientId).toBe(`hubster.engine.api.${tenant.tenantId.replace(/-/g, '').toUpperCase()}`);
    const second = await adminClient(engine).post(`/api/v1/tenants/${tenant.tenantId}/clients`, {});
    expect(second.status).toBe(200);
    expect(second.body.clientId).not.toBe(tenant.clientId);
    expect(second.body.clientId.startsWith(tenant.clientId)).toBe(true);
    expect(second.body.clientSecret).not.toBe(tenant.clientSecret);
  });

  it('gives each of several concurrent client requests for one tenant its own working credentials', async () => {
    // Before: each request picked the first free id, then inserted it; concurrent requests picked the
    // same one and all but one failed (a 500 on PostgreSQL, a 409 on SQLite).
    const admin = adminClient(engine);
    const created = await Promise.all(
      Array.from({ length: 12 }, () => admin.post(`/api/v1/tenants/${tenant.tenantId}/clients`, {})),
    );
    for (const response of created) expect(response.status, response.text).toBe(200);
    const clientIds = created.map((response) => response.body.clientId as string);
    expect(new Set(clientIds).size).toBe(clientIds.length);
    const anonymous = apiClient(engine.url, null);
    for (const response of created) {
      const token = await anonymous.post('/connect/token', {
        grant_type: 'client_credentials',
        client_id: response.body.clientId,
        client_secret: response.body.clientSecret,
      });
      expect(token.status, response.body.clientId).toBe(200);
    }
  });

  it('issues a 30-day Bearer token for form, JSON and HTTP Basic requests', async () => {
    const anonymous = apiClient(engine.url, null);
    const json = await anonymous.post('/connect/token', {
      grant_type: 'client_credentials',
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      expires_in: 2592000,
      token_type: 'Bearer',
      scope: 'hubster-engine-api',
    });
    expect(typeof json.body.access_token).toBe('string');
    expect(json.body.access_token).not.toBe(tenant.token);
    const hubs = await apiClient(engine.url, json.body.access_token).get('/api/v1/hubs');
    expect(hubs.status).toBe(200);
    const basic = await anonymous.raw('/connect/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${tenant.clientId}:${tenant.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(basic.status).toBe(200);
    expect(basic.body.token_type).toBe('Bearer');
    const wrongSecret = await anonymous.post('/connect/token', {
      grant_type: 'client_credentials',
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret + 'x',
    });
    expect(wrongSecret.status).toBe(401);
  });

  it('answers 401, not 500, to a client_id with a NUL character (form, JSON and HTTP Basic)', async () => {
    // PostgreSQL text cannot hold NUL: the lookup used to fail with a driver error there.
    const anonymous = apiClient(engine.url, null);
    const clientId = `${tenant.clientId}\u0000`;
    const form = await anonymous.raw('/connect/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${encodeURIComponent(clientId)}&client_secret=x`,
    });
    const json = await anonymous.post('/connect/token', {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: tenant.clientSecret,
    });
    const basic = await anonymous.raw('/connect/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${tenant.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    for (const response of [form, json, basic]) {
      expect(response.status, response.text).toBe(401);
      expect(response.body.status).toBe(401);
    }
  });

  it("lets the admin change a tenant's name and account holder e-mail, and nobody else", async () => {
    const admin = adminClient(engine);
    const path = `/api/v1/tenants/${tenant.tenantId}`;
    const updated = await admin.put(path, { accountHolderEmail: 'new-holder@example.com' });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({
      tenantId: tenant.tenantId,
      accountHolderEmail: 'new-holder@example.com',
    });
    expect((await admin.get(path)).body.accountHolderEmail).toBe('new-holder@example.com');
    const bad = await admin.put(path, { accountHolderEmail: 'not an address', name: ' ' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toHaveLength(2);
    // A tenant token: its own tenant is admin-only (403), another tenant does not exist for it (404).
    expect((await tenant.client.put(path, { name: 'Mine' })).status).toBe(403);
    const other = await createTenantWithToken(engine);
    expect((await tenant.client.put(`/api/v1/tenants/${other.tenantId}`, { name: 'Theirs' })).status).toBe(
      404,
    );
    expect((await admin.put(`/api/v1/tenants/${crypto.randomUUID()}`, { name: 'x' })).status).toBe(404);
  });

  it('stores secrets and tokens only as SHA-256 hashes', async () => {
    const store = await openStore(engine.databaseUrl);
    try {
      const hash = createHash('sha256').update(tenant.token).digest('hex');
      const record = await store.getToken(hash);
      expect(record).toMatchObject({ tenantId: tenant.tenantId, clientId: tenant.clientId });
      const expiresIn = (record?.expiresAt ?? 0) - Date.now();
      expect(expiresIn).toBeGreaterThan(2592000_000 - 120_000);
      expect(expiresIn).toBeLessThanOrEqual(2592000_000);
      const client = await store.getClient(tenant.clientId);
      expect(client?.secretHash).toBe(createHash('sha256').update(tenant.clientSecret).digest('hex'));
    } finally {
      await store.close();
    }
    if (engine.dbPath) {
      const files = [engine.dbPath, `${engine.dbPath}-wal`].filter(existsSync);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      expect(bytes.includes(Buffer.from(tenant.token))).toBe(false);
      expect(bytes.includes(Buffer.from(tenant.clientSecret))).toBe(false);
    }
  });

  it('refuses an expired token with 401', async () => {
    const expired = 'expired-token-for-the-test-0123456789';
    const store = await openStore(engine.databaseUrl);
    try {
      await store.createToken(
        {
          tokenHash: createHash('sha256').update(expired).digest('hex'),
          tenantId: tenant.tenantId,
          clientId: tenant.clientId,
          scope: 'hubster-engine-api',
          expiresAt: Date.now() - 1000,
        },
        createHash('sha256').update(tenant.clientSecret).digest('hex'),
      );
    } finally {
      await store.close();
    }
    const response = await apiClient(engine.url, expired).get('/api/v1/hubs');
    expect(response.status).toBe(401);
    expect(response.body.errors[0].code).toBe(102);
  });
});
