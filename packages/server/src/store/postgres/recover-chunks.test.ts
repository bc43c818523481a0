// Recover on PostgreSQL reopens failed deliveries a chunk per transaction, in delivery order: what one
// chunk reopened is committed (and claimable) while a later chunk still waits, so a large recover holds
// row locks for one chunk at a time and no transaction of it grows with the number of failed deliveries.

import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Store } from '../contract.js';
import {
  deliverAll,
  failAll,
  makeWorld,
  newConversation,
  page,
  planTo,
  submitAcross,
  webhookTo,
  websocketTo,
} from '../conformance/fixtures.js';
import { RECOVER_CHUNK } from './deliveries.js';
import { createPostgresStore } from './index.js';
import { dropSchemas, freshSchemaUrl, postgresAvailable, sessionIn } from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const clients: pg.Client[] = [];

function openStore(): { store: Store; schema: string } {
  const { url, schema } = freshSchemaUrl('recover');
  schemas.push(schema);
  const store = createPostgresStore(url);
  stores.push(store);
  return { store, schema };
}

const otherSession = (schema: string): Promise<pg.Client> => sessionIn(schema, clients);

/** Resolves once `check` holds, polling every 20 ms; rejects after `ms`. */
async function until(ms: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterAll(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

describe.runIf(available)('PostgreSQL recover', () => {
  it('commits each chunk of failed deliveries on its own, in delivery order, lanes in order', async () => {
    const { store, schema } = openStore();
    await store.migrate();
    const w = await makeWorld(store);
    const plan = planTo([webhookTo(w.customer)]);
    const conversations = [w.conversation];
    for (let i = 1; i < 20; i++) conversations.push(await newConversation(store, w.customer));
    // More than two chunks, so a recover spans at least three transactions.
    const perLane = Math.ceil((2 * RECOVER_CHUNK + 1) / conversations.length);
    const submitted = await submitAcross(store, conversations, perLane, plan);
    const total = perLane * conversations.length;
    await failAll(store);
    const failed = async () => (await store.listDeliveries(w.customer.integrationId, 'failed', page())).total;
    expect(await failed()).toBe(total);

    // Another session locks the newest failed delivery: the chunk holding it waits for the lock.
    const other = await otherSession(schema);
    await other.query('BEGIN');
    await other.query(
      `SELECT 1 FROM deliveries WHERE integration_id = $1 AND status = 'failed'
       ORDER BY seq DESC LIMIT 1 FOR UPDATE`,
      [w.customer.integrationId],
    );
    let settled = false;
    const recovering = store.recoverDeliveries(w.customer.integrationId, 0, Date.now()).finally(() => {
      settled = true;
    });
    try {
      // The chunks before the locked one are committed while the recover still waits.
      const lastChunk = total - RECOVER_CHUNK * Math.floor((total - 1) / RECOVER_CHUNK);
      await until(10_000, `only the last chunk's ${lastChunk} still failed`, async () => {
        return (await failed()) === lastChunk;
      });
      expect(settled).toBe(false);
    } finally {
      await other.query('ROLLBACK');
    }
    expect(await recovering).toBe(total);
    expect(await failed()).toBe(0);

    expect(await deliverAll(store)).toEqual(submitted);
  });

  it('reopens only failed webhook deliveries created since the given time, whatever lies between them', async () => {
    const { store } = openStore();
    await store.migrate();
    const w = await makeWorld(store);
    const webhook = planTo([webhookTo(w.customer)]);
    // An old failed webhook delivery (before `since`), more than a chunk of failed websocket ones
    // (recover skips them), then two failed webhook ones after `since`.
    await store.submitActivity(w.conversation.conversationId, webhook);
    await failAll(store);
    const other = await newConversation(store, w.customer);
    const since = Date.now() + 1;
    await until(1_000, 'the clock past the old delivery', async () => Date.now() > since);
    for (let i = 0; i < RECOVER_CHUNK + 1; i++) {
      await store.submitActivity(w.conversation.conversationId, planTo([websocketTo(w.customer)]));
    }
    expect(await store.failStaleWebsocketDeliveries(Date.now() + 1, 'stale', 10 * RECOVER_CHUNK)).toBe(
      RECOVER_CHUNK + 1,
    );
    await store.submitActivity(other.conversationId, webhook);
    await store.submitActivity(w.conversation.conversationId, webhook);
    await failAll(store);
    expect(await store.recoverDeliveries(w.customer.integrationId, since, Date.now())).toBe(2);
    const pending = await store.listDeliveries(w.customer.integrationId, 'pending', page());
    expect(pending.results.map((d) => Date.parse(d.createdAt) >= since)).toEqual([true, true]);
    expect((await store.listDeliveries(w.customer.integrationId, 'failed', page())).total).toBe(
      1 + RECOVER_CHUNK + 1,
    );
  });
});
