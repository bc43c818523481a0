// Two engines on one PostgreSQL schema. While the engine that resumed a hub releases its held backlog
// to a client connected to it, activities committed through the other engine reach that client by the
// bus: they must wait for the backlog like the engine's own fresh commits, not overtake it — and are
// still recorded delivered, although the other engine records "no connection" after its grace period.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import {
  apiClient,
  createTenantWithToken,
  eventually,
  setupHub,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const available = await postgresAvailable();
const { url, schema } = freshSchemaUrl('gwrelord');
const PADDING = 'p'.repeat(30_000);
const HELD = 300;

let releaser: InProcessEngine;
let other: InProcessEngine;
let tenant: TenantFixture;

describe.runIf(available)('fresh activities of another engine during a release (PostgreSQL)', () => {
  beforeAll(async () => {
    releaser = await startInProcessEngine({ databaseUrl: url, gateway: { maxBufferedBytes: 64 * 1024 } });
    other = await startInProcessEngine({
      databaseUrl: url,
      adminToken: releaser.adminToken,
      migrate: false,
      gateway: { remoteGraceMs: 50 },
    });
    await other.gateway.ready();
    await releaser.gateway.ready();
    tenant = await createTenantWithToken(releaser);
  });

  afterAll(async () => {
    await releaser?.stop();
    await other?.stop();
    await dropSchemas([schema]);
  });

  it('pushes them after the held backlog, even when the client stalls mid-release', async () => {
    const hub = await setupHub(tenant.client);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { conversationId } = await hub.openConversation();
    const client = await connectRawHub(releaser.url, { token: tenant.token, iId: agent.integrationId });
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    const post = async (api: typeof tenant.client, text: string): Promise<number> => {
      const response = await api.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text },
      });
      expect(response.status, response.text).toBe(200);
      return response.body.eventId as number;
    };
    try {
      expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2002 })).status).toBe(200);
      for (let i = 0; i < HELD; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => post(tenant.client, `held ${i + k} ${PADDING}`)),
        );
      }
      // The client stops reading: the release (~9 MB against a 64 KiB buffer) cannot finish meanwhile.
      socket.pause();
      const resume = tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 });
      await eventually(async () =>
        (await tenant.client.get(`/api/v1/hubs/${hub.hubId}`)).body.statusId === 2000 ? true : undefined,
      );
      // Committed through the other engine, after the resume: pushed to the client by the bus.
      const otherApi = apiClient(other.url, tenant.token);
      const fresh: number[] = [];
      for (let i = 0; i < 5; i++) fresh.push(await post(otherApi, `fresh ${i}`));
      socket.resume();
      expect((await resume).status).toBe(200);
      await client.waitFor(() => client.activities.length >= HELD + 5, 30_000, 'backlog and fresh');
      const ids = client.activities.map((a) => a.eventId as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ids.slice(-5)).toEqual(fresh);
      const page = { pageNumber: 0, pageSize: 1 };
      await eventually(async () => {
        const delivered = await releaser.store.listDeliveries(agent.integrationId, 'delivered', page);
        return delivered.total === HELD + 5 ? true : undefined;
      }, 15_000);
      expect((await releaser.store.listDeliveries(agent.integrationId, 'failed', page)).total).toBe(0);
    } finally {
      socket.resume();
      client.close();
      await client.closed;
    }
  });
});
