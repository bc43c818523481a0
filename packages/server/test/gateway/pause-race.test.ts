// A submit racing with a resume: it read "paused" and wrote its websocket delivery held, but the resume
// committed (and released) before the submit's commit. The gateway asks the store again after every
// held commit, so the delivery is still pushed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmitResult } from '../../src/store/contract.js';
import {
  createTenantWithToken,
  eventually,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { dropIsolatedSchema, isolatedTestDatabaseUrl } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const databaseUrl = isolatedTestDatabaseUrl();
let engine: InProcessEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  // SQLite, or a schema of its own with HOOKSTER_TEST_DATABASE_URL (the suite's PostgreSQL run).
  engine = await startInProcessEngine({ databaseUrl });
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
  if (databaseUrl !== undefined) await dropIsolatedSchema(databaseUrl);
});

describe('a held commit that lands after the resume', () => {
  it('is pushed by the gateway’s check after the commit', async () => {
    const hub = await setupHub(tenant.client);
    const agent: Json = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { conversationId } = await hub.openConversation();
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    try {
      // Paused in the store directly, so no route releases anything on its own.
      const stored = await engine.store.getIntegration(agent.integrationId);
      await engine.store.updateIntegration({ ...stored!, statusId: 3002 });
      // The plan runs inside the submit transaction: the store then commits the delivery held.
      const result: SubmitResult = await engine.store.submitActivity(conversationId, (ctx) => {
        const activity = {
          type: 'message' as const,
          eventTrigger: 'message:customer',
          eventId: ctx.conversation.lastEventId + 1,
          isEcho: false,
          message: { type: 'text', text: 'raced' },
        };
        return {
          activity,
          activityJson: JSON.stringify(activity),
          deliveries: [{ integrationId: agent.integrationId, echo: false, transport: 'websocket' }],
        };
      });
      expect(result.held).toEqual([true]);
      // The resume commits "before" the submit is published; its own release ran earlier and found nothing.
      await engine.store.updateIntegration({ ...stored!, statusId: 3000 });
      engine.gateway.publish(result);
      await client.waitFor(() => client.activities.length === 1, 10_000, 'the raced push');
      expect(client.activities[0]?.eventId).toBe(result.plan.activity.eventId);
      const status = await eventually(async () => {
        const d = await engine.store.getDelivery(result.deliveryIds[0]!);
        return d?.status === 'delivered' ? d.status : undefined;
      });
      expect(status).toBe('delivered');
      // Taken once: a further release finds nothing.
      expect(await engine.gateway.release({ hubId: hub.hubId, integrationIds: [agent.integrationId] })).toBe(
        0,
      );
    } finally {
      client.close();
      await client.closed;
    }
  });
});
