// The hand-off of fresh deliveries on real SQLite files (handoff.ts): what a flight is in the database
// before and after its outcome, lane order around it, how other stores of the process see it, and what
// a closed store leaves for the next one.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  claimRequest,
  makeWorld,
  newConversation,
  planTo,
  record,
  webhookTo,
  type World,
} from '../conformance/fixtures.js';
import type { Store } from '../contract.js';
import { FAIR_WAIT_MS } from './fanout.js';
import { createSqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-handoff-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

async function fresh(): Promise<{ store: Store; path: string; w: World }> {
  const path = join(root, `store-${++counter}`, 'hookster.db');
  const store = createSqliteStore(path);
  await store.migrate();
  return { store, path, w: await makeWorld(store) };
}

/** What the file holds, read through a connection of its own. */
function rows(path: string) {
  const raw = new Database(path, { readonly: true });
  try {
    return {
      deliveries: raw
        .prepare(
          'SELECT seq, status, is_head, fence, lease_owner, attempt_count FROM deliveries WHERE transport = ? ORDER BY seq',
        )
        .all('webhook') as {
        seq: number;
        status: string;
        is_head: number;
        fence: number;
        lease_owner: string | null;
        attempt_count: number;
      }[],
      fanouts: (raw.prepare('SELECT COUNT(*) AS n FROM fanouts').get() as { n: number }).n,
      attempts: (raw.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n,
    };
  } finally {
    raw.close();
  }
}

/** A copy of the file as it is now, as a `kill -9` would leave it (the store is not closed first). */
function fileAsNow(path: string): string {
  const copy = join(root, `crash-${++counter}.db`);
  const raw = new Database(path, { readonly: true });
  try {
    raw.exec(`VACUUM INTO '${copy}'`);
  } finally {
    raw.close();
  }
  return copy;
}

/** What a new store on the file claims first (as the process restarted on it would). */
async function claimFrom(path: string) {
  const next = createSqliteStore(path);
  try {
    return await next.claimDeliveries(claimRequest());
  } finally {
    await next.close();
  }
}

/** One delivery to the customer integration in each of `count` new conversations; their ids in order. */
async function burst(w: World, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = await newConversation(w.store, w.customer);
    const { deliveryIds } = await w.store.submitActivity(
      c.conversationId,
      planTo([webhookTo(w.customer)], { text: `m${i}` }),
    );
    ids.push(deliveryIds[0]!);
  }
  return ids;
}

const submit = (w: World, text: string) =>
  w.store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)], { text }));

describe('hand-off of fresh deliveries (SQLite)', () => {
  it('sends a fresh delivery without a row; its outcome writes the row, its attempt, and drops the fanout', async () => {
    const { store, path, w } = await fresh();
    try {
      const { deliveryIds } = await submit(w, 'a');
      const [claimed] = await store.claimDeliveries(claimRequest());
      expect(claimed).toMatchObject({
        deliveryId: deliveryIds[0],
        fence: 1,
        attemptNumber: 1,
        activityCount: 1,
      });
      expect(rows(path)).toEqual({ deliveries: [], fanouts: 1, attempts: 0 });
      expect(await store.recordAttempts([record(claimed!, { status: 'delivered' })])).toEqual(deliveryIds);
      const after = rows(path);
      expect(after.deliveries).toEqual([
        expect.objectContaining({
          status: 'delivered',
          is_head: 0,
          fence: 1,
          lease_owner: null,
          attempt_count: 1,
        }),
      ]);
      expect(after).toMatchObject({ fanouts: 0, attempts: 1 });
      const logged = await store.getDelivery(deliveryIds[0]!);
      expect(logged?.status).toBe('delivered');
      expect(logged?.attempts).toHaveLength(1);
      // Recorded twice (a retried record round): the second is stale.
      expect(await store.recordAttempts([record(claimed!, { status: 'failed' }, 500)])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('leaves fresh deliveries beyond the free slots as fanouts; they become flights when slots free', async () => {
    const { store, path, w } = await fresh();
    try {
      // The claims run on the clock of the first submit: the deliveries are fresh (FAIR_WAIT_MS).
      const now = Date.now();
      const ids = await burst(w, 10);
      const first = await store.claimDeliveries(claimRequest({ limit: 3, now }));
      expect(first.map((c) => c.deliveryId)).toEqual(ids.slice(0, 3));
      // Only every slot being taken kept the other seven back: they got no rows (no lease, no head).
      expect(rows(path)).toEqual({ deliveries: [], fanouts: 10, attempts: 0 });
      const rest = await store.claimDeliveries(claimRequest({ limit: 10, now }));
      expect(rest.map((c) => c.deliveryId)).toEqual(ids.slice(3));
      expect(rest.every((c) => c.fence === 1 && c.attemptNumber === 1)).toBe(true);
      expect(rows(path).deliveries).toEqual([]);
      await store.recordAttempts([...first, ...rest].map((c) => record(c, { status: 'delivered' })));
      expect(rows(path)).toMatchObject({ fanouts: 0, attempts: 10 });
    } finally {
      await store.close();
    }
  });

  it("lets one integration's fresh burst hold back another's delivery submitted after it only while it is fresh", async () => {
    const { store, path, w } = await fresh();
    try {
      // A burst of one integration, then one delivery of another; the dispatcher has fewer free slots
      // (4: the others are out at slow endpoints) than the busy integration's own room (32).
      const submittedAt = Date.now();
      const busy = await burst(w, 20);
      const other = await newConversation(store, w.customer);
      const [quiet] = (await store.submitActivity(other.conversationId, planTo([webhookTo(w.system)])))
        .deliveryIds;
      const claim = (now: number) =>
        store.claimDeliveries(claimRequest({ limit: 4, perIntegrationLimit: 32, now }));
      // Fresh (the claim's clock at the burst's start): it reads only what fills its slots, in order.
      const first = await claim(submittedAt);
      expect(first.map((c) => c.deliveryId)).toEqual(busy.slice(0, 4));
      expect(rows(path).deliveries).toEqual([]);
      const sent = first.map((c) => c.deliveryId);
      await store.recordAttempts(first.map((c) => record(c, { status: 'delivered' })));
      // Once the rest has waited FAIR_WAIT_MS, the whole window competes: round robin between the two.
      const later = await claim(Date.now() + FAIR_WAIT_MS);
      expect(later).toHaveLength(4);
      expect(later.map((c) => c.deliveryId)).toContain(quiet);
      expect(later.every((c) => c.fence === 1 && c.attemptNumber === 1)).toBe(true);
      sent.push(...later.map((c) => c.deliveryId));
      await store.recordAttempts(later.map((c) => record(c, { status: 'delivered' })));
      // Nothing is lost or sent twice: the rest of the burst follows, once each.
      for (let i = 0; i < 10 && sent.length < 21; i++) {
        const next = await claim(Date.now() + FAIR_WAIT_MS);
        sent.push(...next.map((c) => c.deliveryId));
        await store.recordAttempts(next.map((c) => record(c, { status: 'delivered' })));
      }
      expect([...sent].sort()).toEqual([...busy, quiet!].sort());
      expect(rows(path)).toMatchObject({ fanouts: 0, attempts: 21 });
    } finally {
      await store.close();
    }
  });

  it('keeps lane order: a later delivery of the lane waits for the flight, also through its retry', async () => {
    const { store, w } = await fresh();
    try {
      const [a] = (await submit(w, 'a')).deliveryIds;
      const now = Date.now();
      const [flight] = await store.claimDeliveries(claimRequest({ now }));
      expect(flight?.deliveryId).toBe(a);
      const [b] = (await submit(w, 'b')).deliveryIds;
      expect(await store.claimDeliveries(claimRequest({ now }))).toEqual([]);
      // The flight fails once: its row is its lane's head, due at the retry; b still waits.
      const retryAt = now + 1_000;
      expect(
        await store.recordAttempts([record(flight!, { status: 'pending', nextAttemptAt: retryAt }, 500)]),
      ).toEqual([a]);
      expect(await store.claimDeliveries(claimRequest({ now: retryAt - 1 }))).toEqual([]);
      expect(await store.nextDueAt()).toBe(retryAt);
      const [again] = await store.claimDeliveries(claimRequest({ now: retryAt }));
      expect(again).toMatchObject({ deliveryId: a, fence: 2, attemptNumber: 2, body: flight!.body });
      expect(await store.claimDeliveries(claimRequest({ now: retryAt }))).toEqual([]);
      await store.recordAttempts([record(again!, { status: 'delivered' })]);
      const [next] = await store.claimDeliveries(claimRequest({ now: retryAt }));
      expect(next?.deliveryId).toBe(b);
      const log = await store.getDelivery(a!);
      expect(log?.attempts?.map((x) => x.statusCode)).toEqual([500, 200]);
    } finally {
      await store.close();
    }
  });

  it('shows a flight in the log as pending (a leased row), and applies its outcome to that row', async () => {
    const { store, path, w } = await fresh();
    try {
      const [a] = (await submit(w, 'a')).deliveryIds;
      const [flight] = await store.claimDeliveries(claimRequest());
      expect(rows(path).deliveries).toEqual([]);
      const pending = await store.getDelivery(a!);
      expect(pending?.status).toBe('pending');
      expect(pending?.attempts).toEqual([]);
      expect(rows(path).deliveries).toEqual([
        expect.objectContaining({ status: 'pending', is_head: 1, fence: 1, lease_owner: 'handoff' }),
      ]);
      // Leased: no claim takes it while the flight is out.
      expect(await store.claimDeliveries(claimRequest())).toEqual([]);
      expect(await store.recordAttempts([record(flight!, { status: 'delivered' })])).toEqual([a]);
      expect((await store.getDelivery(a!))?.status).toBe('delivered');
      expect(rows(path)).toMatchObject({ fanouts: 0, attempts: 1 });
    } finally {
      await store.close();
    }
  });

  it('lets another store of the process write the flights as leased heads before later rows of their lanes', async () => {
    const { store, path, w } = await fresh();
    // A second connection in this thread, as the API's is beside the dispatch thread's.
    const other = createSqliteStore(path);
    try {
      const [a] = (await submit(w, 'a')).deliveryIds;
      const [flight] = await store.claimDeliveries(claimRequest());
      const [b] = (await submit(w, 'b')).deliveryIds;
      // The other store writes every fanout: the flight first (leased), then b behind it (newest first).
      expect(
        (
          await other.listDeliveries(w.customer.integrationId, 'pending', { pageNumber: 0, pageSize: 10 })
        ).results.map((d) => d.deliveryId),
      ).toEqual([b, a]);
      expect(rows(path).deliveries.map((d) => [d.status, d.is_head, d.lease_owner])).toEqual([
        ['pending', 1, 'handoff'],
        ['pending', 0, null],
      ]);
      // The other store claims nothing: a is leased, b waits behind it.
      expect(await other.claimDeliveries(claimRequest())).toEqual([]);
      expect(await store.recordAttempts([record(flight!, { status: 'delivered' })])).toEqual([a]);
      const [next] = await store.claimDeliveries(claimRequest());
      expect(next?.deliveryId).toBe(b);
    } finally {
      await other.close();
      await store.close();
    }
  });

  it('never writes a row again for a target of a taken fanout whose row a System batch absorbed', async () => {
    const { store, path, w } = await fresh();
    try {
      const c = w.conversation.conversationId;
      // a1 to the System integration only; a2 to it and to the customer: in one window the System
      // lane has two targets (rows, a1 the head), the customer's lane one (a flight).
      await store.submitActivity(c, planTo([webhookTo(w.system)], { text: 'a1' }));
      const { deliveryIds: a2 } = await store.submitActivity(
        c,
        planTo([webhookTo(w.system), webhookTo(w.customer)], { text: 'a2' }),
      );
      const claimed = await store.claimDeliveries(claimRequest({ leaseMs: 1_000 }));
      const batch = claimed.find((d) => d.integrationId === w.system.integrationId)!;
      const flight = claimed.find((d) => d.integrationId === w.customer.integrationId)!;
      expect(batch.activityCount).toBe(2);
      expect(flight.fence).toBe(1);
      // a2's fanout stays while its flight is out; a read of the log writes rows from fanouts.
      expect(rows(path).fanouts).toBe(1);
      await store.getDelivery(a2.find((id) => id !== flight.deliveryId)!);
      await store.recordAttempts([record(batch, { status: 'delivered' })]);
      await store.recordAttempts([record(flight, { status: 'delivered' })]);
      // Nothing is pending, and nothing is claimed again after any lease.
      expect(rows(path).deliveries.filter((d) => d.status === 'pending')).toEqual([]);
      expect(await store.claimDeliveries(claimRequest({ now: Date.now() + 60_000 }))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('after a crash sends again only the flights of a taken fanout, not its targets that had rows', async () => {
    const { store, path, w } = await fresh();
    let crashed = '';
    try {
      const c = w.conversation.conversationId;
      await store.submitActivity(c, planTo([webhookTo(w.system)], { text: 'a1' }));
      await store.submitActivity(c, planTo([webhookTo(w.system), webhookTo(w.customer)], { text: 'a2' }));
      const claimed = await store.claimDeliveries(claimRequest());
      const batch = claimed.find((d) => d.integrationId === w.system.integrationId)!;
      expect(batch.activityCount).toBe(2);
      await store.recordAttempts([record(batch, { status: 'delivered' })]);
      // The process dies while the customer's flight is out.
      crashed = fileAsNow(path);
    } finally {
      await store.close();
    }
    expect((await claimFrom(crashed)).map((d) => d.integrationId)).toEqual([w.customer.integrationId]);
  });

  it('after a crash does not send again a flight whose outcome was recorded, beside one still out', async () => {
    const { store, path, w } = await fresh();
    let crashed = '';
    try {
      await store.submitActivity(
        w.conversation.conversationId,
        planTo([webhookTo(w.system), webhookTo(w.customer)], { text: 'a' }),
      );
      const claimed = await store.claimDeliveries(claimRequest());
      expect(claimed.map((d) => d.fence)).toEqual([1, 1]);
      const done = claimed.find((d) => d.integrationId === w.customer.integrationId)!;
      await store.recordAttempts([record(done, { status: 'delivered' })]);
      crashed = fileAsNow(path);
    } finally {
      await store.close();
    }
    expect((await claimFrom(crashed)).map((d) => d.integrationId)).toEqual([w.system.integrationId]);
  });

  it.each(['retry', 'recover'] as const)(
    'keeps a delivery reopened by %s behind a flight of its lane taken between the catch-up and the reopen',
    async (how) => {
      const { store, w } = await fresh();
      try {
        const now = Date.now();
        const [a] = (await submit(w, 'a')).deliveryIds;
        const [first] = await store.claimDeliveries(claimRequest({ now }));
        expect(first?.deliveryId).toBe(a);
        await store.recordAttempts([record(first!, { status: 'failed' }, 500)]);
        // The retry writes the fanouts committed so far (none), then — before it reopens a — b of the
        // same lane is submitted and the dispatcher sends it as a flight (its lane has no pending row).
        const retried =
          how === 'retry'
            ? store.retryDelivery(a!, now)
            : store.recoverDeliveries(w.customer.integrationId, 0, now).then((n) => n === 1);
        const submitted = submit(w, 'b');
        const claiming = store.claimDeliveries(claimRequest({ now }));
        expect(await retried).toBe(true);
        const [b] = (await submitted).deliveryIds;
        const [flight] = await claiming;
        expect(flight).toMatchObject({ deliveryId: b, fence: 1 });
        // While b is out nothing else of its lane may be sent: a waits behind it.
        expect(await store.claimDeliveries(claimRequest({ now }))).toEqual([]);
        await store.recordAttempts([record(flight!, { status: 'delivered' })]);
        const [again] = await store.claimDeliveries(claimRequest({ now }));
        expect(again).toMatchObject({ deliveryId: a, fence: 2, body: first!.body });
      } finally {
        await store.close();
      }
    },
  );

  it('leaves flights still out as leased rows when it closes; the next store takes them back after the lease', async () => {
    const { store, path, w } = await fresh();
    const [a] = (await submit(w, 'a')).deliveryIds;
    const now = Date.now();
    const [flight] = await store.claimDeliveries(claimRequest({ now, leaseMs: 5_000 }));
    await store.close();
    expect(rows(path)).toMatchObject({
      deliveries: [expect.objectContaining({ status: 'pending', fence: 1, lease_owner: 'handoff' })],
      fanouts: 0,
    });
    const next = createSqliteStore(path);
    try {
      expect(await next.claimDeliveries(claimRequest({ now: now + 4_999 }))).toEqual([]);
      const [again] = await next.claimDeliveries(claimRequest({ now: now + 5_000 }));
      expect(again).toMatchObject({ deliveryId: a, fence: 2, body: flight!.body });
      // The first flight's late result is stale.
      expect(await next.recordAttempts([record(flight!, { status: 'delivered' })])).toEqual([]);
      expect(await next.recordAttempts([record(again!, { status: 'delivered' })])).toEqual([a]);
    } finally {
      await next.close();
    }
  });
});
