// A release waiting for a stalled client of one hub (up to 10 s) must not hold up the resume of another
// hub: releases of different hubs reach different connections, so they need not wait for each other.
// Runs on SQLite, and on PostgreSQL with HOOKSTER_TEST_DATABASE_URL.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithToken, eventually, setupHub, type TenantFixture } from '../support/client.js';
import { dropIsolatedSchema, isolatedTestDatabaseUrl } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const PADDING = 'p'.repeat(30_000);

const databaseUrl = isolatedTestDatabaseUrl();
let engine: InProcessEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startInProcessEngine({ databaseUrl, gateway: { maxBufferedBytes: 64 * 1024 } });
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
  const post = async (text: string): Promise<number> => {
    const response = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text },
    });
    expect(response.status, response.text).toBe(200);
    return response.body.eventId as number;
  };
  return { hub, client, post };
}

describe('releases of two hubs', () => {
  it('pushes the held activities of a resumed hub while another hub’s release waits for a stalled client', async () => {
    const stalledHub = await pausedHubWithClient();
    const otherHub = await pausedHubWithClient();
    const socket = (stalledHub.client.ws as unknown as { _socket: { pause(): void; resume(): void } })
      ._socket;
    try {
      for (let i = 0; i < 300; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => stalledHub.post(`held ${i + k} ${PADDING}`)));
      }
      const otherHeld = await otherHub.post('held on the other hub');
      // The first hub's client stops reading: its release (~9 MB against a 64 KiB buffer) waits.
      socket.pause();
      const stalledResume = tenant.client
        .put(`/api/v1/hubs/${stalledHub.hub.hubId}`, { statusId: 2000 })
        .then((response) => ({ hub: 'stalled', status: response.status }));
      await eventually(async () =>
        (await tenant.client.get(`/api/v1/hubs/${stalledHub.hub.hubId}`)).body.statusId === 2000
          ? true
          : undefined,
      );
      const otherResume = tenant.client
        .put(`/api/v1/hubs/${otherHub.hub.hubId}`, { statusId: 2000 })
        .then((response) => ({ hub: 'other', status: response.status }));
      // The other hub's resume is answered (after its release) while the stalled one's still waits.
      expect(await Promise.race([stalledResume, otherResume])).toEqual({ hub: 'other', status: 200 });
      await otherHub.client.waitFor(() => otherHub.client.activities.length === 1, 10_000, 'the held push');
      expect(otherHub.client.activities[0]?.eventId).toBe(otherHeld);
      socket.resume();
      expect((await stalledResume).status).toBe(200);
    } finally {
      socket.resume();
      for (const client of [stalledHub.client, otherHub.client]) {
        client.close();
        await client.closed;
      }
    }
  });
});
