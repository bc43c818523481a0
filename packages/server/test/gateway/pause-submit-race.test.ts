// A pause that commits while a submit's transaction is open (after it read the statuses, before its
// commit) must still hold that submit's websocket delivery: the activity is committed after the pause
// was answered, so a connected client must not receive it until the resume (DESIGN §2.2.5). The pause
// goes through another engine process on the same PostgreSQL schema, while this engine's submit waits
// inside its transaction.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/contract.js';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import { createTenantWithToken, setupHub, submitText, type TenantFixture } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
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

  // KNOWN BUG, not fixed yet: the submit reads the statuses from its statement's snapshot and locks the
  // integrations FOR KEY SHARE only (hubs not at all), so the pause commits meanwhile and the delivery is
  // written unheld and pushed at once. `it.fails` keeps the suite green while it stands; drop `.fails`
  // with the fix (e.g. a submit lock that a pause's UPDATE of the integration or hub row waits for).
  it.fails('holds the delivery: the connected client receives nothing until the resume', async () => {
    const hub = await setupHub(tenant.client);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { conversationId } = await hub.openConversation();
    const client = await connectRawHub(submitter.url, { token: tenant.token, iId: agent.integrationId });
    try {
      let pauseStatus = '';
      duringNextSubmit = () => {
        // Synchronous on purpose: this engine is stopped inside the submit's transaction meanwhile.
        pauseStatus = execFileSync('curl', [
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
        ]).toString();
      };
      const eventId = await submitText(tenant.client, conversationId, 'committed after the pause');
      expect(pauseStatus).toBe('200');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(client.activities.map((a) => a.eventId)).toEqual([]);
      // The resume releases it.
      expect(
        (await tenant.client.put(`/api/v1/integrations/${agent.integrationId}`, { statusId: 3000 })).status,
      ).toBe(200);
      await client.waitFor(() => client.activities.length === 1, 10_000, 'the released activity');
      expect(client.activities[0]?.eventId).toBe(eventId);
    } finally {
      client.close();
      await client.closed;
    }
  });
});
