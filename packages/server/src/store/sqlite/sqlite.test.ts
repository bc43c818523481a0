// Runs the Store conformance suite on SQLite files, plus what is SQLite's own: WAL, the migration
// ledger, delivery ids, and a lane backlog that costs nothing to claim around.

import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  claimRequest,
  deliverAll,
  failAll,
  makeWorld,
  newConversation,
  page,
  planTo,
  record,
  submitAcross,
  systemFixture,
  tenantFixture,
  webhookTo,
  websocketTo,
  type World,
} from '../conformance/fixtures.js';
import { describeStoreConformance } from '../conformance/suite.js';
import type { Store } from '../contract.js';
import { openStore } from '../open.js';
import { CLAIM_ROWS } from './fanout.js';
import { createSqliteStore } from './index.js';
import { RECOVER_CHUNK } from './outcomes.js';
import { claimDatabaseFile } from './process-lock.js';
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

/**
 * Recovers the customer integration's failed deliveries, submitting an activity as soon as the first
 * reopened one signals work; `answered` tells which of the two was answered first.
 */
async function recoverWithSubmission(store: Store, w: World) {
  const answered: string[] = [];
  let submitting: Promise<unknown> | undefined;
  const unsubscribe = store.onWork(() => {
    submitting ??= store
      .submitActivity(w.conversation.conversationId, planTo([websocketTo(w.agent)]))
      .then(() => answered.push('submit'));
  });
  const recovered = await store
    .recoverDeliveries(w.customer.integrationId, 0, Date.now())
    .finally(() => answered.push('recover'));
  unsubscribe();
  await submitting;
  return { recovered, answered };
}

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
      { version: 4, name: '0004_fanouts' },
      { version: 5, name: '0005_owed_mail' },
      { version: 6, name: '0006_tokens_client' },
      { version: 7, name: '0007_failed_deliveries' },
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
      // The batch ran again after the failure: its delivery seqs were handed out once more, never
      // twice the same, and a later submit numbers above them (the counter was written back).
      const later = await store.submitActivity(w.conversation.conversationId, plan);
      const seqs = [...ids, later.deliveryIds[0]!].map((id) => parseInt(id.slice(24), 16));
      expect(seqs[1]).toBeGreaterThan(seqs[0]!);
      expect(seqs[2]).toBeGreaterThan(seqs[1]!);
      expect((await store.getDelivery(later.deliveryIds[0]!))?.status).toBe('pending');
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
      Atomics.store(lock, 0, 1); // taken, as another thread holds it around its transaction (any mark)
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

  it('stores an activity for many webhook integrations as one fanouts row, written as delivery rows before a read', async () => {
    const path = join(root, 'fanout', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    const raw = new Database(path, { readonly: true });
    const count = (sql: string) => (raw.prepare(sql).get() as { n: number }).n;
    try {
      const w = await makeWorld(store);
      const systems = [w.system];
      for (let i = 0; i < 9; i++) {
        const s = systemFixture(w.hub);
        await store.createIntegration(s);
        systems.push(s);
      }
      const plan = planTo([...systems.map((s) => webhookTo(s)), websocketTo(w.agent)]);
      const first = await store.submitActivity(w.conversation.conversationId, plan);
      const second = await store.submitActivity(w.conversation.conversationId, plan);
      // Durable at the answer: one fanouts row per activity; only the websocket rows are written.
      expect(count('SELECT COUNT(*) AS n FROM fanouts')).toBe(2);
      expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE transport = 'webhook'")).toBe(0);
      expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE transport = 'websocket'")).toBe(2);
      // A read sees them, under the ids the submit answered with; reading one writes the rows of the
      // fanouts up to its own only.
      expect(await store.getDelivery(first.deliveryIds[3]!)).toMatchObject({
        deliveryId: first.deliveryIds[3],
        status: 'pending',
      });
      expect(count('SELECT COUNT(*) AS n FROM fanouts')).toBe(1);
      expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE transport = 'webhook'")).toBe(10);
      const one = await store.getDelivery(second.deliveryIds[3]!);
      expect(one).toMatchObject({ deliveryId: second.deliveryIds[3], status: 'pending' });
      expect(count('SELECT COUNT(*) AS n FROM fanouts')).toBe(0);
      // One seq per delivery, consecutive within a submit and growing from one submit to the next.
      const seqs = [...first.deliveryIds, ...second.deliveryIds].map((id) => parseInt(id.slice(24), 16));
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE transport = 'webhook'")).toBe(20);
      expect(count("SELECT COUNT(*) AS n FROM deliveries WHERE transport = 'webhook' AND is_head = 1")).toBe(
        10,
      );
      for (const [k, s] of systems.entries()) {
        const listed = await store.listDeliveries(s.integrationId, 'pending', {
          pageNumber: 0,
          pageSize: 10,
        });
        expect(listed.results.map((d) => d.deliveryId)).toEqual([
          second.deliveryIds[k],
          first.deliveryIds[k],
        ]);
      }
      // Claims take them in activity order, a batch per System lane.
      const claimed = await store.claimDeliveries(claimRequest());
      expect(claimed).toHaveLength(10);
      expect(claimed.map((c) => c.deliveryId).sort()).toEqual(first.deliveryIds.slice(0, 10).sort());
      expect(claimed.every((c) => c.activityCount === 2)).toBe(true);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('has a claim write the rows of waiting fanouts in order, a bounded chunk at a time', async () => {
    const path = join(root, 'fanout-chunks', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    const raw = new Database(path, { readonly: true });
    const waiting = () => (raw.prepare('SELECT COUNT(*) AS n FROM fanouts').get() as { n: number }).n;
    try {
      const w = await makeWorld(store);
      const conversations = [w.conversation.conversationId];
      for (let i = 1; i < 50; i++)
        conversations.push((await newConversation(store, w.customer)).conversationId);
      const plan = planTo([webhookTo(w.customer)]);
      // More than one claim's chunk of rows, spread over 50 conversations (lanes).
      const n = Math.ceil((CLAIM_ROWS + 1) / 500) * 500;
      const submitted = new Map<string, string[]>(conversations.map((c) => [c, []]));
      for (let i = 0; i < n; i += 500) {
        const batch = await Promise.all(
          Array.from({ length: 500 }, (_, k) => {
            const c = conversations[(i + k) % conversations.length]!;
            return store.submitActivity(c, plan).then((r) => submitted.get(c)!.push(r.deliveryIds[0]!));
          }),
        );
        expect(batch).toHaveLength(500);
      }
      expect(waiting()).toBe(n);
      expect(await store.nextDueAt()).toBeLessThanOrEqual(Date.now());
      let signalled = 0;
      const off = store.onWork(() => signalled++);
      const received = new Map<string, string[]>(conversations.map((c) => [c, []]));
      let claims = 0;
      for (;;) {
        const claimed = await store.claimDeliveries(claimRequest({ limit: 100, perIntegrationLimit: 100 }));
        if (claims++ === 0) {
          // One chunk written; the rest waits, and the claim said there is more work.
          expect(waiting()).toBe(n - CLAIM_ROWS);
          expect(signalled).toBe(1);
        }
        if (claimed.length === 0) break;
        for (const c of claimed) received.get(c.conversationId)!.push(c.deliveryId);
        await store.recordAttempts(claimed.map((c) => record(c, { status: 'delivered' })));
      }
      off();
      expect(received).toEqual(submitted);
      expect(waiting()).toBe(0);
      expect(await store.nextDueAt()).toBeUndefined();
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('cancels the deliveries still in fanouts when their integration or hub is deleted', async () => {
    const store = createSqliteStore(join(root, 'fanout-delete', 'hookster.db'));
    await store.migrate();
    try {
      const w = await makeWorld(store);
      const r = await store.submitActivity(
        w.conversation.conversationId,
        planTo([webhookTo(w.system), webhookTo(w.customer)]),
      );
      await store.deleteIntegration(w.system.integrationId);
      expect((await store.getDelivery(r.deliveryIds[0]!))?.status).toBe('cancelled');
      expect((await store.getDelivery(r.deliveryIds[1]!))?.status).toBe('pending');
      const again = await store.submitActivity(
        w.conversation.conversationId,
        planTo([webhookTo(w.customer)]),
      );
      await store.deleteHub(w.hub.hubId);
      expect((await store.getDelivery(again.deliveryIds[0]!))?.status).toBe('cancelled');
      expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('reopens a failed delivery behind the later ones of its lane, whether or not they have rows yet', async () => {
    const store = createSqliteStore(join(root, 'fanout-recover', 'hookster.db'));
    await store.migrate();
    try {
      const w = await makeWorld(store);
      const plan = planTo([webhookTo(w.customer)]);
      const d1 = await store.submitActivity(w.conversation.conversationId, plan);
      const [c1] = await store.claimDeliveries(claimRequest());
      await store.recordAttempts([record(c1!, { status: 'failed' }, 500)]);
      // d2 is still in fanouts when d1 is recovered: it is written first, so d1 waits behind it.
      const d2 = await store.submitActivity(w.conversation.conversationId, plan);
      expect(await store.recoverDeliveries(w.customer.integrationId, 0, Date.now())).toBe(1);
      const [c2] = await store.claimDeliveries(claimRequest());
      expect(c2?.deliveryId).toBe(d2.deliveryIds[0]);
      await store.recordAttempts([record(c2!, { status: 'delivered' })]);
      const [again] = await store.claimDeliveries(claimRequest());
      expect(again?.deliveryId).toBe(d1.deliveryIds[0]);
    } finally {
      await store.close();
    }
  });

  it('recovers failed deliveries a chunk per transaction, lanes in order, letting a submission in between chunks', async () => {
    const store = createSqliteStore(join(root, 'recover-chunks', 'hookster.db'));
    await store.migrate();
    try {
      const w = await makeWorld(store);
      const plan = planTo([webhookTo(w.customer)]);
      const conversations = [w.conversation];
      for (let i = 1; i < 50; i++) conversations.push(await newConversation(store, w.customer));
      // More than two chunks, so a recover spans at least three transactions.
      const perLane = Math.ceil((2 * RECOVER_CHUNK + 1) / conversations.length);
      const submitted = await submitAcross(store, conversations, perLane, plan);
      const total = perLane * conversations.length;
      await failAll(store);
      const failedPage = await store.listDeliveries(w.customer.integrationId, 'failed', page(0, 10));
      expect(failedPage.total).toBe(total);
      const newest = [...submitted.values()].map((ids) => ids[ids.length - 1]!);
      expect(failedPage.results.map((d) => d.deliveryId)).toEqual(newest.slice(-10).reverse());

      // A submission made once the first chunk is committed (its reopened heads signal work) is
      // answered before the recover is: the recover does not hold the write lock for all of them.
      const { recovered, answered } = await recoverWithSubmission(store, w);
      expect(recovered).toBe(total);
      expect(answered).toEqual(['submit', 'recover']);
      expect((await store.listDeliveries(w.customer.integrationId, 'failed', page())).total).toBe(0);

      expect(await deliverAll(store)).toEqual(submitted);
    } finally {
      await store.close();
    }
  });

  it('bounds each recover transaction by the failed deliveries it reads, not only by those it reopens', async () => {
    const store = createSqliteStore(join(root, 'recover-skipped', 'hookster.db'));
    await store.migrate();
    try {
      const w = await makeWorld(store);
      // A failed webhook delivery, then more than two chunks of failed ones recover skips (pushes the
      // integration got over the websocket before it had a webhookUrl), then another failed webhook one.
      await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
      await failAll(store);
      for (let i = 0; i < 2 * RECOVER_CHUNK + 1; i++) {
        await store.submitActivity(w.conversation.conversationId, planTo([websocketTo(w.customer)]));
      }
      expect(await store.failStaleWebsocketDeliveries(Date.now() + 1, 'stale', 10 * RECOVER_CHUNK)).toBe(
        2 * RECOVER_CHUNK + 1,
      );
      const other = await newConversation(store, w.customer);
      await store.submitActivity(other.conversationId, planTo([webhookTo(w.customer)]));
      await failAll(store);

      // The first one reopened signals work; a submission made then is answered before the recover,
      // which reads the skipped ones in transactions of their own.
      const { recovered, answered } = await recoverWithSubmission(store, w);
      expect(recovered).toBe(2);
      expect(answered).toEqual(['submit', 'recover']);
    } finally {
      await store.close();
    }
  });

  it('numbers new deliveries above those of a database written before lazy fan-out (migration 0004)', async () => {
    const path = join(root, 'upgrade', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    const w = await makeWorld(store);
    const before = await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
    const [old] = await store.claimDeliveries(claimRequest());
    await store.close();
    // Make the file look like one from before 0004 whose delivery rows went far above the new numbering.
    const raw = new Database(path);
    const high = 5_000_000;
    raw.exec(`UPDATE deliveries SET seq = ${high}; UPDATE attempts SET delivery_seq = ${high};
      DROP TABLE fanouts; DROP TABLE delivery_seqs;
      DELETE FROM schema_migrations WHERE version = 4;`);
    raw.close();
    const again = createSqliteStore(path);
    await again.migrate();
    try {
      const oldId = before.deliveryIds[0]!.slice(0, 24) + high.toString(16).padStart(12, '0');
      expect((await again.getDelivery(oldId))?.status).toBe('pending');
      expect(old).toBeDefined();
      const next = await again.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
      const seq = parseInt(next.deliveryIds[0]!.slice(24), 16);
      expect(seq).toBeGreaterThan(high);
      // Lane order still holds: the old one (leased) goes first; the new one waits behind it.
      const [leased] = await again.claimDeliveries(claimRequest({ now: Date.now() + 60_000 }));
      expect(leased?.deliveryId).toBe(oldId);
      await again.recordAttempts([record(leased!, { status: 'delivered' })]);
      const [after] = await again.claimDeliveries(claimRequest());
      expect(after?.deliveryId).toBe(next.deliveryIds[0]);
    } finally {
      await again.close();
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

describe('SQLite files', () => {
  it('creates the folder, the database, its WAL and shared memory for the owner only (they hold signing keys)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hookster-modes-')), 'data');
    const path = join(dir, 'hookster.db');
    const store = createSqliteStore(path);
    try {
      await store.migrate();
      await store.createTenant(tenantFixture());
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(statSync(file).mode & 0o077, file).toBe(0);
      }
      // The process lock beside it too (claimDatabaseFile): a reader could hold it and block a start.
      const release = claimDatabaseFile(path, 'shared');
      release();
      for (const file of [`${path}.hookster-lock`]) {
        expect(statSync(file).mode & 0o077, file).toBe(0);
      }
      expect(statSync(dir).mode & 0o077).toBe(0);
    } finally {
      await store.close();
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('checks the write-ahead log beside the real file when the database is named through a symbolic link', async () => {
    // SQLite follows the link and keeps <real file>-wal: the log this store syncs before answering a
    // write, and whose removal makes it unready, is that one (beside the link there is none).
    const dir = mkdtempSync(join(tmpdir(), 'hookster-link-'));
    mkdirSync(join(dir, 'real'));
    mkdirSync(join(dir, 'link'));
    const real = join(dir, 'real', 'hookster.db');
    const link = join(dir, 'link', 'hookster.db');
    const store = createSqliteStore(real);
    await store.migrate();
    await store.close();
    symlinkSync(real, link);
    const linked = createSqliteStore(link);
    try {
      await linked.migrate();
      await linked.createTenant(tenantFixture());
      await expect(linked.check!()).resolves.toBeUndefined();
      rmSync(`${real}-wal`);
      await expect(linked.check!()).rejects.toThrow(/-wal was removed or replaced/);
    } finally {
      await linked.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
