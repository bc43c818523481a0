// Runs the Store conformance suite on SQLite files, plus what is SQLite's own: WAL, the migration
// ledger, delivery ids, and a lane backlog that costs nothing to claim around.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { claimRequest, makeWorld, planTo, record, webhookTo } from '../conformance/fixtures.js';
import { describeStoreConformance } from '../conformance/suite.js';
import type { Store } from '../contract.js';
import { openStore } from '../open.js';
import { createSqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const paths = new WeakMap<Store, string>();
let counter = 0;

function openAt(path: string): Store {
  const store = createSqliteStore(path);
  paths.set(store, path);
  return store;
}

describeStoreConformance(
  'sqlite',
  async () => openAt(join(root, `store-${++counter}`, 'hookster.db')),
  async (closed) => openAt(paths.get(closed)!),
);

describe('SQLite store', () => {
  it('runs in WAL mode with every migration recorded once in the ledger', async () => {
    const path = join(root, 'ledger', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    await store.migrate();
    await store.close();
    const again = createSqliteStore(path);
    await again.migrate();
    await again.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const ledger = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(ledger).toEqual([{ version: 1, name: '0001_init' }]);
  });

  it('answers a first write that changes nothing after reopening a cleanly closed file', async () => {
    const path = join(root, 'reopen-noop', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    await store.close();
    const again = createSqliteStore(path);
    await again.migrate();
    expect(await again.retryDelivery('00000000-0000-4000-8000-000000000001', Date.now())).toBe(false);
    expect(await again.recordAttempts([])).toEqual([]);
    await again.close();
  });

  it('shares one file between two stores, as an API process and a worker process do', async () => {
    const path = join(root, 'shared', 'hookster.db');
    const api = createSqliteStore(path);
    const worker = createSqliteStore(path);
    await api.migrate();
    await worker.migrate();
    try {
      const w = await makeWorld(api);
      const first = await api.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
      const [claimed] = await worker.claimDeliveries(claimRequest());
      expect(claimed?.deliveryId).toBe(first.deliveryIds[0]);
      await worker.recordAttempts([record(claimed!, { status: 'delivered' })]);
      expect((await api.getDelivery(first.deliveryIds[0]!))?.status).toBe('delivered');
      // A pause made through one store is seen by the other's cached routing view.
      await worker.updateIntegration({ ...w.customer, statusId: 3002 });
      const held = await api.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
      expect(held.held).toEqual([true]);
      expect(await worker.claimDeliveries(claimRequest())).toEqual([]);
    } finally {
      await api.close();
      await worker.close();
    }
  });

  it('refuses to work before migrate() with a clear error', async () => {
    const store = createSqliteStore(join(root, 'unmigrated', 'hookster.db'));
    await expect(async () => store.getTenant('x')).rejects.toThrow(/migrate/);
    await store.close();
  });

  it('opens sqlite: URLs and rejects unknown schemes', async () => {
    const store = await openStore(`sqlite:${join(root, 'url', 'hookster.db')}`);
    expect(store.kind).toBe('sqlite');
    await store.migrate();
    await store.close();
    await expect(openStore('mysql://localhost/db')).rejects.toThrow(/Unsupported HOOKSTER_DATABASE_URL/);
    await expect(openStore('sqlite:')).rejects.toThrow(/names no SQLite file/);
  });
});
