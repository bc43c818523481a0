// A record on PostgreSQL that promotes its lane's next delivery wakes this process's dispatcher, even when
// that delivery was submitted (by another process, which then sent no NOTIFY: the lane was still held)
// after the record began, with a creation time later than the record's start.

import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { Store } from '../contract.js';
import { claimRequest, makeWorld, planTo, record, webhookTo } from '../conformance/fixtures.js';
import { createPostgresStore } from './index.js';
import {
  blockedBy,
  dropSchemas,
  freshSchemaUrl,
  pidOf,
  postgresAvailable,
  sessionIn,
} from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const clients: pg.Client[] = [];

afterAll(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

describe.runIf(available)('PostgreSQL record', () => {
  it('signals work for a head it promotes that was submitted after the record began', async () => {
    const { url, schema } = freshSchemaUrl('promote');
    schemas.push(schema);
    const store = createPostgresStore(url);
    stores.push(store);
    await store.migrate();
    const w = await makeWorld(store);
    const conversationId = w.conversation.conversationId;
    await store.submitActivity(conversationId, planTo([webhookTo(w.customer)]));
    const [first] = await store.claimDeliveries(claimRequest());
    expect(first).toBeDefined();

    // Another process holds the lane while it writes the lane's next delivery; the record waits for it.
    const other = await sessionIn(schema, clients);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM lanes WHERE integration_id = $1 AND conversation_id = $2 FOR UPDATE', [
      w.customer.integrationId,
      conversationId,
    ]);
    let signals = 0;
    const unsubscribe = store.onWork(() => (signals += 1));
    const recording = store.recordAttempts([record(first!, { status: 'delivered' })]);
    const watcher = await sessionIn(schema, clients);
    expect(await blockedBy(watcher, await pidOf(other)), 'the record waits for the lane').toBeDefined();
    // Its creation time is later than the record's start (the other process's clock may even be ahead).
    const createdAt = Date.now() + 5;
    await other.query(
      `INSERT INTO deliveries (delivery_id, integration_id, conversation_id, hub_id, tenant_id, transport, echo,
         event_id, event_ids, status, created_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, 'webhook', false, $6, ARRAY[$6]::bigint[], 'pending', $7, $7)`,
      [
        randomUUID(),
        w.customer.integrationId,
        conversationId,
        w.hub.hubId,
        w.tenant.tenantId,
        Number.MAX_SAFE_INTEGER,
        createdAt,
      ],
    );
    await other.query('COMMIT');
    expect(await recording).toEqual([first!.deliveryId]);
    unsubscribe();
    expect(signals).toBeGreaterThan(0);
  });
});
