// Conformance: websocket deliveries written while their integration or hub is paused are held, taken
// once after the resume in submission order, left alone while still paused, cancelled by a delete.

import { expect, it } from 'vitest';
import { makeWorld, planTo, websocketTo } from './fixtures.js';
import type { Stores } from './harness.js';

const log = { pageNumber: 0, pageSize: 50 };

export function heldPushTests(stores: Stores): void {
  it('fails websocket deliveries whose push was lost, counting from commit or release, never held ones', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const lost = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text: 'pushed? never' }));
    await store.updateIntegration({ ...w.agent, statusId: 3002 });
    const held = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text: 'held' }));
    const afterHeld = Date.now();
    // Held deliveries wait for the resume, however old.
    expect(await store.failStaleWebsocketDeliveries(afterHeld + 1, 'not pushed', 100)).toBe(1);
    const failed = await store.getDelivery(lost.deliveryIds[0]!);
    expect(failed).toMatchObject({ status: 'failed', attemptCount: 1 });
    expect(failed?.attempts?.[0]).toMatchObject({ error: 'not pushed' });
    // A late outcome for it changes nothing.
    await store.recordWebsocketOutcomes([{ deliveryId: lost.deliveryIds[0]!, delivered: true }]);
    expect((await store.getDelivery(lost.deliveryIds[0]!))?.status).toBe('failed');
    // Released after the clock moved past afterHeld: it counts from its release, not its creation.
    while (Date.now() <= afterHeld) await new Promise((resolve) => setImmediate(resolve));
    await store.updateIntegration({ ...w.agent, statusId: 3000 });
    const [taken] = await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] });
    expect(taken?.deliveryId).toBe(held.deliveryIds[0]);
    expect(await store.failStaleWebsocketDeliveries(afterHeld + 1, 'not pushed', 100)).toBe(0);
    expect((await store.getDelivery(held.deliveryIds[0]!))?.status).toBe('pending');
    expect(await store.failStaleWebsocketDeliveries(Date.now() + 1, 'not pushed', 100)).toBe(1);
    expect((await store.getDelivery(held.deliveryIds[0]!))?.status).toBe('failed');
  });

  it('takes the held websocket deliveries of a resumed integration once, in order, with their activity', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const before = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text: 'before' }));
    expect(before.held ?? [false]).toEqual([false]);
    await store.updateIntegration({ ...w.agent, statusId: 3002 });
    const held = [];
    for (const text of ['one', 'two', 'three']) {
      const result = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text }));
      expect(result.held).toEqual([true]);
      held.push(result);
    }
    // Still paused: nothing is taken.
    expect(await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] })).toEqual([]);
    await store.updateIntegration({ ...w.agent, statusId: 3000 });
    // In chunks: the oldest first, then the rest.
    const chunk = await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] }, 2);
    expect(chunk).toHaveLength(2);
    const rest = await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] });
    const taken = [...chunk, ...rest];
    expect(taken.map((d) => d.deliveryId)).toEqual(held.map((r) => r.deliveryIds[0]));
    expect(taken.map((d) => d.eventId)).toEqual(held.map((r) => r.plan.activity.eventId));
    expect(taken.map((d) => d.activityJson)).toEqual(held.map((r) => r.plan.activityJson));
    for (const d of taken) {
      expect(d).toMatchObject({ integrationId: w.agent.integrationId, conversationId: id, echo: false });
    }
    // Taken once; the delivery pushed before the pause (outcome not recorded yet) is never taken.
    expect(await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] })).toEqual([]);
    await store.recordWebsocketOutcomes([
      { deliveryId: taken[0]!.deliveryId, delivered: true },
      { deliveryId: taken[1]!.deliveryId, delivered: false, error: 'no connection' },
    ]);
    expect((await store.getDelivery(taken[0]!.deliveryId))?.status).toBe('delivered');
    expect((await store.getDelivery(taken[1]!.deliveryId))?.status).toBe('failed');
    expect((await store.getDelivery(taken[2]!.deliveryId))?.status).toBe('pending');
  });

  it('takes a paused hub’s held websocket deliveries only once the hub and the integration are active', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    await store.updateHub({ ...w.hub, statusId: 2002 });
    const first = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text: 'a' }));
    expect(first.held).toEqual([true]);
    await store.updateIntegration({ ...w.agent, statusId: 3002 });
    const second = await store.submitActivity(id, planTo([websocketTo(w.agent)], { text: 'b' }));
    expect(second.held).toEqual([true]);
    await store.updateHub({ ...w.hub, statusId: 2000 });
    // The integration is still paused: the hub's resume releases nothing of it.
    expect(await store.takeHeldWebsocketDeliveries({ hubId: w.hub.hubId })).toEqual([]);
    expect((await store.listDeliveries(w.agent.integrationId, 'held', log)).total).toBe(2);
    await store.updateIntegration({ ...w.agent, statusId: 3000 });
    const taken = await store.takeHeldWebsocketDeliveries({ hubId: w.hub.hubId });
    expect(taken.map((d) => d.deliveryId)).toEqual([first.deliveryIds[0], second.deliveryIds[0]]);
    expect(await store.takeHeldWebsocketDeliveries({ hubId: w.hub.hubId })).toEqual([]);
  });

  it('cancels held websocket deliveries when the integration is deleted, and never takes them', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await store.updateIntegration({ ...w.agent, statusId: 3002 });
    const result = await store.submitActivity(
      w.conversation.conversationId,
      planTo([websocketTo(w.agent)], { text: 'held' }),
    );
    expect(result.held).toEqual([true]);
    await store.deleteIntegration(w.agent.integrationId);
    expect((await store.getDelivery(result.deliveryIds[0]!))?.status).toBe('cancelled');
    expect(await store.takeHeldWebsocketDeliveries({ integrationIds: [w.agent.integrationId] })).toEqual([]);
    expect(await store.takeHeldWebsocketDeliveries({ hubId: w.hub.hubId })).toEqual([]);
  });
}
