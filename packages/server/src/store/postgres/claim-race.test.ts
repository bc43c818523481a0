// PostgreSQL: a claim that takes its snapshot, then locks a lane another process claimed, attempted and
// rescheduled meanwhile (its head due again at once) must see the head as it is now: its fixed body,
// its attempt count. Two stores on one schema play the two processes. To stop the first claim between
// its snapshot and its lane lock, the test puts a gate into the claim's read of `hubs` (a view over the
// real table calling a function that waits, once, on an advisory lock a third connection holds), and
// waits on what pg_blocking_pids reports, never on a sleep.

import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../contract.js';
import {
  bodyActivities,
  claimRequest,
  makeWorld,
  planTo,
  record,
  webhookTo,
} from '../conformance/fixtures.js';
import { createPostgresStore } from './index.js';
import { TEST_POSTGRES_URL, dropSchemas, freshSchemaUrl, postgresAvailable } from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const clients: pg.Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
});

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  clients.push(client);
  await client.connect();
  return client;
}

describe.runIf(available)('PostgreSQL claims racing another process on one lane', () => {
  it('claims a head rescheduled after its snapshot with the fixed body and the current attempt count', async () => {
    const { url, schema } = freshSchemaUrl('claimrace');
    schemas.push(schema);
    const a = createPostgresStore(url);
    const b = createPostgresStore(url);
    stores.push(a, b);
    await a.migrate();
    await b.migrate();
    const world = await makeWorld(a);
    for (const text of ['a', 'b', 'c']) {
      await a.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)], { text }));
    }

    // The gate: the first claim to read `hubs` while it is armed waits for `held` (the holder's lock).
    const gateKey = randomInt(1, 2 ** 31 - 2);
    const heldKey = gateKey + 1;
    const admin = await connect();
    await admin.query(`
      CREATE TABLE "${schema}".gate (armed boolean);
      CREATE FUNCTION "${schema}".gate_open() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM "${schema}".gate) AND pg_try_advisory_xact_lock(${gateKey}) THEN
          PERFORM pg_advisory_xact_lock(${heldKey});
        END IF;
        RETURN true;
      END $$;
      ALTER TABLE "${schema}".hubs RENAME TO hubs_table;
      CREATE VIEW "${schema}".hubs AS SELECT * FROM "${schema}".hubs_table WHERE "${schema}".gate_open();
      INSERT INTO "${schema}".gate VALUES (true);`);
    const holder = await connect();
    await holder.query('SELECT pg_advisory_lock($1)', [heldKey]);

    // Process A starts a claim (its clock well ahead) and stops after its snapshot, before locking.
    const now = Date.now();
    const claimA = a.claimDeliveries(claimRequest({ owner: 'a', now: now + 60_000 }));
    const holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    for (let i = 0; ; i++) {
      const { rows } = await admin.query(
        'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [holderPid],
      );
      if (rows.length > 0) break;
      if (i > 400) throw new Error('the claim never reached the gate');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // Process B claims the head meanwhile (batching 'b' into it), the attempt fails, and the head is
    // due again at once.
    const [first] = await b.claimDeliveries(claimRequest({ owner: 'b', now, batchMaxActivities: 2 }));
    expect(bodyActivities(first!).map((x) => x.message?.['text'])).toEqual(['a', 'b']);
    expect(
      await b.recordAttempts([record(first!, { status: 'pending', nextAttemptAt: now + 1 }, 500)]),
    ).toEqual([first!.deliveryId]);

    await holder.query('SELECT pg_advisory_unlock($1)', [heldKey]);
    const stopped = await claimA;
    await admin.query(`DELETE FROM "${schema}".gate`);

    // A claims the same head (in the stopped claim, or in its next one when the stopped claim left
    // the changed lane alone), now on its second attempt, and resends the byte-identical body: the
    // activity 'b' travels in it and nowhere else.
    const claimed = [
      ...stopped,
      ...(await a.claimDeliveries(claimRequest({ owner: 'a', now: now + 60_000 }))),
    ];
    expect(claimed.map((c) => c.deliveryId)).toEqual([first!.deliveryId]);
    expect(claimed[0]!.fence).toBeGreaterThan(first!.fence);
    expect(bodyActivities(claimed[0]!).map((x) => x.message?.['text'])).toEqual(['a', 'b']);
    expect(claimed[0]!.body).toBe(first!.body);
    expect(claimed[0]!.attemptNumber).toBe(2);
    expect((await a.getDelivery(first!.deliveryId))?.attempts).toHaveLength(1);
  });
});
