// Two engines on one PostgreSQL schema: an announced activity too large for the bus is read from the
// database by the process that pushes it, one activity per announcement — not the rest of the
// conversation from it on (up to 1,000 activities or 8 MB each time, while a resumed backlog is pushed).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import type { ListActivitiesQuery } from '../../src/store/contract.js';
import { createTenantWithToken, setupHub, type TenantFixture } from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const available = await postgresAvailable();
const { url, schema } = freshSchemaUrl('gwload');
const PADDING = 'p'.repeat(10_000);
const HELD = 40;

let releaser: InProcessEngine;
let pusher: InProcessEngine;
let tenant: TenantFixture;
/** How many activities each read of the pushing engine's gateway returned. */
const reads: number[] = [];

describe.runIf(available)('large announced activities (PostgreSQL)', () => {
  beforeAll(async () => {
    releaser = await startInProcessEngine({ databaseUrl: url });
    pusher = await startInProcessEngine({
      databaseUrl: url,
      adminToken: releaser.adminToken,
      migrate: false,
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'listActivities') {
              return async (conversationId: string, query: ListActivitiesQuery) => {
                const activities = await target.listActivities(conversationId, query);
                reads.push(activities.length);
                return activities;
              };
            }
            return Reflect.get(target, prop, receiver) as unknown;
          },
        }),
    });
    await pusher.gateway.ready();
    await releaser.gateway.ready();
    tenant = await createTenantWithToken(releaser);
  });

  afterAll(async () => {
    await releaser?.stop();
    await pusher?.stop();
    await dropSchemas([schema]);
  });

  it('reads only the announced activity when a released backlog of large ones reaches the other process', async () => {
    const hub = await setupHub(tenant.client);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { conversationId } = await hub.openConversation();
    const client = await connectRawHub(pusher.url, { token: tenant.token, iId: agent.integrationId });
    try {
      expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2002 })).status).toBe(200);
      const held: number[] = [];
      for (let i = 0; i < HELD; i++) {
        const response = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
          type: 'message',
          message: { type: 'text', text: `${i} ${PADDING}` },
        });
        expect(response.status, response.text).toBe(200);
        held.push(response.body.eventId as number);
      }
      // Resumed through the engine without a connection: each push travels on the bus, without the
      // activity (too large), and the other engine reads it.
      expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 })).status).toBe(200);
      await client.waitFor(() => client.activities.length === HELD, 15_000, 'the released pushes');
      expect(client.activities.map((a) => a.eventId)).toEqual(held);
      expect(reads).toHaveLength(HELD);
      expect(Math.max(...reads)).toBe(1);
    } finally {
      client.close();
      await client.closed;
    }
  });
});
