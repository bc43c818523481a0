// A backlog held during a long pause can be far larger than a connection's send buffer: the release
// is paced by the connection's draining, so a client that reads normally receives all of it, in order,
// and is not dropped as a slow consumer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithToken, eventually, setupHub, type TenantFixture } from '../support/client.js';
import { dropIsolatedSchema, isolatedTestDatabaseUrl } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const SEND_BUFFER = 64 * 1024;
const HELD = 600;
const PADDING = 'p'.repeat(30_000);

const databaseUrl = isolatedTestDatabaseUrl();
let engine: InProcessEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startInProcessEngine({
    databaseUrl,
    gateway: { maxBufferedBytes: SEND_BUFFER },
  });
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
  if (databaseUrl !== undefined) await dropIsolatedSchema(databaseUrl);
});

/** A paused hub with a Direct Agent integration whose client is connected, and a customer submitter. */
async function pausedHubWithClient() {
  const hub = await setupHub(tenant.client);
  const agent = await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Agent' },
  });
  const { conversationId } = await hub.openConversation();
  const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
  expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2002 })).status).toBe(200);
  const post = (text: string) =>
    tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text },
    });
  return { hub, agent, client, post };
}

describe('releasing a held backlog larger than the send buffer', () => {
  it('delivers every held activity in order to a client that reads normally', async () => {
    const { hub, agent, client, post } = await pausedHubWithClient();
    try {
      const held: number[] = [];
      for (let i = 0; i < HELD; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, HELD - i) }, (_, k) => post(`${i + k} ${PADDING}`)),
        );
        for (const response of batch) held.push(response.body.eventId as number);
      }
      held.sort((a, b) => a - b);
      // ~18 MB of frames against a 64 KiB send buffer.
      expect((await tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 })).status).toBe(200);
      await client.waitFor(() => client.activities.length === HELD, 30_000, 'every held activity');
      expect(client.activities.map((a) => a.eventId)).toEqual(held);
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      await eventually(async () => {
        const d = await engine.store.listDeliveries(agent.integrationId, 'delivered', {
          pageNumber: 0,
          pageSize: 1,
        });
        return d.total === HELD ? true : undefined;
      }, 15_000);
    } finally {
      client.close();
      await client.closed;
    }
  });

  it('holds fresh activities back until the release of the backlog ends, even when the client stalls', async () => {
    // Before: a fresh activity committed during the release was pushed at once, ahead of the part of
    // the backlog still waiting for the stalled client's buffer to drain.
    const { hub, client, post } = await pausedHubWithClient();
    try {
      const heldCount = 300;
      for (let i = 0; i < heldCount; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => post(`held ${i + k} ${PADDING}`)));
      }
      // The client stops reading: the release (~9 MB against a 64 KiB buffer) cannot finish meanwhile.
      const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const resume = tenant.client.put(`/api/v1/hubs/${hub.hubId}`, { statusId: 2000 });
      // The resume is committed (its release has begun, in the same turn): now fresh activities come.
      await eventually(async () =>
        (await tenant.client.get(`/api/v1/hubs/${hub.hubId}`)).body.statusId === 2000 ? true : undefined,
      );
      const fresh: number[] = [];
      for (let i = 0; i < 5; i++) fresh.push((await post(`fresh ${i}`)).body.eventId as number);
      socket.resume();
      expect((await resume).status).toBe(200);
      await client.waitFor(() => client.activities.length >= heldCount + 5, 30_000, 'backlog and fresh');
      const ids = client.activities.map((a) => a.eventId as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ids.slice(-5)).toEqual(fresh);
    } finally {
      client.close();
      await client.closed;
    }
  });
});
