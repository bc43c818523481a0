// Conformance: holding and releasing (pause/resume), cancelling (delete), websocket outcomes, the
// delivery log, manual retry and recover, work signals, and surviving a restart.

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  bodyActivities,
  claimRequest,
  makeWorld,
  planTo,
  record,
  webhookTo,
  websocketTo,
} from './fixtures.js';
import type { Stores } from './harness.js';

const log = { pageNumber: 0, pageSize: 50 };

export function lifecycleTests(stores: Stores, canRestart: boolean): void {
  it('holds a paused integration and releases its deliveries in order on resume', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'before' }));
    await store.updateIntegration({ ...w.customer, statusId: 3002 });
    const during = await store.submitActivity(
      id,
      planTo([webhookTo(w.system), webhookTo(w.customer)], { text: 'during' }),
    );
    expect(during.held).toEqual([false, true]);
    const [system] = await store.claimDeliveries(claimRequest());
    expect(system?.integrationId).toBe(w.system.integrationId);
    await store.recordAttempts([record(system!, { status: 'delivered' })]);
    expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    expect(await store.nextDueAt()).toBeUndefined();
    const held = await store.listDeliveries(w.customer.integrationId, 'held', log);
    expect(held.total).toBe(2);
    expect(held.results.every((d) => d.status === 'held')).toBe(true);
    expect((await store.listDeliveries(w.customer.integrationId, 'pending', log)).total).toBe(0);
    let woken = 0;
    store.onWork(() => woken++);
    await store.updateIntegration({ ...w.customer, statusId: 3000 });
    expect(woken).toBeGreaterThan(0);
    const texts: unknown[] = [];
    for (;;) {
      const [c] = await store.claimDeliveries(claimRequest());
      if (c === undefined) break;
      texts.push(...bodyActivities(c).map((a) => a.message?.['text']));
      await store.recordAttempts([record(c, { status: 'delivered' })]);
    }
    expect(texts).toEqual(['before', 'during']);
  });

  it('writes an integration update only over the state it was computed from', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const read = (await store.getIntegration(w.customer.integrationId))!;
    // Two updates computed from the same read in the same millisecond: a rename and a pause that
    // also drops the webhookUrl (which would cancel the waiting webhook deliveries).
    const modified = new Date(Date.parse(read.modified) + 1).toISOString();
    const renamed = { ...read, name: 'renamed', modified };
    const { webhookUrl: _dropped, ...withoutWebhook } = read.configuration;
    const paused = { ...read, statusId: 3002, configuration: withoutWebhook, modified };
    const waiting = await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'waiting' }));
    expect(await store.updateIntegration(renamed, read)).toBe(true);
    expect(await store.updateIntegration(paused, read)).toBe(false);
    // The loser changed nothing: not paused, its webhook kept, its waiting delivery not cancelled.
    expect(await store.getIntegration(read.integrationId)).toEqual(renamed);
    expect((await store.getDelivery(waiting.deliveryIds[0]!))?.status).toBe('pending');
    const next = await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'next' }));
    expect(next.held?.[0] ?? false).toBe(false);
    // An expected state that differs in the configuration alone is stale too.
    const otherConfiguration = { ...renamed, configuration: { ...renamed.configuration, echo: false } };
    expect(await store.updateIntegration({ ...renamed, statusId: 3002 }, otherConfiguration)).toBe(false);
    expect((await store.getIntegration(read.integrationId))?.statusId).toBe(3000);
    // Computed again from the state now stored, the pause is written and holds what follows.
    const current = (await store.getIntegration(read.integrationId))!;
    const pausedNow = { ...current, statusId: 3002, modified: new Date().toISOString() };
    expect(await store.updateIntegration(pausedNow, current)).toBe(true);
    expect(await store.getIntegration(read.integrationId)).toEqual(pausedNow);
    const held = await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'held' }));
    expect(held.held).toEqual([true]);
    await store.deleteIntegration(read.integrationId);
    await expect(store.updateIntegration(pausedNow, pausedNow)).rejects.toMatchObject({ status: 404 });
  });

  it('writes a hub update only over the state it was computed from', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const read = (await store.getHub(w.hub.hubId))!;
    // Two updates computed from the same read in the same millisecond: a rename and a pause.
    const modified = new Date(Date.parse(read.modified) + 1).toISOString();
    const renamed = { ...read, name: 'renamed', modified };
    expect(await store.updateHub(renamed, read)).toBe(true);
    expect(await store.updateHub({ ...read, statusId: 2002, modified }, read)).toBe(false);
    expect(await store.getHub(read.hubId)).toEqual(renamed);
    const next = await store.submitActivity(id, planTo([webhookTo(w.system)], { text: 'next' }));
    expect(next.held?.[0] ?? false).toBe(false);
    // An expected state that differs in closeDormantConversation alone is stale too.
    const otherDormant = { ...renamed, closeDormantConversation: 7 };
    expect(await store.updateHub({ ...renamed, statusId: 2002 }, otherDormant)).toBe(false);
    expect((await store.getHub(read.hubId))?.statusId).toBe(2000);
    // Computed again from the state now stored, the pause is written and holds what follows.
    const current = (await store.getHub(read.hubId))!;
    const pausedNow = { ...current, statusId: 2002, modified: new Date().toISOString() };
    expect(await store.updateHub(pausedNow, current)).toBe(true);
    expect(await store.getHub(read.hubId)).toEqual(pausedNow);
    const held = await store.submitActivity(id, planTo([webhookTo(w.system)], { text: 'held' }));
    expect(held.held).toEqual([true]);
    await store.deleteHub(read.hubId);
    await expect(store.updateHub(pausedNow, pausedNow)).rejects.toMatchObject({ status: 404 });
  });

  it('holds every integration of a paused hub until the hub resumes', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await store.updateHub({ ...w.hub, statusId: 2002 });
    await store.submitActivity(
      w.conversation.conversationId,
      planTo([webhookTo(w.system), webhookTo(w.customer)]),
    );
    expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    expect((await store.listDeliveries(w.system.integrationId, undefined, log)).results[0]?.status).toBe(
      'held',
    );
    await store.updateIntegration({ ...w.customer, statusId: 3002 });
    await store.updateHub({ ...w.hub, statusId: 2000 });
    const released = await store.claimDeliveries(claimRequest());
    expect(released.map((c) => c.integrationId)).toEqual([w.system.integrationId]);
    await store.updateIntegration({ ...w.customer, statusId: 3000 });
    expect((await store.claimDeliveries(claimRequest())).map((c) => c.integrationId)).toEqual([
      w.customer.integrationId,
    ]);
  });

  it('cancels the pending deliveries of a deleted integration', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const a = await store.submitActivity(id, planTo([webhookTo(w.customer), webhookTo(w.system)]));
    const b = await store.submitActivity(id, planTo([webhookTo(w.customer)]));
    await store.deleteIntegration(w.customer.integrationId);
    expect((await store.getDelivery(a.deliveryIds[0]!))?.status).toBe('cancelled');
    expect((await store.getDelivery(b.deliveryIds[0]!))?.status).toBe('cancelled');
    expect((await store.claimDeliveries(claimRequest())).map((c) => c.integrationId)).toEqual([
      w.system.integrationId,
    ]);
  });

  it('never claims websocket deliveries and records their outcomes', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const a = await store.submitActivity(id, planTo([websocketTo(w.agent)]));
    const b = await store.submitActivity(id, planTo([websocketTo(w.agent)]));
    expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    expect(await store.nextDueAt()).toBeUndefined();
    await store.recordWebsocketOutcomes([
      { deliveryId: a.deliveryIds[0]!, delivered: true },
      { deliveryId: b.deliveryIds[0]!, delivered: false, error: 'no connection' },
    ]);
    expect((await store.getDelivery(a.deliveryIds[0]!))?.status).toBe('delivered');
    const failed = await store.getDelivery(b.deliveryIds[0]!);
    expect(failed?.status).toBe('failed');
    expect(failed?.attempts?.[0]?.error).toBe('no connection');
  });

  it('lists the delivery log newest first by status and shows attempts', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(...(await store.submitActivity(id, planTo([webhookTo(w.customer)]))).deliveryIds);
    const started = Date.now();
    const [c] = await store.claimDeliveries(claimRequest({ now: started }));
    await store.recordAttempts([
      {
        ...record(c!, { status: 'pending', nextAttemptAt: started + 1 }, 500),
        responseExcerpt: 'oops',
        durationMs: 12,
      },
    ]);
    const [again] = await store.claimDeliveries(claimRequest({ now: started + 1 }));
    await store.recordAttempts([
      { ...record(again!, { status: 'failed' }), statusCode: undefined, error: 'timeout' },
    ]);
    const all = await store.listDeliveries(w.customer.integrationId, undefined, {
      pageNumber: 0,
      pageSize: 2,
    });
    expect(all.total).toBe(3);
    expect(all.results.map((d) => d.deliveryId)).toEqual([ids[2], ids[1]]);
    expect(
      (await store.listDeliveries(w.customer.integrationId, 'failed', log)).results.map((d) => d.deliveryId),
    ).toEqual([ids[0]]);
    expect((await store.listDeliveries(w.customer.integrationId, 'pending', log)).total).toBe(2);
    const failed = await store.getDelivery(ids[0]!);
    expect(failed).toMatchObject({ status: 'failed', attemptCount: 2 });
    expect(failed?.attempts).toEqual([
      {
        attemptNumber: 1,
        startedAt: expect.any(String),
        durationMs: 12,
        statusCode: 500,
        responseExcerpt: 'oops',
      },
      { attemptNumber: 2, startedAt: expect.any(String), durationMs: 3, error: 'timeout' },
    ]);
    expect(await store.getDelivery(randomUUID())).toBeUndefined();
  });

  it('retries a failed delivery by hand with a fresh budget and the same body', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const [id] = (await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.system)])))
      .deliveryIds;
    const [c] = await store.claimDeliveries(claimRequest());
    await store.recordAttempts([record(c!, { status: 'failed' }, 500)]);
    expect(await store.retryDelivery(randomUUID(), Date.now())).toBe(false);
    let woken = 0;
    store.onWork(() => woken++);
    expect(await store.retryDelivery(id!, Date.now())).toBe(true);
    expect(woken).toBeGreaterThan(0);
    expect(await store.retryDelivery(id!, Date.now())).toBe(false);
    expect((await store.getDelivery(id!))?.status).toBe('pending');
    const [again] = await store.claimDeliveries(claimRequest());
    expect(again?.deliveryId).toBe(id);
    expect(again?.attemptNumber).toBe(1);
    expect(again?.body).toBe(c?.body);
  });

  it('recovers the failed deliveries created since a time', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const others = [];
    for (let i = 0; i < 3; i++)
      others.push(await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)])));
    for (;;) {
      const [c] = await store.claimDeliveries(claimRequest());
      if (c === undefined) break;
      await store.recordAttempts([record(c, { status: 'failed' }, 500)]);
    }
    expect(await store.recoverDeliveries(w.customer.integrationId, Date.now() + 60_000, Date.now())).toBe(0);
    expect(await store.recoverDeliveries(w.customer.integrationId, 0, Date.now())).toBe(3);
    expect((await store.listDeliveries(w.customer.integrationId, 'pending', log)).total).toBe(3);
    const order: string[] = [];
    for (;;) {
      const [c] = await store.claimDeliveries(claimRequest());
      if (c === undefined) break;
      order.push(c.deliveryId);
      await store.recordAttempts([record(c, { status: 'delivered' })]);
    }
    expect(order).toEqual(others.map((r) => r.deliveryIds[0]));
  });

  it('signals work after a submit that creates claimable work, and stops after unsubscribe', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    let woken = 0;
    const off = store.onWork(() => woken++);
    await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.system)]));
    expect(woken).toBe(1);
    off();
    await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.customer)]));
    expect(woken).toBe(1);
  });

  it('answers nextDueAt with the earliest due head, or undefined when nothing waits', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    expect(await store.nextDueAt()).toBeUndefined();
    const before = Date.now();
    await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.system)]));
    const due = await store.nextDueAt();
    expect(due).toBeGreaterThanOrEqual(before);
    expect(due).toBeLessThanOrEqual(Date.now());
  });

  if (canRestart) {
    it('keeps configuration, pending deliveries and leases across a restart', async () => {
      let store = await stores.fresh();
      const w = await makeWorld(store);
      const id = w.conversation.conversationId;
      const a = await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'a' }));
      await store.submitActivity(id, planTo([webhookTo(w.customer)], { text: 'b' }));
      const now = Date.now();
      const [leased] = await store.claimDeliveries(claimRequest({ now, leaseMs: 1000 }));
      store = await stores.restart(store);
      expect(await store.getHub(w.hub.hubId)).toEqual(w.hub);
      expect(await store.getIntegration(w.customer.integrationId)).toEqual(w.customer);
      expect((await store.getConversation(id))?.lastEventId).toBeGreaterThan(a.conversation.lastEventId);
      expect(await store.claimDeliveries(claimRequest({ now: now + 999 }))).toEqual([]);
      const [taken] = await store.claimDeliveries(claimRequest({ now: now + 1000 }));
      expect(taken?.deliveryId).toBe(leased?.deliveryId);
      expect(taken?.body).toBe(leased?.body);
      expect(taken!.fence).toBeGreaterThan(leased!.fence);
      await store.recordAttempts([record(taken!, { status: 'delivered' })]);
      const [next] = await store.claimDeliveries(claimRequest({ now: now + 1000 }));
      expect(bodyActivities(next!).map((x) => x.message?.['text'])).toEqual(['b']);
    });
  }
}
