// Two dispatchers on one PostgreSQL schema (two processes) and a real receiver. One process's claim comes
// back late (here: it waits for a row lock a third connection holds; in production a pooled connection
// or a slow server): its lease started when the claim did, so its attempt must end before that lease
// does. Otherwise the other process takes the expired lease over and sends the same delivery while the
// first request is still open.

import pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../../test/delivery/receiver.js';
import { loadConfig } from '../config/load.js';
import type { Dispatcher } from '../engine-parts.js';
import { makeWorld, planTo, webhookTo } from '../store/conformance/fixtures.js';
import type { Store } from '../store/contract.js';
import { createPostgresStore } from '../store/postgres/index.js';
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  freshSchemaUrl,
  postgresAvailable,
} from '../store/postgres/test-database.js';
import { createDispatcher } from './dispatcher.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const dispatchers: Dispatcher[] = [];
const receivers: TestReceiver[] = [];
const clients: pg.Client[] = [];

afterAll(async () => {
  for (const dispatcher of dispatchers) await dispatcher.stop();
  for (const receiver of receivers) await receiver.close();
  for (const client of clients) await client.end().catch(() => undefined);
  for (const store of stores) await store.close();
  if (available) await dropSchemas(schemas);
});

/** Resolves with `check()`'s first defined answer, polling every 10 ms; throws after `ms`. */
async function until<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  for (const deadline = Date.now() + ms; ;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.runIf(available)('dispatchers of two processes after a slow claim', () => {
  it('never has the delivery in flight twice when a claim came back after part of its lease was gone', async () => {
    const { url, schema } = freshSchemaUrl('slowclaim');
    schemas.push(schema);
    const a = createPostgresStore(url);
    const b = createPostgresStore(url);
    stores.push(a, b);
    await a.migrate();
    await b.migrate();

    // A slow endpoint: answers each request after 800 ms. Overlap is judged where it matters, at the
    // receiver: a request arriving while another is still open.
    let open = 0;
    const overlaps: number[] = [];
    const hook = await startTestReceiver((request, res) => {
      if (open > 0) overlaps.push(request.at);
      open++;
      res.on('close', () => open--);
      setTimeout(() => res.end('ok'), 800);
    });
    receivers.push(hook);
    const world = await makeWorld(a);
    await a.updateIntegration({
      ...world.system,
      configuration: { ...world.system.configuration, webhookUrl: hook.url, retrySchedule: '10s' },
    });
    const submitted = await a.submitActivity(
      world.conversation.conversationId,
      planTo([webhookTo(world.system)], { text: 'once at a time' }),
    );
    const deliveryId = submitted.deliveryIds[0]!;

    // A third connection holds the delivery's row, so process A's claim waits in its UPDATE.
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    clients.push(admin);
    await admin.connect();
    await admin.query('BEGIN');
    await admin.query(`SELECT 1 FROM "${schema}".deliveries WHERE delivery_id = $1 FOR UPDATE`, [deliveryId]);
    const adminPid = ((await admin.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;

    // Attempts time out after 1 s; leases are that plus 300 ms.
    const config = loadConfig({
      env: { HOOKSTER_EGRESS_ALLOW: '127.0.0.1/32', HOOKSTER_DELIVERY_TIMEOUT: '1s' },
    });
    const start = (store: Store): Dispatcher => {
      const dispatcher = createDispatcher({
        config,
        store,
        logger: pino({ level: 'silent' }),
        leaseMarginMs: 300,
        idlePollMs: 50,
      });
      dispatchers.push(dispatcher);
      dispatcher.start();
      return dispatcher;
    };
    start(a);
    const observer = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    clients.push(observer);
    await observer.connect();
    await until(
      async () => {
        const { rows } = await observer.query(
          'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [adminPid],
        );
        return rows.length > 0 ? true : undefined;
      },
      10_000,
      "process A's claim waiting for the row",
    );
    // Process B runs meanwhile (the lane is A's while A's claim is open).
    start(b);
    // The slow claim: it comes back 1.2 s after it started, past the attempt time its lease allows.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await admin.query('COMMIT');

    const delivered = await until(
      async () => {
        const delivery = await a.getDelivery(deliveryId);
        return delivery?.status === 'delivered' ? delivery : undefined;
      },
      15_000,
      'the delivery delivered',
    );
    expect(overlaps, 'a request of the delivery arrived while another was still open').toEqual([]);
    expect(delivered.attempts?.at(-1)?.statusCode).toBe(200);
  });
});
