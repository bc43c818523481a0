// PostgreSQL across processes: two stores (two pools) share one schema as two engine processes would.

import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ClaimedDelivery, Store } from '../contract.js';
import {
  bodyActivities,
  claimRequest,
  makeWorld,
  newConversation,
  planTo,
  record,
  webhookTo,
} from '../conformance/fixtures.js';
import { createPostgresStore } from './index.js';
import { workChannel } from './listener.js';
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  freshSchemaUrl,
  postgresAvailable,
  startProxy,
  throughProxy,
} from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];

/** Two stores on one fresh schema: two pools, two LISTEN connections, like two processes. */
async function openPair(): Promise<{ a: Store; b: Store; schema: string; errors: unknown[] }> {
  const { url, schema } = freshSchemaUrl('mp');
  schemas.push(schema);
  const errors: unknown[] = [];
  const a = createPostgresStore(url, { onError: (_m, e) => errors.push(e) });
  const b = createPostgresStore(url, { onError: (_m, e) => errors.push(e) });
  stores.push(a, b);
  await Promise.all([a.migrate(), b.migrate()]);
  return { a, b, schema, errors };
}

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

/** Resolves on the next onWork call, or rejects after `ms`. */
/** A store of `schema` whose connections go through the test proxy at `port`. */
function storeThroughProxy(port: number, schema: string, errors: unknown[]): Store {
  const url = new URL(throughProxy(TEST_POSTGRES_URL, port));
  url.searchParams.set('schema', schema);
  const store = createPostgresStore(url.toString(), { onError: (_m, e) => errors.push(e) });
  stores.push(store);
  return store;
}

function nextWork(store: Store, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no onWork signal in time'));
    }, ms);
    const off = store.onWork(() => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Waits (bounded) until `count` LISTEN connections of the schema are up; returns their pids. */
async function listeners(schema: string, count = 1, timeoutMs = 5_000): Promise<number[]> {
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'`,
        [`LISTEN "${workChannel(schema)}"`],
      );
      if (rows.length === count) return rows.map((r) => r.pid);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`the LISTEN connections of ${schema} did not come up`);
  } finally {
    await admin.end();
  }
}

describe.runIf(available)('PostgreSQL store shared by several processes', () => {
  it('never hands one delivery to two claimers and keeps every conversation in order', async () => {
    const { a, b, schema } = await openPair();
    const world = await makeWorld(a);
    const conversations = [world.conversation];
    for (let i = 1; i < 20; i++) conversations.push(await newConversation(a, world.customer));
    const perConversation = 10;
    await Promise.all(
      conversations.map(async (c) => {
        for (let n = 0; n < perConversation; n++) {
          await (n % 2 === 0 ? a : b).submitActivity(
            c.conversationId,
            planTo([webhookTo(world.customer)], { text: String(n) }),
          );
        }
      }),
    );
    const seen = new Map<string, string[]>();
    const claimedIds = new Set<string>();
    const overlaps: string[] = [];
    // Overlap is judged from the database, not from memory: right after a claim commits, while this
    // worker still holds its leases, no other delivery of a claimed lane may be pending under a lease.
    // Another worker can only have such a delivery if it claimed it while ours was in flight (ours is
    // neither recorded nor expired yet), so a hit is a real overlap and a miss never hides one that the
    // check's snapshot could see. The check's round trip also keeps our deliveries in flight longer,
    // giving the other workers time to claim.
    const admin = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 4 });
    async function othersInFlight(claimed: ClaimedDelivery[]): Promise<string[]> {
      const { rows } = await admin.query<{ delivery_id: string; conversation_id: string }>(
        `SELECT d.delivery_id, d.conversation_id FROM "${schema}".deliveries d
         JOIN unnest($1::text[], $2::text[]) AS x(integration, conv)
           ON d.integration_id = x.integration AND d.conversation_id = x.conv
         WHERE d.status = 'pending' AND d.lease_until IS NOT NULL AND d.delivery_id <> ALL($3::text[])`,
        [
          claimed.map((c) => c.integrationId),
          claimed.map((c) => c.conversationId),
          claimed.map((c) => c.deliveryId),
        ],
      );
      return rows.map((r) => `${r.delivery_id} of ${r.conversation_id}`);
    }
    // The workers stop when every delivery was claimed once (or at a bound): an empty claim only means
    // every remaining lane's head is in flight with another worker, not that the work is done.
    const total = conversations.length * perConversation;
    const deadline = Date.now() + 30_000;
    async function worker(store: Store, owner: string): Promise<void> {
      while (claimedIds.size < total && Date.now() < deadline) {
        const claimed: ClaimedDelivery[] = await store.claimDeliveries(claimRequest({ owner, limit: 7 }));
        if (claimed.length === 0) {
          await new Promise<void>((resolve) => setTimeout(resolve, 2));
          continue;
        }
        const lanes = claimed.map((c) => `${c.integrationId}/${c.conversationId}`);
        expect(new Set(lanes).size, 'one claim took two deliveries of one lane').toBe(lanes.length);
        overlaps.push(...(await othersInFlight(claimed)));
        for (const c of claimed) {
          expect(claimedIds.has(c.deliveryId), `delivery ${c.deliveryId} claimed twice`).toBe(false);
          claimedIds.add(c.deliveryId);
          const texts = seen.get(c.conversationId) ?? [];
          texts.push(...bodyActivities(c).map((x) => String(x.message?.['text'])));
          seen.set(c.conversationId, texts);
        }
        const applied = await store.recordAttempts(claimed.map((c) => record(c, { status: 'delivered' })));
        expect(applied.sort()).toEqual(claimed.map((c) => c.deliveryId).sort());
      }
    }
    try {
      await Promise.all([worker(a, 'a'), worker(b, 'b'), worker(a, 'a2'), worker(b, 'b2')]);
    } finally {
      await admin.end();
    }
    expect(overlaps, 'deliveries in flight beside another of their lane').toEqual([]);
    expect(claimedIds.size).toBe(total);
    const expected = Array.from({ length: perConversation }, (_, n) => String(n));
    for (const c of conversations) expect(seen.get(c.conversationId)).toEqual(expected);
  });

  it('lets another process take over an expired lease and ignores the stale holder', async () => {
    const { a, b } = await openPair();
    const world = await makeWorld(a);
    await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
    const now = Date.now();
    const [first] = await a.claimDeliveries(claimRequest({ owner: 'a', now, leaseMs: 1_000 }));
    expect(first).toBeDefined();
    expect(await b.claimDeliveries(claimRequest({ owner: 'b', now: now + 999 }))).toHaveLength(0);
    const [second] = await b.claimDeliveries(claimRequest({ owner: 'b', now: now + 1_001 }));
    expect(second?.deliveryId).toBe(first!.deliveryId);
    expect(second!.fence).toBeGreaterThan(first!.fence);
    expect(second!.body).toBe(first!.body);
    expect(await a.recordAttempts([record(first!, { status: 'failed' })])).toEqual([]);
    expect(await b.recordAttempts([record(second!, { status: 'delivered' })])).toEqual([second!.deliveryId]);
    expect((await a.getDelivery(first!.deliveryId))?.status).toBe('delivered');
  });

  it('wakes another process on submit through NOTIFY', async () => {
    const { a, b, schema } = await openPair();
    const world = await makeWorld(a);
    const woken = nextWork(b);
    await listeners(schema);
    await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
    await woken;
  });

  it('re-establishes a terminated LISTEN connection, signals once, and is woken again', async () => {
    const { a, b, schema, errors } = await openPair();
    const world = await makeWorld(a);
    const off = b.onWork(() => undefined);
    const [pid] = await listeners(schema);
    const reconnected = nextWork(b);
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    await reconnected; // a reconnect signals once: notifications sent while away are lost
    expect(errors.length).toBeGreaterThan(0);
    const [newPid] = await listeners(schema);
    expect(newPid).not.toBe(pid);
    off();
    const woken = nextWork(b);
    await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
    await woken;
    expect(await b.claimDeliveries(claimRequest())).toHaveLength(1);
  });

  it('answers with an error, not a crash, while its pooled connections are terminated', async () => {
    const { url, schema } = freshSchemaUrl('kill');
    schemas.push(schema);
    const tagged = new URL(url);
    tagged.searchParams.set('application_name', schema);
    const errors: unknown[] = [];
    const store = createPostgresStore(tagged.toString(), { onError: (_m, e) => errors.push(e) });
    stores.push(store);
    await store.migrate();
    const world = await makeWorld(store);
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [schema],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The terminated connections sit idle in the pool: each reports its end through onError (an
    // unhandled 'error' event would have killed the process). Waiting for that first keeps the report
    // from being taken by a query that happened to run on a dying connection.
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
    // Operations may fail while the pool drops its dead connections; none crashes the process, and
    // the store answers again with fresh connections.
    let hub: unknown;
    for (let i = 0; i < 20 && hub === undefined; i++) {
      hub = await store.getHub(world.hub.hubId).catch(() => undefined);
    }
    expect(hub).toEqual(world.hub);
  });
  it('listens again after a reconnect that met a server accepting connections but never answering', async () => {
    const { a, schema, errors } = await openPair();
    const proxy = await startProxy();
    try {
      const c = storeThroughProxy(proxy.port, schema, errors);
      const world = await makeWorld(a);
      const off = c.onWork(() => undefined);
      const [pid] = await listeners(schema);
      proxy.silent = true;
      const reconnected = nextWork(c, 20_000);
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      } finally {
        await admin.end();
      }
      await proxy.swallowed; // the reconnect now waits for an answer that never comes
      proxy.silent = false;
      // Given up after the connect timeout (10 s) and tried again, instead of waiting forever.
      await reconnected;
      const [newPid] = await listeners(schema);
      expect(newPid).not.toBe(pid);
      off();
      const woken = nextWork(c);
      await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
      await woken;
    } finally {
      await proxy.close();
    }
  }, 40_000);
  it('notices a LISTEN connection whose network went silent and listens again on a new one', async () => {
    const { a, schema, errors } = await openPair();
    const proxy = await startProxy();
    try {
      const c = storeThroughProxy(proxy.port, schema, errors);
      const world = await makeWorld(a);
      const off = c.onWork(() => undefined);
      const [pid] = await listeners(schema);
      const reconnected = nextWork(c, 20_000);
      // No FIN, no RST: the connection looks open to both ends, and notifications stop arriving.
      proxy.freeze();
      await reconnected;
      const current = await listeners(schema, 2);
      expect(current).toContain(pid); // the server still holds the old session: nothing told it
      off();
      const woken = nextWork(c);
      await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
      await woken;
    } finally {
      await proxy.close();
    }
  }, 40_000);
});
