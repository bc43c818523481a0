// Conformance: claims — lane FIFO and head-of-line per lane, batching, byte-identical retries,
// leases and fencing, no double claim, fairness between integrations.

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Store } from '../contract.js';
import {
  bodyActivities,
  claimRequest,
  makeWorld,
  newConversation,
  planTo,
  record,
  systemFixture,
  webhookTo,
  type World,
} from './fixtures.js';
import type { Stores } from './harness.js';

async function submitTexts(
  store: Store,
  conversationId: string,
  to: Parameters<typeof webhookTo>[0],
  texts: string[],
) {
  const ids: string[] = [];
  for (const text of texts) {
    ids.push(...(await store.submitActivity(conversationId, planTo([webhookTo(to)], { text }))).deliveryIds);
  }
  return ids;
}

const texts = (claimed: Parameters<typeof bodyActivities>[0]) =>
  bodyActivities(claimed).map((a) => a.message?.['text']);

export function claimTests(stores: Stores): void {
  it('claims only the head of a lane and the next one after the head is final', async () => {
    const store = await stores.fresh();
    const w: World = await makeWorld(store);
    const ids = await submitTexts(store, w.conversation.conversationId, w.customer, ['a', 'b', 'c']);
    const first = await store.claimDeliveries(claimRequest());
    expect(first.map((c) => c.deliveryId)).toEqual([ids[0]]);
    expect(first[0]).toMatchObject({
      attemptNumber: 1,
      integrationId: w.customer.integrationId,
      conversationId: w.conversation.conversationId,
      hubId: w.hub.hubId,
      tenantId: w.tenant.tenantId,
      webhookUrl: w.customer.configuration.webhookUrl,
      publicSigningKey: w.customer.configuration.publicSigningKey,
      privateSigningKey: w.customer.configuration.privateSigningKey,
      activityCount: 1,
    });
    expect(JSON.parse(first[0]!.body)).toHaveProperty('activity');
    expect(texts(first[0]!)).toEqual(['a']);
    expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    expect(await store.recordAttempts([record(first[0]!, { status: 'delivered' })])).toEqual([ids[0]]);
    const second = await store.claimDeliveries(claimRequest());
    expect(second.map((c) => c.deliveryId)).toEqual([ids[1]]);
    await store.recordAttempts([record(second[0]!, { status: 'failed' }, 410)]);
    const third = await store.claimDeliveries(claimRequest());
    expect(texts(third[0]!)).toEqual(['c']);
  });

  it('blocks only the conversation whose head waits for a retry', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const other = await newConversation(store, w.customer);
    await submitTexts(store, w.conversation.conversationId, w.customer, ['a1', 'a2']);
    await submitTexts(store, other.conversationId, w.customer, ['b1', 'b2']);
    const now = Date.now();
    const heads = await store.claimDeliveries(claimRequest({ now }));
    expect(heads.map(texts).sort()).toEqual([['a1'], ['b1']]);
    const a = heads.find((c) => c.conversationId === w.conversation.conversationId)!;
    const b = heads.find((c) => c.conversationId === other.conversationId)!;
    await store.recordAttempts([
      record(a, { status: 'pending', nextAttemptAt: now + 60_000 }, 500),
      record(b, { status: 'delivered' }),
    ]);
    const next = await store.claimDeliveries(claimRequest({ now }));
    expect(next.map(texts)).toEqual([['b2']]);
    await store.recordAttempts([record(next[0]!, { status: 'delivered' })]);
    expect(await store.nextDueAt()).toBe(now + 60_000);
    const retried = await store.claimDeliveries(claimRequest({ now: now + 60_000 }));
    expect(retried.map(texts)).toEqual([['a1']]);
    expect(retried[0]?.attemptNumber).toBe(2);
  });

  it('batches the waiting activities of a System lane at first dispatch, in order, then never again', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const ids = await submitTexts(store, w.conversation.conversationId, w.system, ['1', '2', '3', '4', '5']);
    const claimed = await store.claimDeliveries(claimRequest());
    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.deliveryId).toBe(ids[0]);
    expect(claimed[0]?.activityCount).toBe(5);
    expect(texts(claimed[0]!)).toEqual(['1', '2', '3', '4', '5']);
    const log = await store.listDeliveries(w.system.integrationId, undefined, {
      pageNumber: 0,
      pageSize: 10,
    });
    expect(log.results.map((d) => [d.deliveryId, d.activityCount])).toEqual([[ids[0], 5]]);
    await store.recordAttempts([record(claimed[0]!, { status: 'delivered' })]);
    expect(await store.claimDeliveries(claimRequest())).toEqual([]);
    expect(await store.nextDueAt()).toBeUndefined();
    await submitTexts(store, w.conversation.conversationId, w.system, ['6']);
    expect((await store.claimDeliveries(claimRequest())).map(texts)).toEqual([['6']]);
  });

  it('caps a batch by activity count and by bytes, and sends an oversized activity alone', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    await submitTexts(store, id, w.system, ['1', '2', '3', '4', '5']);
    const sizes: number[] = [];
    for (;;) {
      const [c] = await store.claimDeliveries(claimRequest({ batchMaxActivities: 2 }));
      if (c === undefined) break;
      sizes.push(c.activityCount);
      await store.recordAttempts([record(c, { status: 'delivered' })]);
    }
    expect(sizes).toEqual([2, 2, 1]);
    for (const n of [1, 2, 3])
      await store.submitActivity(id, planTo([webhookTo(w.system)], { text: `big${n}`, padding: 3000 }));
    const maxBytes = 7000;
    const [big] = await store.claimDeliveries(claimRequest({ batchMaxBytes: maxBytes }));
    expect(big?.activityCount).toBe(2);
    expect(Buffer.byteLength(big!.body)).toBeLessThanOrEqual(maxBytes);
    await store.recordAttempts([record(big!, { status: 'delivered' })]);
    const [rest] = await store.claimDeliveries(claimRequest({ batchMaxBytes: maxBytes }));
    expect(rest?.activityCount).toBe(1);
    await store.recordAttempts([record(rest!, { status: 'delivered' })]);
    await store.submitActivity(id, planTo([webhookTo(w.system)], { padding: 20_000 }));
    const [alone] = await store.claimDeliveries(claimRequest({ batchMaxBytes: maxBytes }));
    expect(alone?.activityCount).toBe(1);
    expect(Buffer.byteLength(alone!.body)).toBeGreaterThan(maxBytes);
  });

  it('resends the byte-identical body on retry even when more activities arrived', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    await submitTexts(store, id, w.system, ['1', '2']);
    const now = Date.now();
    const [first] = await store.claimDeliveries(claimRequest({ now }));
    await submitTexts(store, id, w.system, ['3']);
    await store.recordAttempts([record(first!, { status: 'pending', nextAttemptAt: now + 1000 }, 503)]);
    expect(await store.claimDeliveries(claimRequest({ now: now + 999 }))).toEqual([]);
    const [again] = await store.claimDeliveries(
      claimRequest({ now: now + 1000, buildBody: () => 'must not be used' }),
    );
    expect(again?.deliveryId).toBe(first?.deliveryId);
    expect(again?.body).toBe(first?.body);
    expect(again?.activityCount).toBe(2);
    expect(again!.fence).toBeGreaterThan(first!.fence);
    await store.recordAttempts([record(again!, { status: 'delivered' })]);
    expect((await store.claimDeliveries(claimRequest({ now: now + 1000 }))).map(texts)).toEqual([['3']]);
  });

  it('stores the notification of a failed outcome with it, and not for a stale result', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await submitTexts(store, w.conversation.conversationId, w.customer, ['a']);
    const now = Date.now();
    const [first] = await store.claimDeliveries(claimRequest({ now, leaseMs: 5000, owner: 'crashed' }));
    const [second] = await store.claimDeliveries(claimRequest({ now: now + 5000, owner: 'survivor' }));
    const notify = (details: string, owedMail?: string) => ({
      notification: {
        notificationId: randomUUID(),
        tenantId: w.tenant.tenantId,
        hubId: w.hub.hubId,
        integrationId: w.customer.integrationId,
        deliveryId: first!.deliveryId,
        code: 7512,
        caption: 'Unreachable web-endpoint.',
        details,
        createdAt: new Date(now).toISOString(),
      },
      ...(owedMail === undefined ? {} : { owedMail }),
    });
    // The stale lease's failure applies nothing, so stores no notification either.
    expect(
      await store.recordAttempts([{ ...record(first!, { status: 'failed' }, 500), notify: notify('stale') }]),
    ).toEqual([]);
    const current = notify('current', '{"owed":true}');
    expect(
      await store.recordAttempts([{ ...record(second!, { status: 'failed' }, 500), notify: current }]),
    ).toEqual([second!.deliveryId]);
    const listed = await store.listNotifications(w.tenant.tenantId, { pageNumber: 0, pageSize: 10 });
    expect(listed.results).toEqual([current.notification]);
    expect(await store.listOwedMail(w.customer.integrationId, 10)).toEqual([
      { notification: current.notification, mail: '{"owed":true}' },
    ]);
  });

  it('ignores a stale lease result recorded in one call with the current result of the same delivery', async () => {
    // One process can hold both: its result of the first claim was still waiting to be recorded (the
    // database unreachable) when the lease expired and it claimed and sent the delivery again.
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await submitTexts(store, w.conversation.conversationId, w.customer, ['a']);
    const now = Date.now();
    const [first] = await store.claimDeliveries(claimRequest({ now, leaseMs: 5000, owner: 'slow' }));
    const [second] = await store.claimDeliveries(claimRequest({ now: now + 5000, owner: 'slow' }));
    expect(second?.deliveryId).toBe(first?.deliveryId);
    const notify = (details: string) => ({
      notification: {
        notificationId: randomUUID(),
        tenantId: w.tenant.tenantId,
        hubId: w.hub.hubId,
        integrationId: w.customer.integrationId,
        deliveryId: first!.deliveryId,
        code: 7512,
        caption: 'Unreachable web-endpoint.',
        details,
        createdAt: new Date(now).toISOString(),
      },
    });
    const current = notify('current');
    expect(
      await store.recordAttempts([
        { ...record(first!, { status: 'failed' }, 500), notify: notify('stale') },
        { ...record(second!, { status: 'failed' }, 503), notify: current },
      ]),
    ).toEqual([second!.deliveryId]);
    const delivery = await store.getDelivery(first!.deliveryId);
    expect(delivery?.status).toBe('failed');
    expect(delivery?.attempts?.map((a) => a.statusCode)).toEqual([503]);
    const listed = await store.listNotifications(w.tenant.tenantId, { pageNumber: 0, pageSize: 10 });
    expect(listed.results).toEqual([current.notification]);
  });

  it('takes back an expired lease and ignores the stale lease result', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await submitTexts(store, w.conversation.conversationId, w.customer, ['a']);
    const now = Date.now();
    const [first] = await store.claimDeliveries(claimRequest({ now, leaseMs: 5000, owner: 'crashed' }));
    expect(await store.claimDeliveries(claimRequest({ now: now + 4999 }))).toEqual([]);
    expect(await store.nextDueAt()).toBe(now + 5000);
    const [second] = await store.claimDeliveries(claimRequest({ now: now + 5000, owner: 'survivor' }));
    expect(second?.deliveryId).toBe(first?.deliveryId);
    expect(second!.fence).toBeGreaterThan(first!.fence);
    expect(second?.body).toBe(first?.body);
    expect(await store.recordAttempts([record(first!, { status: 'failed' }, 500)])).toEqual([]);
    expect((await store.getDelivery(first!.deliveryId))?.status).toBe('pending');
    expect(await store.recordAttempts([record(second!, { status: 'delivered' })])).toEqual([
      second?.deliveryId,
    ]);
    expect(await store.recordAttempts([record(second!, { status: 'failed' }, 500)])).toEqual([]);
    const delivery = await store.getDelivery(first!.deliveryId);
    expect(delivery?.status).toBe('delivered');
    expect(delivery?.attempts).toHaveLength(1);
  });

  it("leases a delivery for its integration's own attempt timeout (leaseMsFor)", async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await store.updateIntegration({
      ...w.customer,
      configuration: { ...w.customer.configuration, deliveryTimeout: '30s' },
    });
    await submitTexts(store, w.conversation.conversationId, w.customer, ['a']);
    const now = Date.now();
    const leaseMsFor = (timeout: string): number => (timeout === '30s' ? 31_000 : 0);
    const [first] = await store.claimDeliveries(
      claimRequest({ now, leaseMs: 5000, leaseMsFor, owner: 'slow' }),
    );
    expect(first?.deliveryTimeout).toBe('30s');
    // Not taken back once the deployment's lease (5 s) is over: the integration's 31 s lease holds.
    expect(await store.claimDeliveries(claimRequest({ now: now + 5000 }))).toEqual([]);
    expect(await store.claimDeliveries(claimRequest({ now: now + 30_999 }))).toEqual([]);
    expect(await store.nextDueAt()).toBe(now + 31_000);
    const [again] = await store.claimDeliveries(claimRequest({ now: now + 31_000, owner: 'next' }));
    expect(again?.deliveryId).toBe(first?.deliveryId);
  });

  it('never hands the same delivery to two concurrent claims', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const conversations = [w.conversation];
    for (let i = 0; i < 29; i++) conversations.push(await newConversation(store, w.customer));
    await Promise.all(
      conversations.map((c) =>
        store.submitActivity(c.conversationId, planTo([webhookTo(w.customer), webhookTo(w.system)])),
      ),
    );
    const claims = await Promise.all(
      Array.from({ length: 4 }, (_, n) => store.claimDeliveries(claimRequest({ owner: `w${n}`, limit: 25 }))),
    );
    const all = claims.flat().map((c) => c.deliveryId);
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
  });

  /** 40 deliveries of the busy System integration, then one of a quiet one submitted after them. */
  async function burstThenQuiet() {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const quiet = systemFixture(w.hub, 'quiet');
    await store.createIntegration(quiet);
    for (let i = 0; i < 40; i++) {
      const c = await newConversation(store, w.customer);
      await store.submitActivity(c.conversationId, planTo([webhookTo(w.system)]));
    }
    await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(quiet)]));
    return { store, w, quiet };
  }

  it('shares a claim fairly between integrations and respects the per-integration limit', async () => {
    const { store, w, quiet } = await burstThenQuiet();
    // The busy integration has room for the whole claim: its backlog still does not take every slot
    // (on SQLite once the deliveries have waited FAIR_WAIT_MS; a second later they all have).
    const fair = await store.claimDeliveries(claimRequest({ limit: 10, now: Date.now() + 1_000 }));
    expect(fair).toHaveLength(10);
    expect(fair.filter((c) => c.integrationId === quiet.integrationId)).toHaveLength(1);
    const capped = await store.claimDeliveries(claimRequest({ limit: 50, perIntegrationLimit: 12 }));
    expect(capped).toHaveLength(12);
    const full = await store.claimDeliveries(
      claimRequest({ limit: 50, perIntegrationLimit: 12, inFlight: new Map([[w.system.integrationId, 12]]) }),
    );
    expect(full).toEqual([]);
  });

  it('does not let an integration at its own limit hold back a delivery submitted after its backlog', async () => {
    const { store, w, quiet } = await burstThenQuiet();
    const limited = await store.claimDeliveries(claimRequest({ limit: 10, perIntegrationLimit: 4 }));
    expect(limited).toHaveLength(5);
    expect(limited.filter((c) => c.integrationId === quiet.integrationId)).toHaveLength(1);
    // The busy integration's waiting deliveries and the quiet one's new delivery share the next claim.
    const second = await newConversation(store, w.customer);
    await store.submitActivity(second.conversationId, planTo([webhookTo(quiet)]));
    const next = await store.claimDeliveries(claimRequest({ limit: 10 }));
    expect(next).toHaveLength(10);
    expect(next.filter((c) => c.integrationId === quiet.integrationId)).toHaveLength(1);
  });

  it('sends echo copies with the echo envelope and never batches them', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    for (let i = 0; i < 3; i++) await store.submitActivity(id, planTo([webhookTo(w.customer, true)]));
    const echoes: boolean[] = [];
    const [c] = await store.claimDeliveries(
      claimRequest({
        buildBody: (envelope, jsons) => {
          echoes.push(envelope.echo);
          expect(envelope.shape).toBe('activity');
          expect(jsons).toHaveLength(1);
          return 'echo-body';
        },
      }),
    );
    expect(c?.activityCount).toBe(1);
    expect(c?.body).toBe('echo-body');
    expect(echoes).toEqual([true]);
  });
}
