// Two engines on one PostgreSQL schema: an integration paused and resumed through one engine has its
// held websocket deliveries pushed, in order, to a client connected to the other.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import {
  apiClient,
  createTenantWithToken,
  eventually,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const available = await postgresAvailable();
const { url, schema } = freshSchemaUrl('gwpause');

let releaser: InProcessEngine;
let pusher: InProcessEngine;
let tenant: TenantFixture;

describe.runIf(available)('held websocket deliveries released across engine processes (PostgreSQL)', () => {
  beforeAll(async () => {
    releaser = await startInProcessEngine({ databaseUrl: url, gateway: { remoteGraceMs: 300 } });
    pusher = await startInProcessEngine({
      databaseUrl: url,
      adminToken: releaser.adminToken,
      migrate: false,
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

  it('pushes the held activities in order to a client of the other process and records them delivered', async () => {
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
      for (const text of ['one', 'two', 'three']) {
        const response = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
          type: 'message',
          message: { type: 'text', text },
        });
        expect(response.status, response.text).toBe(200);
        held.push(response.body.eventId as number);
      }
      // Resumed through the engine that has no connection: the push travels on the bus.
      expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 })).status).toBe(200);
      await client.waitFor(() => client.activities.length === 3, 15_000, 'the released pushes');
      expect(client.activities.map((a) => a.eventId)).toEqual(held);
      const other = apiClient(pusher.url, tenant.token);
      const statuses = await eventually(async () => {
        const response = await other.get(
          `/api/v1/integrations/${agent.integrationId}/deliveries?pageSize=10`,
        );
        const list = (response.body.results as Json[]).map((d) => d.status as string);
        return list.length === 3 && list.every((s) => s === 'delivered') ? list : undefined;
      }, 15_000);
      expect(statuses).toEqual(['delivered', 'delivered', 'delivered']);
    } finally {
      client.close();
      await client.closed;
    }
  });
});
