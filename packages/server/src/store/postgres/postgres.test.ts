// Runs PostgreSQL-specific store behaviour on the machine's PostgreSQL, a fresh schema per store.

import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreConformance } from '../conformance/suite.js';
import type { Store } from '../contract.js';
import {
  bodyActivities,
  claimRequest,
  makeWorld,
  planTo,
  record,
  webhookTo,
} from '../conformance/fixtures.js';
import { createPool } from './connection.js';
import { createPostgresStore } from './index.js';
import { parsePostgresUrl } from './url.js';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];

const urls = new WeakMap<Store, string>();

function openAt(url: string): Store {
  const store = createPostgresStore(url);
  urls.set(store, url);
  stores.push(store);
  return store;
}

describe.runIf(available)('PostgreSQL', () => {
  describeStoreConformance(
    'postgres',
    async () => {
      const { url, schema } = freshSchemaUrl('conf');
      schemas.push(schema);
      return openAt(url);
    },
    async (closed) => openAt(urls.get(closed)!),
  );
});

async function openStore(): Promise<Store> {
  const { url, schema } = freshSchemaUrl('pg');
  schemas.push(schema);
  const store = createPostgresStore(url);
  stores.push(store);
  await store.migrate();
  return store;
}

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

describe.runIf(available)('PostgreSQL store basics', () => {
  it('runs its sessions with synchronous_commit off only when HOOKSTER_SYNC is an interval', async () => {
    const settings = parsePostgresUrl(freshSchemaUrl('sync').url);
    for (const [asyncCommit, expected] of [
      [false, 'on'],
      [true, 'off'],
    ] as const) {
      const pool = createPool(settings, () => undefined, { asyncCommit });
      try {
        const { rows } = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        expect(rows[0]?.synchronous_commit).toBe(expected);
      } finally {
        await pool.end();
      }
    }
  });

  it('migrates twice without error and records the version once', async () => {
    const store = await openStore();
    await store.migrate();
    const tenant = {
      tenantId: 't1',
      name: 'n',
      accountHolderEmail: 'e',
      statusId: 1000,
      created: 'c',
      modified: 'm',
    };
    await store.createTenant(tenant);
    expect(await store.getTenant('t1')).toEqual(tenant);
  });

  it('delivers a lane in order, batching waiting System deliveries at first dispatch', async () => {
    const store = await openStore();
    const world = await makeWorld(store);
    for (let i = 0; i < 5; i++) {
      await store.submitActivity(
        world.conversation.conversationId,
        planTo([webhookTo(world.system)], { text: `m${i}` }),
      );
    }
    const first = await store.claimDeliveries(claimRequest({ batchMaxActivities: 3 }));
    expect(first).toHaveLength(1);
    expect(bodyActivities(first[0]!).map((a) => a.message?.['text'])).toEqual(['m0', 'm1', 'm2']);
    expect(await store.claimDeliveries(claimRequest())).toHaveLength(0);
    expect(await store.recordAttempts([record(first[0]!, { status: 'delivered' })])).toEqual([
      first[0]!.deliveryId,
    ]);
    const second = await store.claimDeliveries(claimRequest());
    expect(bodyActivities(second[0]!).map((a) => a.message?.['text'])).toEqual(['m3', 'm4']);
  });
});
