// While a release of one integration's held backlog runs, its fresh pushes wait for it. A fresh push
// also carries copies for other integrations (the recipient of an echoing sender's activity): a later
// activity for one of those must not overtake it on that integration's connection.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  eventually,
  setupHub,
  submitText,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const SEND_BUFFER = 64 * 1024;
const PADDING = 'p'.repeat(30_000);

let engine: InProcessEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startInProcessEngine({ gateway: { maxBufferedBytes: SEND_BUFFER } });
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
});

describe('fresh pushes during a release of another integration', () => {
  it('keeps eventId order on a connection that receives a held-back activity and a later one', async () => {
    const hub = await setupHub(tenant.client);
    // Agent A echoes its own activities; it is the one paused and resumed. Agent B is never paused.
    const agentA = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', echo: true },
    });
    const agentB = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { customer, conversationId } = await hub.openConversation();
    const clientA = await connectRawHub(engine.url, { token: tenant.token, iId: agentA.integrationId });
    const clientC = await connectRawHub(engine.url, { token: tenant.token, iId: customer.integrationId });
    try {
      // A becomes the conversation's business integration, then is paused: the customer's activities
      // are held for it (~9 MB against a 64 KiB send buffer).
      await submitText(tenant.client, conversationId, 'hello from A', agentA.integrationId);
      await clientC.waitFor(() => clientC.activities.length === 1, 10_000, 'the first agent message');
      expect(
        (await tenant.client.put(`/api/v1/integrations/${agentA.integrationId}`, { statusId: 3002 })).status,
      ).toBe(200);
      for (let i = 0; i < 300; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            submitText(tenant.client, conversationId, `held ${i + k} ${PADDING}`),
          ),
        );
      }
      // A's client stalls: the release of its backlog cannot finish meanwhile.
      const socket = (clientA.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const resume = tenant.client.put(`/api/v1/integrations/${agentA.integrationId}`, { statusId: 3000 });
      await eventually(async () =>
        (await tenant.client.get(`/api/v1/integrations/${agentA.integrationId}`)).body.statusId === 3000
          ? true
          : undefined,
      );
      // Activity 1: from A (to the customer, and its echo to A: waits for A's release).
      const first = await submitText(tenant.client, conversationId, 'one, from A', agentA.integrationId);
      // Activity 2: from B, to the customer only, submitted after activity 1 was answered.
      const second = await submitText(tenant.client, conversationId, 'two, from B', agentB.integrationId);
      expect(second).toBeGreaterThan(first);
      // Give a wrongly early push time to arrive while A's client still stalls.
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.resume();
      expect((await resume).status).toBe(200);
      await clientC.waitFor(() => clientC.activities.length >= 3, 30_000, 'both fresh activities');
      expect(clientC.activities.slice(1).map((a) => a.eventId)).toEqual([first, second]);
    } finally {
      clientA.close();
      clientC.close();
      await Promise.all([clientA.closed, clientC.closed]);
    }
  });
});
