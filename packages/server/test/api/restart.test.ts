// Everything survives a restart on the same database file: tenants, tokens, hubs, integrations with
// their keys, conversations, activities and the delivery log — after a clean stop and after a crash.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  createTenantWithToken,
  setupHub,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

let engine: RunningEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
});

async function snapshot(ids: { hubId: string; systemId: string; conversationId: string }): Promise<Json> {
  const c = tenant.client;
  const [hub, system, conversation, activities, deliveries] = await Promise.all([
    c.get(`/api/v1/hubs/${ids.hubId}`),
    c.get(`/api/v1/integrations/${ids.systemId}`),
    c.get(`/api/v1/conversations/${ids.conversationId}`),
    c.get(`/api/v1/interactions/activities/${ids.conversationId}`),
    c.get(`/api/v1/integrations/${ids.systemId}/deliveries`),
  ]);
  for (const response of [hub, system, conversation, activities, deliveries])
    expect(response.status).toBe(200);
  return {
    hub: hub.body,
    system: system.body,
    conversation: conversation.body,
    activities: activities.body,
    deliveries: deliveries.body.results.map((d: Json) => d.deliveryId).sort(),
  };
}

describe('restart', () => {
  it('keeps every resource across a graceful restart and a crash', async () => {
    const hub = await setupHub(tenant.client);
    // An unreachable webhook keeps its deliveries in the log whatever the dispatcher does.
    const system = await hub.addIntegration({
      channelId: 'System',
      statusId: 3002,
      configuration: { webhookUrl: 'https://hooks.example.com/never', events: ['message'] },
    });
    const { conversationId } = await hub.openConversation({ binding: 'restart-user' });
    const ids = { hubId: hub.hubId, systemId: system.integrationId, conversationId };
    const eventIds: number[] = [];
    for (const text of ['before', 'restart']) {
      const sent = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text },
      });
      expect(sent.status).toBe(200);
      eventIds.push(sent.body.eventId);
    }
    const before = await snapshot(ids);
    expect(before.activities).toHaveLength(2);
    expect(before.deliveries).toHaveLength(2);

    await engine.restart();
    const afterRestart = await snapshot(ids);
    expect(afterRestart).toEqual(before);
    // The tenant token and the admin token still work; establish is still idempotent.
    const again = await tenant.client.post('/api/v1/conversations/establish', {
      integrationId: before.conversation.integrationId,
      binding: 'restart-user',
      channelType: 'Direct',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ conversationId, isNew: false });
    expect((await adminClient(engine).get(`/api/v1/tenants/${tenant.tenantId}`)).status).toBe(200);

    // An acknowledged submission survives a crash (SIGKILL) right after its 200.
    const acknowledged = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'crash' },
    });
    expect(acknowledged.status).toBe(200);
    await engine.kill('SIGKILL');
    await engine.restart();
    const afterCrash = await snapshot(ids);
    expect(afterCrash.activities).toHaveLength(3);
    expect(afterCrash.activities[2].eventId).toBe(acknowledged.body.eventId);
    expect(afterCrash.deliveries).toHaveLength(3);
    expect(afterCrash.system.configuration).toEqual(before.system.configuration);

    // eventIds keep increasing after the restarts.
    const next = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'after' },
    });
    expect(next.body.eventId).toBeGreaterThan(acknowledged.body.eventId);
    expect(acknowledged.body.eventId).toBeGreaterThan(eventIds[1] as number);
  });

  it('keeps every acknowledged submission when SIGTERM arrives under load', async () => {
    const hub = await setupHub(tenant.client);
    const { conversationId } = await hub.openConversation();
    const acknowledged: number[] = [];
    let refused = 0;
    let onTwentieth: () => void = () => undefined;
    const twentyAcknowledged = new Promise<void>((resolve) => (onTwentieth = resolve));
    const submit = async (i: number): Promise<void> => {
      try {
        const response = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
          type: 'message',
          message: { type: 'text', text: `load ${i}` },
        });
        if (response.status === 200) {
          acknowledged.push(response.body.eventId as number);
          if (acknowledged.length === 20) onTwentieth();
        } else refused += 1;
      } catch {
        refused += 1;
      }
    };
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      inFlight.push(submit(i));
      // SIGTERM once some submissions have been answered, with more still on the way.
      if (i === 100) {
        // Waits for the 20th answer, or for all sent so far to settle (then the count below fails).
        await Promise.race([twentyAcknowledged, Promise.allSettled(inFlight)]);
        inFlight.push(engine.kill('SIGTERM').then((code) => expect(code).toBe(0)));
      }
    }
    await Promise.all(inFlight);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    await engine.restart();
    const stored = await tenant.client.get(`/api/v1/interactions/activities/${conversationId}`);
    const storedIds = new Set((stored.body as { eventId: number }[]).map((a) => a.eventId));
    for (const eventId of acknowledged) expect(storedIds.has(eventId)).toBe(true);
    expect(storedIds.size).toBeLessThanOrEqual(200);
    expect(acknowledged.length + refused).toBe(200);
  });
});
