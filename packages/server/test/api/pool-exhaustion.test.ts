// PostgreSQL: when every pooled connection of a process is taken (here the one of `pool=1`, held by a
// submit waiting for a row lock), the requests that wait for a connection past the pool's wait are
// answered 503 with Retry-After, the "try again shortly" of the error catalogue, not a bare 500.

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  freshSchemaUrl,
  postgresAvailable,
  startProxy,
  throughProxy,
} from '../../src/store/postgres/test-database.js';
import { adminClient, createTenantWithToken, setupHub } from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from '../gateway/harness.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const engines: InProcessEngine[] = [];

afterAll(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  if (available) await dropSchemas(schemas);
});

describe.runIf(available)('a PostgreSQL pool with no free connection', () => {
  it('answers a burst of requests 503 with Retry-After, then serves again once a connection is free', async () => {
    const { url, schema } = freshSchemaUrl('pool');
    schemas.push(schema);
    const onePool = new URL(url);
    onePool.searchParams.set('pool', '1');
    const engine = await startInProcessEngine({ databaseUrl: onePool.toString() });
    engines.push(engine);
    const tenant = await createTenantWithToken(engine);
    const hub = await setupHub(tenant.client);
    const { conversationId } = await hub.openConversation();

    const holder = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".conversations WHERE conversation_id = $1 FOR UPDATE`, [
        conversationId,
      ]);
      // The submit takes the pool's only connection and waits for the conversation's row lock.
      const submitted = tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: 'waits for the lock' },
      });
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      for (let i = 0; ; i++) {
        const { rows } = await holder.query(
          `SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
          [pid],
        );
        if (rows.length > 0) break;
        if (i > 400) throw new Error('the submit never waited for the lock');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }

      const admin = adminClient(engine);
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => admin.get(`/api/v1/hubs/${hub.hubId}`)),
      );
      for (const response of burst) {
        expect(response.status, response.text).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect((response.body as { errors: { code: number }[] }).errors[0]?.code).toBe(103);
      }
      await holder.query('ROLLBACK');
      expect((await submitted).status).toBe(200);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect((await adminClient(engine).get(`/api/v1/hubs/${hub.hubId}`)).status).toBe(200);
  }, 60_000);
});

describe.runIf(available)('a PostgreSQL server that cannot be reached', () => {
  it('answers 503 with Retry-After, not 500, while the connections are cut and new ones refused', async () => {
    const { url, schema } = freshSchemaUrl('gone');
    schemas.push(schema);
    const proxy = await startProxy();
    const engine = await startInProcessEngine({ databaseUrl: throughProxy(url, proxy.port) });
    engines.push(engine);
    const tenant = await createTenantWithToken(engine);
    const hub = await setupHub(tenant.client);
    const { conversationId } = await hub.openConversation();
    expect((await adminClient(engine).get(`/api/v1/hubs/${hub.hubId}`)).status).toBe(200);

    // The database goes away: every open connection is cut, and a new one is refused.
    await proxy.close();
    const admin = adminClient(engine);
    const answers = [
      await admin.get(`/api/v1/hubs/${hub.hubId}`),
      await admin.get(`/api/v1/hubs/${hub.hubId}`),
      await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: 'no database' },
      }),
    ];
    for (const response of answers) {
      expect(response.status, response.text).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
    }
  }, 60_000);
});
