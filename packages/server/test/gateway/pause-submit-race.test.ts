// A pause sent while a submit's transaction is open (after it read the statuses, before its commit)
// waits for that commit: otherwise it would be answered first, and the activity, committed after it,
// still pushed at once to a connected client (DESIGN §2.2.5: a paused integration holds its
// deliveries). What is submitted after the pause is held until the resume. The pause goes through
// another engine process on the same PostgreSQL schema, while this engine's submit waits inside its
// transaction.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/contract.js';
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  freshSchemaUrl,
  postgresAvailable,
} from '../../src/store/postgres/test-database.js';
import { createTenantWithToken, submitText, type TenantFixture } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { agentScene } from './agent-scene.js';
import { connectRawHub } from './raw-hub-client.js';

const available = await postgresAvailable();
const { url, schema } = freshSchemaUrl('gwpauserace');

let submitter: InProcessEngine;
let other: RunningEngine;
let tenant: TenantFixture;
/** Run once inside the next submit's transaction, after it read the statuses. */
let duringNextSubmit: (() => void) | undefined;

function wrap(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'submitActivity') {
        const submit: Store['submitActivity'] = (conversationId, plan) =>
          target.submitActivity(conversationId, (ctx) => {
            const hook = duringNextSubmit;
            duringNextSubmit = undefined;
            hook?.();
            return plan(ctx);
          });
        return submit;
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.runIf(available)('a pause committed while a submit is in its transaction (PostgreSQL)', () => {
  beforeAll(async () => {
    submitter = await startInProcessEngine({ databaseUrl: url, wrapStore: wrap });
    other = await startEngine({ databaseUrl: url, adminToken: submitter.adminToken });
    tenant = await createTenantWithToken(submitter);
  }, 60_000);

  afterAll(async () => {
    await other?.stop();
    await submitter?.stop();
    await dropSchemas([schema]);
  });

  it('makes a pause wait for a submit in its transaction, and holds what is submitted after it', async () => {
    const { agent, conversationId } = await agentScene(tenant.client);
    const client = await connectRawHub(submitter.url, { token: tenant.token, iId: agent.integrationId });
    try {
      let pauseExit: Promise<unknown[]> | undefined;
      let pauseStatus = '';
      let pauseWaited = false;
      duringNextSubmit = () => {
        // This engine's event loop stands still here, inside the submit's transaction: the pause goes
        // to the other engine from a child process, and its UPDATE must wait for this transaction's
        // lock (seen in pg_stat_activity, polled synchronously, at most 10 s). Before the fix it did
        // not wait: it committed and was answered while this transaction was still open.
        const pause = spawn('curl', [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-X',
          'PUT',
          '-H',
          `authorization: Bearer ${tenant.token}`,
          '-H',
          'content-type: application/json',
          '--data',
          '{"statusId":3002}',
          `${other.url}/api/v1/integrations/${agent.integrationId}`,
        ]);
        // 'close', not 'exit': at 'exit' the child's stdout may not have been read yet.
        pauseExit = once(pause, 'close');
        pause.stdout.on('data', (chunk: Buffer) => (pauseStatus += chunk.toString()));
        const deadline = Date.now() + 10_000;
        while (!pauseWaited && Date.now() < deadline) {
          const waiting = execFileSync('psql', [
            TEST_POSTGRES_URL,
            '-tAc',
            // The pause's update locks the integration row first (SELECT … FOR UPDATE, whatever it
            // reads), then updates it.
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND (query LIKE 'UPDATE integrations%' OR query LIKE 'SELECT % FROM integrations WHERE integration_id = %FOR UPDATE')",
          ]);
          pauseWaited = waiting.toString().trim() !== '0';
        }
      };
      const before = await submitText(tenant.client, conversationId, 'committed before the pause');
      const [exitCode] = (await pauseExit!) as [number];
      expect(exitCode).toBe(0);
      expect(pauseStatus).toBe('200');
      expect(pauseWaited).toBe(true);
      // Committed before the pause: pushed.
      await client.waitFor(() => client.activities.length === 1, 10_000, 'the activity before the pause');
      // Committed after the pause was answered: held until the resume.
      const after = await submitText(tenant.client, conversationId, 'committed after the pause');
      const held = execFileSync('psql', [
        TEST_POSTGRES_URL,
        '-tAc',
        `SELECT count(*) FROM "${schema}".deliveries WHERE held_push`,
      ]);
      expect(held.toString().trim()).toBe('1');
      expect(client.activities).toHaveLength(1);
      expect(
        (await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, { statusId: 3000 })).status,
      ).toBe(200);
      await client.waitFor(() => client.activities.length === 2, 10_000, 'the released activity');
      expect(client.activities.map((a) => a.eventId)).toEqual([before, after]);
    } finally {
      client.close();
      await client.closed;
    }
  });
});
