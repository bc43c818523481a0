// HOOKSTER_PG_STATEMENT_TIMEOUT on the machine's PostgreSQL: a store call that waits on a lock another
// session holds is cut off and answered Busy instead of hanging, the store works again once the lock is
// let go, and migrations are not cut off.

import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ErrorCodes, HooksterError } from '../../domain/errors.js';
import type { Store } from '../contract.js';
import { claimRequest, makeWorld, planTo, webhookTo } from '../conformance/fixtures.js';
import { createPool } from './connection.js';
import { translatePostgresError } from './errors.js';
import { createPostgresStore } from './index.js';
import { inTransaction } from './tx.js';
import { parsePostgresUrl } from './url.js';
import { dropSchemas, freshSchemaUrl, postgresAvailable, sessionIn } from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const clients: pg.Client[] = [];

const TIMEOUT_MS = 300;
/** Far above TIMEOUT_MS: a call still pending by then would have hung without the timeout. */
const BOUND_MS = 5_000;
const BUSY = { status: 503, errors: [{ code: Number(ErrorCodes.Busy.code.slice(3)) }] };

function openStore(statementTimeoutMs = TIMEOUT_MS): { store: Store; url: string; schema: string } {
  const { url, schema } = freshSchemaUrl('stmt');
  schemas.push(schema);
  const store = createPostgresStore(url, { statementTimeoutMs });
  stores.push(store);
  return { store, url, schema };
}

const otherSession = (schema: string): Promise<pg.Client> => sessionIn(schema, clients);

/** `work`'s outcome, or a rejection saying it was still pending after `ms` (it would have hung). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

afterAll(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

describe.runIf(available)('PostgreSQL statement timeout', () => {
  it('runs the pooled sessions with the statement timeout, and without one when it is 0', async () => {
    const settings = parsePostgresUrl(freshSchemaUrl('stmt').url);
    // The idle-in-transaction timeout is the statement timeout, but at least a minute.
    for (const [statementTimeoutMs, expected, idle] of [
      [TIMEOUT_MS, '300ms', '1min'],
      [120_000, '2min', '2min'],
      [0, '0', '0'],
    ] as const) {
      const pool = createPool(settings, () => undefined, { statementTimeoutMs });
      try {
        const { rows } = await pool.query<{ statement_timeout: string; idle: string }>(
          `SELECT current_setting('statement_timeout') AS statement_timeout,
             current_setting('idle_in_transaction_session_timeout') AS idle`,
        );
        expect(rows[0]?.statement_timeout).toBe(expected);
        expect(rows[0]?.idle).toBe(idle);
      } finally {
        await pool.end();
      }
    }
  });

  it('answers a claim that waits on a table lock Busy after the timeout, and claims once the lock is gone', async () => {
    const { store, schema } = openStore();
    await store.migrate();
    const world = await makeWorld(store);
    await store.submitActivity(world.conversation.conversationId, planTo([webhookTo(world.system)]));
    const other = await otherSession(schema);
    // As a migration's DDL does: every statement that touches the table waits.
    await other.query('BEGIN');
    await other.query('LOCK TABLE lanes IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    await expect(within(BOUND_MS, store.claimDeliveries(claimRequest()))).rejects.toMatchObject(BUSY);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    await other.query('ROLLBACK');
    expect(await within(BOUND_MS, store.claimDeliveries(claimRequest()))).toHaveLength(1);
  });

  it('answers a delete that waits on a row another session locked Busy, and deletes once it is let go', async () => {
    const { store, schema } = openStore();
    await store.migrate();
    const world = await makeWorld(store);
    const other = await otherSession(schema);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [
      world.agent.integrationId,
    ]);
    await expect(within(BOUND_MS, store.deleteIntegration(world.agent.integrationId))).rejects.toMatchObject(
      BUSY,
    );
    // Reads that need no lock the other session holds are not held up meanwhile.
    expect((await store.getIntegration(world.agent.integrationId))?.integrationId).toBe(
      world.agent.integrationId,
    );
    await other.query('COMMIT');
    await within(BOUND_MS, store.deleteIntegration(world.agent.integrationId));
    expect(await store.getIntegration(world.agent.integrationId)).toBeUndefined();
  });

  it('commits a transaction during which the process was busy elsewhere for longer than the timeout', async () => {
    const { store } = openStore();
    await store.migrate();
    const world = await makeWorld(store);
    const plan = planTo([webhookTo(world.system)]);
    // The routing runs between two statements of the submit's transaction: an event loop held up this
    // long (a garbage collection, a starved CPU, other requests' work) leaves the session idle in it.
    const submitted = await store.submitActivity(world.conversation.conversationId, (ctx) => {
      const until = Date.now() + 2 * TIMEOUT_MS;
      while (Date.now() < until) {
        // busy
      }
      return plan(ctx);
    });
    expect(submitted.deliveryIds).toHaveLength(1);
    expect(await within(BOUND_MS, store.claimDeliveries(claimRequest()))).toHaveLength(1);
  });

  it('ends a pooled session left idle inside a transaction, letting go of its locks', async () => {
    const { store, url, schema } = openStore();
    await store.migrate();
    const world = await makeWorld(store);
    const pool = createPool(parsePostgresUrl(url), () => undefined, {
      statementTimeoutMs: TIMEOUT_MS,
      idleInTransactionTimeoutMs: TIMEOUT_MS,
    });
    let frozen: pg.PoolClient | undefined;
    try {
      // A process frozen mid-transaction (stopped, its network silent) holding a row lock.
      frozen = await pool.connect();
      await frozen.query('BEGIN');
      await frozen.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [
        world.agent.integrationId,
      ]);
      const other = await otherSession(schema);
      const locked = await within(
        BOUND_MS,
        other.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [
          world.agent.integrationId,
        ]),
      );
      expect(locked.rowCount).toBe(1);
    } finally {
      frozen?.release(true);
      await pool.end();
    }
  });

  it('answers 503, not 500, when the server ended a session left idle inside a transaction', async () => {
    const { url } = openStore();
    const pool = createPool(parsePostgresUrl(url), () => undefined, {
      idleInTransactionTimeoutMs: TIMEOUT_MS,
    });
    const translated = (error: unknown): unknown => {
      try {
        return translatePostgresError(error);
      } catch (thrown) {
        return thrown;
      }
    };
    try {
      // The server ends the session while the process is held up between two statements (its event
      // loop frozen): the next statement gets SQLSTATE 25P03.
      const frozen = await inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        const until = Date.now() + 5 * TIMEOUT_MS;
        while (Date.now() < until) {
          // frozen
        }
        await client.query('SELECT 1');
        return 'committed';
      }).catch(translated);
      // The server ends it while the process awaits something else: the connection reports the error
      // first, and the next statement finds it unusable.
      const waiting = await inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        await within(
          BOUND_MS,
          new Promise((resolve) => {
            client.once('error', resolve);
          }),
        );
        await client.query('SELECT 1');
        return 'committed';
      }).catch(translated);
      for (const outcome of [frozen, waiting]) {
        expect(outcome).toBeInstanceOf(HooksterError);
        expect((outcome as HooksterError).status).toBe(503);
      }
      // The pool hands out a working session afterwards.
      expect((await within(BOUND_MS, pool.query('SELECT 1 AS one'))).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('answers 503, not 500, for the transaction PostgreSQL aborts to break a deadlock', async () => {
    const { store, url } = openStore();
    await store.migrate();
    const world = await makeWorld(store);
    const pool = createPool(parsePostgresUrl(url), () => undefined);
    try {
      const rows = [world.agent.integrationId, world.customer.integrationId];
      let bothLocked: () => void = () => undefined;
      const locked = new Promise<void>((resolve) => (bothLocked = resolve));
      let firsts = 0;
      // Two transactions lock the same two rows in opposite orders: PostgreSQL aborts one of them.
      const lockBoth = (order: string[]) =>
        inTransaction(pool, async (client) => {
          await client.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [order[0]]);
          if ((firsts += 1) === 2) bothLocked();
          await locked;
          await client.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [order[1]]);
          return 'committed';
        }).catch((error: unknown) => {
          try {
            return translatePostgresError(error);
          } catch (translated) {
            return translated;
          }
        });
      const outcomes = await within(BOUND_MS, Promise.all([lockBoth(rows), lockBoth([...rows].reverse())]));
      expect(outcomes).toContain('committed');
      const aborted = outcomes.find((o) => o !== 'committed');
      expect(aborted).toBeInstanceOf(HooksterError);
      expect((aborted as HooksterError).status).toBe(503);
    } finally {
      await pool.end();
    }
  });

  it('migrates without the timeout while another process holds the migration lock longer', async () => {
    const { store, schema } = openStore();
    const other = await otherSession('public');
    const holder = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hookster:migrate:${schema}`]);
    const migrating = store.migrate();
    const outcome = migrating.then(
      () => 'migrated',
      (error: unknown) => error,
    );
    // Watched, not slept: the migration's session waits on that lock for well over the timeout.
    const watcher = await otherSession('public');
    for (;;) {
      const { rows } = await watcher.query<{ waited: number }>(
        `SELECT extract(epoch FROM clock_timestamp() - query_start) * 1000 AS waited, pg_sleep(0.02)
         FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
        [holder],
      );
      if (Number(rows[0]?.waited ?? 0) > 3 * TIMEOUT_MS) break;
      expect(await Promise.race([outcome, Promise.resolve('waiting')])).toBe('waiting');
    }
    await other.query('COMMIT');
    expect(await within(BOUND_MS, outcome)).toBe('migrated');
    expect(await store.getTenant('nobody')).toBeUndefined();
  });
});
