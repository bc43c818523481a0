// Bearer authentication's token cache against revocation, on a real SQLite store: a token verified
// before its client was revoked is not served from the cache afterwards, even when its lookup ran
// across the revocation.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/temp-dirs.js';
import type { Store } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { tenantFixture } from '../store/conformance/fixtures.js';
import { createAuthenticate, TOKEN_RECHECK_MS } from './auth.js';

const tempDir = useTempDirs();
const opened: Store[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A store with one tenant, one client and one token of it. */
async function storeWithToken() {
  const store = await openStore(`sqlite:${join(tempDir('hookster-auth-'), 'hookster.db')}`);
  opened.push(store);
  await store.migrate();
  const tenant = tenantFixture();
  await store.createTenant(tenant);
  const client = {
    clientId: 'client-1',
    tenantId: tenant.tenantId,
    secretHash: hash('secret'),
    scope: 'api',
    created: new Date().toISOString(),
  };
  await store.createClient(client);
  const token = 'token-of-client-1';
  const issued = await store.createToken(
    {
      tokenHash: hash(token),
      tenantId: tenant.tenantId,
      clientId: client.clientId,
      scope: 'api',
      expiresAt: Date.now() + 60_000,
    },
    client.secretHash,
  );
  expect(issued).toBe(true);
  return { store, tenant, client, token };
}

describe('createAuthenticate', () => {
  it("refuses a revoked client's token at once, even one cached before the revocation", async () => {
    const { store, tenant, client, token } = await storeWithToken();
    const authenticate = createAuthenticate(store, 'admin-token-for-the-test');
    expect(await authenticate(token)).toMatchObject({ kind: 'tenant', clientId: client.clientId });
    await store.deleteClient(tenant.tenantId, client.clientId);
    authenticate.forgetClient?.(client.clientId);
    expect(await authenticate(token)).toBeUndefined();
  });

  it('does not cache a token whose lookup read the store before a revocation that ended meanwhile', async () => {
    const { store, tenant, client, token } = await storeWithToken();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let read: () => void = () => undefined;
    const wasRead = new Promise<void>((resolve) => (read = resolve));
    // The lookup's answer is read before the revocation and handed over only after it.
    const slow: Store = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getToken') {
          return async (tokenHash: string) => {
            const record = await target.getToken(tokenHash);
            read();
            await gate;
            return record;
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const authenticate = createAuthenticate(slow, 'admin-token-for-the-test');
    const during = authenticate(token);
    await wasRead;
    await store.deleteClient(tenant.tenantId, client.clientId);
    authenticate.forgetClient?.(client.clientId);
    release();
    // The request that overlapped the revocation may pass; the next one must not.
    await during;
    expect(await authenticate(token)).toBeUndefined();
  });

  it('asks the store again after TOKEN_RECHECK_MS, so a revocation by another process is seen', async () => {
    const { store, tenant, client, token } = await storeWithToken();
    let clock = Date.now();
    const authenticate = createAuthenticate(store, 'admin-token-for-the-test', () => clock);
    expect(await authenticate(token)).toBeDefined();
    await store.deleteClient(tenant.tenantId, client.clientId);
    // This process was not told (no forgetClient): trusted until the recheck is due.
    expect(await authenticate(token)).toBeDefined();
    clock += TOKEN_RECHECK_MS;
    expect(await authenticate(token)).toBeUndefined();
  });
});
