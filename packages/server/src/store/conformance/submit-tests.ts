// Conformance: activity submission — routing context, one transaction, group commit, eventId order.

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { HooksterError } from '../../domain/errors.js';
import type { RoutingContext } from '../contract.js';
import { makeWorld, newConversation, planTo, webhookTo, websocketTo } from './fixtures.js';
import { expectCatalogueError, type Stores } from './harness.js';

export function submitTests(stores: Stores, canRestart: boolean): void {
  it('commits the activity, its deliveries and the conversation state of a submit', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    let seen: RoutingContext | undefined;
    const result = await store.submitActivity(
      w.conversation.conversationId,
      planTo([webhookTo(w.system), webhookTo(w.customer, true), websocketTo(w.agent)], {
        senderType: 'Agent',
        recipientType: 'Customer',
        businessIntegrationId: w.agent.integrationId,
        onContext: (ctx) => (seen = ctx),
      }),
    );
    expect(seen?.conversation).toEqual(w.conversation);
    expect(seen?.hub).toEqual(w.hub);
    expect(seen?.tenant).toEqual(w.tenant);
    expect(seen?.integrations.map((i) => i.integrationId)).toEqual([
      w.system.integrationId,
      w.customer.integrationId,
      w.agent.integrationId,
    ]);
    expect(result.deliveryIds).toHaveLength(3);
    expect(new Set(result.deliveryIds).size).toBe(3);
    expect(result.conversation.lastEventId).toBe(result.plan.activity.eventId);
    expect(result.conversation.businessIntegrationId).toBe(w.agent.integrationId);
    const stored = await store.getConversation(w.conversation.conversationId);
    expect(stored?.lastEventId).toBe(result.plan.activity.eventId);
    expect(stored?.businessIntegrationId).toBe(w.agent.integrationId);
    expect(await store.listActivities(w.conversation.conversationId, { fromEventId: 0 })).toEqual([
      result.plan.activity,
    ]);
    const delivery = await store.getDelivery(result.deliveryIds[0]!);
    expect(delivery).toMatchObject({
      deliveryId: result.deliveryIds[0],
      integrationId: w.system.integrationId,
      conversationId: w.conversation.conversationId,
      hubId: w.hub.hubId,
      tenantId: w.tenant.tenantId,
      status: 'pending',
      activityCount: 1,
      attemptCount: 0,
      attempts: [],
    });
  });

  it('keeps the business integration when a later activity names none', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    await store.submitActivity(id, planTo([], { businessIntegrationId: w.agent.integrationId }));
    const result = await store.submitActivity(id, planTo([]));
    expect(result.conversation.businessIntegrationId).toBe(w.agent.integrationId);
    expect((await store.getConversation(id))?.businessIntegrationId).toBe(w.agent.integrationId);
  });

  it('rejects a submit to an unknown conversation with ConversationNotFound', async () => {
    const store = await stores.fresh();
    await makeWorld(store);
    await expectCatalogueError(store.submitActivity(randomUUID(), planTo([])), 'ConversationNotFound');
  });

  it('fails only the submit whose plan throws when submits share a commit', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const outcomes = await Promise.allSettled([
      store.submitActivity(id, planTo([webhookTo(w.system)], { text: 'one' })),
      store.submitActivity(id, () => {
        throw HooksterError.of('SenderNotAllowed');
      }),
      store.submitActivity(id, planTo([webhookTo(w.system)], { text: 'three' })),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rejected = outcomes[1] as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(HooksterError);
    const texts = (await store.listActivities(id, { fromEventId: 0 })).map((a) => a.message?.['text']);
    expect(texts).toEqual(['one', 'three']);
    expect(
      (await store.listDeliveries(w.system.integrationId, undefined, { pageNumber: 0, pageSize: 10 })).total,
    ).toBe(2);
  });

  it('rejects a plan whose eventId is not above the last one and writes nothing', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const first = await store.submitActivity(id, planTo([]));
    const stale = (ctx: RoutingContext) => {
      const plan = planTo([webhookTo(w.system)])(ctx);
      plan.activity.eventId = ctx.conversation.lastEventId;
      plan.activityJson = JSON.stringify(plan.activity);
      return plan;
    };
    await expect(store.submitActivity(id, stale)).rejects.toBeInstanceOf(Error);
    expect(await store.listActivities(id, { fromEventId: 0 })).toHaveLength(1);
    expect((await store.getConversation(id))?.lastEventId).toBe(first.plan.activity.eventId);
    expect(await store.nextDueAt()).toBeUndefined();
  });

  it('issues strictly increasing eventIds to concurrent submits in one conversation', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        store.submitActivity(id, planTo([webhookTo(w.system)], { text: `m${n}` })),
      ),
    );
    const eventIds = (await store.listActivities(id, { fromEventId: 0 })).map((a) => a.eventId);
    expect(eventIds).toHaveLength(200);
    for (let i = 1; i < eventIds.length; i++) expect(eventIds[i]!).toBeGreaterThan(eventIds[i - 1]!);
    expect(new Set(results.map((r) => r.plan.activity.eventId)).size).toBe(200);
    expect((await store.getConversation(id))?.lastEventId).toBe(eventIds[199]);
  });

  it('lists activities from an eventId on, optionally by sender or recipient type', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const a = await store.submitActivity(id, planTo([], { senderType: 'Customer', recipientType: 'Agent' }));
    const b = await store.submitActivity(id, planTo([], { senderType: 'Bot', recipientType: 'Customer' }));
    const c = await store.submitActivity(id, planTo([], { senderType: 'Agent', recipientType: 'Customer' }));
    const ids = (list: { eventId: number }[]) => list.map((x) => x.eventId);
    const [ea, eb, ec] = [a, b, c].map((r) => r.plan.activity.eventId) as [number, number, number];
    expect(ids(await store.listActivities(id, { fromEventId: eb }))).toEqual([eb, ec]);
    expect(ids(await store.listActivities(id, { fromEventId: ec + 1 }))).toEqual([]);
    expect(ids(await store.listActivities(id, { fromEventId: 0, integrationType: 'Agent' }))).toEqual([
      ea,
      ec,
    ]);
    expect(ids(await store.listActivities(id, { fromEventId: 0, integrationType: 'Bot' }))).toEqual([eb]);
    expect(await store.listActivities(randomUUID(), { fromEventId: 0 })).toEqual([]);
  });

  it('bounds one listing by count and by size, always at least one activity, in eventId order', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const events: number[] = [];
    for (let i = 0; i < 5; i++)
      events.push((await store.submitActivity(id, planTo([]))).plan.activity.eventId);
    const ids = (list: { eventId: number }[]) => list.map((x) => x.eventId);
    expect(ids(await store.listActivities(id, { fromEventId: 0, maxCount: 2 }))).toEqual(events.slice(0, 2));
    // Continued from the last eventId + 1, the rest arrives.
    const rest = await store.listActivities(id, { fromEventId: events[1]! + 1, maxCount: 10 });
    expect(ids(rest)).toEqual(events.slice(2));
    // A size bound below one activity still answers one; one of two and a half activities answers two.
    expect(ids(await store.listActivities(id, { fromEventId: 0, maxChars: 1 }))).toEqual(events.slice(0, 1));
    const one = JSON.stringify((await store.listActivities(id, { fromEventId: 0, maxCount: 1 }))[0]).length;
    const twoAndAHalf = Math.floor(one * 2.5);
    expect(
      (await store.listActivities(id, { fromEventId: 0, maxChars: twoAndAHalf })).length,
    ).toBeGreaterThanOrEqual(2);
    expect((await store.listActivities(id, { fromEventId: 0, maxChars: twoAndAHalf })).length).toBeLessThan(
      5,
    );
  });

  it('commits many concurrent submits across conversations, all readable afterwards', async () => {
    let store = await stores.fresh();
    const w = await makeWorld(store);
    const conversations = [w.conversation];
    for (let i = 0; i < 9; i++) conversations.push(await newConversation(store, w.customer));
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, n) =>
        store.submitActivity(
          conversations[n % 10]!.conversationId,
          planTo([webhookTo(w.system), webhookTo(w.customer)]),
        ),
      ),
    );
    expect(new Set(results.flatMap((r) => r.deliveryIds)).size).toBe(2000);
    if (canRestart) store = await stores.restart(store);
    let activities = 0;
    for (const c of conversations)
      activities += (await store.listActivities(c.conversationId, { fromEventId: 0 })).length;
    expect(activities).toBe(1000);
    const log = await store.listDeliveries(w.customer.integrationId, 'pending', {
      pageNumber: 0,
      pageSize: 1,
    });
    expect(log.total).toBe(1000);
  });
}
