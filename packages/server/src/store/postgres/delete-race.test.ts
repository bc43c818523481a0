// PostgreSQL: deleting an integration or a hub while another process submits to its conversations or
// resends its deliveries never leaves a pending delivery (or a lane) behind for the deleted integration,
// and an integration created while its hub is deleted never outlives the hub. Two stores on one
// schema play the two processes; a third connection holds a row lock to fix the interleaving, and the
// test waits on what pg_blocking_pids reports, never on a sleep.

import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Integration } from '../../domain/types.js';
import type { RoutingContext, Store, SubmitResult } from '../contract.js';
import {
  claimRequest,
  makeWorld,
  newConversation,
  planTo,
  record,
  systemFixture,
  webhookTo,
  type World,
} from '../conformance/fixtures.js';
import { expectCatalogueError } from '../conformance/harness.js';
import { createPostgresStore } from './index.js';
import {
  TEST_POSTGRES_URL,
  blockedBy,
  dropSchemas,
  freshSchemaUrl,
  pidOf,
  postgresAvailable,
} from './test-database.js';

const available = await postgresAvailable();
const schemas: string[] = [];
const stores: Store[] = [];
const clients: pg.Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
});

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  if (available) await dropSchemas(schemas);
});

interface Setup {
  /** The submitting process and the deleting one. */
  submitter: Store;
  deleter: Store;
  world: World;
  /** Holds row locks in an open transaction to stop the submit at a chosen point. */
  holder: pg.Client;
  /** Watches the lock waits (outside any transaction, so pg_stat_activity is current). */
  observer: pg.Client;
}

async function setup(): Promise<Setup> {
  const { url, schema } = freshSchemaUrl('del');
  schemas.push(schema);
  const submitter = createPostgresStore(url);
  const deleter = createPostgresStore(url);
  stores.push(submitter, deleter);
  await submitter.migrate();
  await deleter.migrate();
  const world = await makeWorld(submitter);
  const connect = async () => {
    const client = new pg.Client({
      connectionString: TEST_POSTGRES_URL,
      options: `-c search_path=${schema}`,
    });
    clients.push(client);
    await client.connect();
    return client;
  };
  return { submitter, deleter, world, holder: await connect(), observer: await connect() };
}

/** Routes to these integrations when the routing context still has them, as the real router does. */
function routeTo(...targets: Integration[]) {
  const ids = new Set(targets.map((t) => t.integrationId));
  return (ctx: RoutingContext) =>
    planTo(ctx.integrations.filter((i) => ids.has(i.integrationId)).map((i) => webhookTo(i)))(ctx);
}

function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const settle = () => {
    done = true;
  };
  promise.then(settle, settle);
  return { promise, settled: () => done };
}

/** What is left of the integration's deliveries (by status) and lanes. */
async function leftovers(observer: pg.Client, integrationId: string) {
  const deliveries = await observer.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM deliveries WHERE integration_id = $1 GROUP BY status ORDER BY status',
    [integrationId],
  );
  const lanes = await observer.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM lanes WHERE integration_id = $1',
    [integrationId],
  );
  return {
    byStatus: Object.fromEntries(deliveries.rows.map((r) => [r.status, r.n])),
    lanes: lanes.rows[0]!.n,
  };
}

const deletes = {
  integration: (s: Setup) => s.deleter.deleteIntegration(s.world.system.integrationId),
  hub: (s: Setup) => s.deleter.deleteHub(s.world.hub.hubId),
};

describe.runIf(available)('PostgreSQL: deletes racing submits', () => {
  it.each(Object.keys(deletes) as (keyof typeof deletes)[])(
    'deleting the %s after a submit read the routing context, before it wrote, leaves it no delivery',
    async (kind) => {
      const s = await setup();
      const { world, holder, observer } = s;
      const conversationId = world.conversation.conversationId;
      // The submit takes its snapshot (the integration still there), then waits for the conversation lock.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE', [
        conversationId,
      ]);
      const submit = tracked(s.submitter.submitActivity(conversationId, routeTo(world.system)));
      const submitPid = await blockedBy(observer, await pidOf(holder), submit.settled);
      expect(submitPid, 'the submit waits for the conversation lock').toBeDefined();
      await deletes[kind](s);
      await holder.query('COMMIT');
      if (kind === 'hub') {
        // The submit locks the hub (FOR SHARE) and finds it gone: its conversation is gone with it.
        await expect(submit.promise).rejects.toThrow(/Conversation not found/);
      } else {
        const result: SubmitResult = await submit.promise;
        expect(result.plan.deliveries).toEqual([]);
      }
      expect(await leftovers(observer, world.system.integrationId)).toEqual({ byStatus: {}, lanes: 0 });
    },
  );

  it('deleting an integration while a submit that routed to it still writes cancels its delivery', async () => {
    const s = await setup();
    const { world, holder, observer } = s;
    const conversationId = world.conversation.conversationId;
    // A first activity gives the customer's lane a row, which the holder then locks: the next submit
    // routes to both integrations and stops inside its write, after it read the routing context.
    await s.submitter.submitActivity(conversationId, routeTo(world.customer));
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM lanes WHERE integration_id = $1 AND conversation_id = $2 FOR UPDATE', [
      world.customer.integrationId,
      conversationId,
    ]);
    const submit = tracked(s.submitter.submitActivity(conversationId, routeTo(world.system, world.customer)));
    const submitPid = await blockedBy(observer, await pidOf(holder), submit.settled);
    expect(submitPid, 'the submit waits for the lane lock').toBeDefined();
    // The delete must wait for the submit (it holds the integration); without that it would answer
    // before the submit's rows are visible to it and leave them pending.
    const deletion = tracked(s.deleter.deleteIntegration(world.system.integrationId));
    await blockedBy(observer, submitPid!, deletion.settled);
    await holder.query('COMMIT');
    const result = await submit.promise;
    await deletion.promise;
    expect(await leftovers(observer, world.system.integrationId)).toEqual({
      byStatus: { cancelled: 1 },
      lanes: 0,
    });
    expect(result.plan.deliveries.map((d) => d.integrationId)).toContain(world.system.integrationId);
  });

  it.each(Object.keys(deletes) as (keyof typeof deletes)[])(
    'deleting the %s under a stream of submits from two processes leaves no pending delivery',
    async (kind) => {
      const s = await setup();
      const { world, observer } = s;
      const conversations = [world.conversation];
      for (let i = 1; i < 12; i++) conversations.push(await newConversation(s.submitter, world.customer));
      // `deleting` is set before the delete is sent: a submit's answer (on its own connection) can
      // arrive before the delete's own, so a submit may fail after the delete committed and before
      // `deleted` is set.
      let deleting = false;
      let deleted = false;
      let afterDelete = 0;
      let submitted = 0;
      let firstSubmits: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (firstSubmits = resolve));
      // Every conversation is submitted to from both stores until the delete answered and each saw
      // a few more submits, so submits are in flight on both sides of the delete.
      const submitter = async (store: Store, conversationId: string): Promise<void> => {
        for (let n = 0; n < 500 && (!deleted || afterDelete < 40); n++) {
          await store.submitActivity(conversationId, routeTo(world.system, world.customer)).catch((error) => {
            // Once the hub delete is under way the conversation may have no hub any more.
            if (kind !== 'hub' || !deleting || !/Conversation not found/.test(String(error))) throw error;
          });
          if (deleted) afterDelete += 1;
          if ((submitted += 1) === 50) firstSubmits();
        }
      };
      const running = conversations.flatMap((c) => [
        submitter(s.submitter, c.conversationId),
        submitter(s.deleter, c.conversationId),
      ]);
      // Handled from the start: a submit that fails before the delete fails the test, not the run.
      const finished = Promise.all(running);
      await Promise.race([started, finished]);
      deleting = true;
      await deletes[kind](s);
      deleted = true;
      await finished;
      expect(afterDelete).toBeGreaterThan(0);
      const left = await leftovers(observer, world.system.integrationId);
      expect(left.byStatus['pending'] ?? 0, JSON.stringify(left)).toBe(0);
      expect(left.lanes).toBe(0);
    },
  );
});

/** Submits to the system integration, claims it and records a final failure: a resendable delivery. */
async function failedDelivery(s: Setup): Promise<string> {
  const conversationId = s.world.conversation.conversationId;
  const [id] = (await s.submitter.submitActivity(conversationId, routeTo(s.world.system))).deliveryIds;
  const [claimed] = await s.submitter.claimDeliveries(claimRequest());
  expect(claimed?.deliveryId).toBe(id);
  await s.submitter.recordAttempts([record(claimed!, { status: 'failed' }, 500)]);
  return id!;
}

/** The two ways to resend, each answering how many deliveries it put back. */
const resends = {
  retry: async (s: Setup, deliveryId: string) =>
    (await s.submitter.retryDelivery(deliveryId, Date.now())) ? 1 : 0,
  recover: (s: Setup) => s.submitter.recoverDeliveries(s.world.system.integrationId, 0, Date.now()),
};

const resendAndDelete = (Object.keys(resends) as (keyof typeof resends)[]).flatMap((resend) =>
  (Object.keys(deletes) as (keyof typeof deletes)[]).map((kind) => [resend, kind] as const),
);

describe.runIf(available)('PostgreSQL: deletes racing resends', () => {
  it.each(resendAndDelete)(
    'a %s that starts while the %s delete runs waits for it and then puts nothing back',
    async (resendKind, kind) => {
      const s = await setup();
      const { world, holder, observer } = s;
      const failedId = await failedDelivery(s);
      // A pending delivery of the same lane, locked by the holder: the delete stops at its cancel,
      // after it deleted the lane and before it committed.
      const conversationId = world.conversation.conversationId;
      const [pendingId] = (await s.submitter.submitActivity(conversationId, routeTo(world.system)))
        .deliveryIds;
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM deliveries WHERE delivery_id = $1 FOR UPDATE', [pendingId]);
      const deletion = tracked(deletes[kind](s));
      const deletePid = await blockedBy(observer, await pidOf(holder), deletion.settled);
      expect(deletePid, 'the delete waits for the pending delivery').toBeDefined();
      const resend = tracked(resends[resendKind](s, failedId));
      const resendPid = await blockedBy(observer, deletePid!, resend.settled);
      expect(resendPid, 'the resend waits for the delete').toBeDefined();
      await holder.query('COMMIT');
      await deletion.promise;
      const resent = await resend.promise;
      // Without the integration lock the resend waited for the lane instead, and then re-created it
      // for the deleted integration once the delete committed.
      expect(await leftovers(observer, world.system.integrationId)).toEqual({
        byStatus: { cancelled: 1, failed: 1 },
        lanes: 0,
      });
      expect(resent).toBe(0);
    },
  );

  it.each(resendAndDelete)(
    'a %s that is writing when the %s delete starts is waited for, and what it reopened is cancelled',
    async (resendKind, kind) => {
      const s = await setup();
      const { world, holder, observer } = s;
      const failedId = await failedDelivery(s);
      // The holder locks the failed delivery: the resend stops at its update, after it took its locks.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM deliveries WHERE delivery_id = $1 FOR UPDATE', [failedId]);
      const resend = tracked(resends[resendKind](s, failedId));
      const resendPid = await blockedBy(observer, await pidOf(holder), resend.settled);
      expect(resendPid, 'the resend waits for the delivery').toBeDefined();
      const deletion = tracked(deletes[kind](s));
      await blockedBy(observer, resendPid!, deletion.settled);
      expect(deletion.settled(), 'the delete waits for the resend').toBe(false);
      await holder.query('COMMIT');
      expect(await resend.promise).toBe(1);
      await deletion.promise;
      expect(await leftovers(observer, world.system.integrationId)).toEqual({
        byStatus: { cancelled: 1 },
        lanes: 0,
      });
    },
  );
});

/** How many integrations the hub still has (none may survive its delete). */
async function integrationsOf(observer: pg.Client, hubId: string): Promise<number> {
  const { rows } = await observer.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM integrations WHERE hub_id = $1',
    [hubId],
  );
  return rows[0]!.n;
}

describe.runIf(available)('PostgreSQL: hub deletes racing integration creates', () => {
  it('creating an integration in a hub deleted after the caller found it fails HubNotFound', async () => {
    const s = await setup();
    const { world, observer } = s;
    // The API read the hub, then the delete committed, then the create reached the store.
    await s.deleter.deleteHub(world.hub.hubId);
    await expectCatalogueError(s.submitter.createIntegration(systemFixture(world.hub)), 'HubNotFound');
    expect(await integrationsOf(observer, world.hub.hubId)).toBe(0);
  });

  it('an integration created while the hub delete waits to finish does not survive it', async () => {
    const s = await setup();
    const { world, holder, observer } = s;
    // The holder shares the hub row: without the hub lock, the delete removes the integrations and
    // then waits to delete the hub row; with it, the delete waits before anything.
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM hubs WHERE hub_id = $1 FOR KEY SHARE', [world.hub.hubId]);
    const deletion = tracked(s.deleter.deleteHub(world.hub.hubId));
    const deletePid = await blockedBy(observer, await pidOf(holder), deletion.settled);
    expect(deletePid, 'the delete waits for the hub row').toBeDefined();
    // A KEY SHARE lock does not queue behind the delete's waiting FOR UPDATE: the create commits
    // first, and the delete (once the holder lets it) takes its integration with the others.
    const late = systemFixture(world.hub);
    await s.submitter.createIntegration(late);
    await holder.query('COMMIT');
    await deletion.promise;
    expect(await integrationsOf(observer, world.hub.hubId)).toBe(0);
    expect(await s.deleter.getIntegration(late.integrationId)).toBeUndefined();
  });

  it('creating an integration while the hub delete runs waits for it and then fails HubNotFound', async () => {
    const s = await setup();
    const { world, holder, observer } = s;
    // The holder shares an integration row: the delete stops when it locks the hub's integrations.
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR KEY SHARE', [
      world.agent.integrationId,
    ]);
    const deletion = tracked(s.deleter.deleteHub(world.hub.hubId));
    const deletePid = await blockedBy(observer, await pidOf(holder), deletion.settled);
    expect(deletePid, 'the delete waits for the integration').toBeDefined();
    const creation = tracked(s.submitter.createIntegration(systemFixture(world.hub)));
    await blockedBy(observer, deletePid!, creation.settled);
    expect(creation.settled(), 'the create waits for the delete').toBe(false);
    await holder.query('COMMIT');
    await deletion.promise;
    await expectCatalogueError(creation.promise, 'HubNotFound');
    expect(await integrationsOf(observer, world.hub.hubId)).toBe(0);
  });
});
