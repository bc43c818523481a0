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
import { unlock, writeLockOf } from './write-lock.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-sqlite-'));
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
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
    expect(ledger).toEqual([
      { version: 1, name: '0001_init' },
      { version: 2, name: '0002_websocket_waiting' },
      { version: 3, name: '0003_email_windows' },
    ]);
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

  it('keeps the other writes of a batch when one fails, and answers each with its own outcome', async () => {
    const store = createSqliteStore(join(root, 'batch', 'hookster.db'));
    await store.migrate();
    try {
      const w = await makeWorld(store);
      const plan = planTo([webhookTo(w.customer)]);
      // Queued in one event-loop turn, so they share one transaction: the failure comes second.
      const [first, missing, duplicate, third] = await Promise.allSettled([
        store.submitActivity(w.conversation.conversationId, plan),
        store.submitActivity('00000000-0000-4000-8000-00000000beef', plan),
        store.createTenant(w.tenant),
        store.submitActivity(w.conversation.conversationId, plan),
      ]);
      expect(first.status).toBe('fulfilled');
      expect(missing).toMatchObject({ status: 'rejected', reason: { status: 404 } });
      expect(duplicate.status).toBe('rejected');
      expect(third.status).toBe('fulfilled');
      const ids = [first, third].map((r) => (r.status === 'fulfilled' ? r.value.deliveryIds[0]! : ''));
      for (const id of ids) expect((await store.getDelivery(id))?.status).toBe('pending');
      const activities = await store.listActivities(w.conversation.conversationId, { fromEventId: 0 });
      const submitted = [first, third].map((r) =>
        r.status === 'fulfilled' ? r.value.plan.activity.eventId : 0,
      );
      expect(activities.map((a) => a.eventId)).toEqual(submitted);
    } finally {
      await store.close();
    }
  });

  it('waits without blocking for a write lock another thread holds, and writes once it is released', async () => {
    const path = join(root, 'locked', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    const lock = new Int32Array(writeLockOf(path));
    try {
      const w = await makeWorld(store);
      Atomics.store(lock, 0, 1); // as the dispatch thread does around its transaction
      let settled = false;
      const write = store
        .submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]))
        .finally(() => (settled = true));
      // The flush runs on the next turn, finds the lock taken and waits without blocking: this test's
      // own turns keep running.
      await turns(3);
      expect(settled).toBe(false);
      // Nothing was committed meanwhile (reads do not take the lock).
      expect(await store.listActivities(w.conversation.conversationId, { fromEventId: 0 })).toEqual([]);
      unlock(lock);
      expect((await write).deliveryIds).toHaveLength(1);
      // A release whose wake-up was missed still lets the write through within the wait bound.
      Atomics.store(lock, 0, 1);
      const late = store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
      await turns(3); // the write is waiting now
      Atomics.store(lock, 0, 0); // released without notify
      const started = Date.now();
      expect((await late).deliveryIds).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      Atomics.store(lock, 0, 0);
      await store.close();
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
