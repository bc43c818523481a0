// Submitting activities on PostgreSQL, with group commit: concurrent submits share one transaction.

import type pg from 'pg';
import { HooksterError } from '../../domain/errors.js';
import { sequentialGuid } from '../../domain/ids.js';
import { HubStatus, IntegrationStatus, type Conversation, type Guid } from '../../domain/types.js';
import type { ActivityPlan, RoutingContext, SubmitResult } from '../contract.js';
import type { PgContext } from './context.js';
import { markHeldPushes } from './held-pushes.js';
import { toConversation, toHub, toIntegration, toTenant, type Row } from './rows.js';
import { inTransaction } from './tx.js';

type PlanFn = (ctx: RoutingContext) => ActivityPlan;

interface PendingSubmit {
  conversationId: Guid;
  plan: PlanFn;
  resolve: (result: SubmitResult) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; result: SubmitResult } | { ok: false; error: unknown };

const MAX_BATCH = 64;
const MAX_CONCURRENT_BATCHES = 2;

/**
 * Why group commit: every commit waits for a WAL flush; under load, submits that arrive while a
 * transaction is running wait in a queue and the next transaction takes them all, so one flush serves
 * many requests. A conversation is never in two running batches at once, so its submits commit in
 * arrival order; the conversation rows are locked FOR UPDATE in id order, which serialises submits
 * of one conversation across processes (strictly increasing eventId, consistent lanes) without
 * deadlocks between batches.
 */
export class SubmitBatcher {
  private readonly queue: PendingSubmit[] = [];
  private readonly busyConversations = new Set<Guid>();
  private running = 0;

  constructor(private readonly ctx: PgContext) {}

  submit(conversationId: Guid, plan: PlanFn): Promise<SubmitResult> {
    return new Promise<SubmitResult>((resolve, reject) => {
      this.queue.push({ conversationId, plan, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < MAX_CONCURRENT_BATCHES) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.running += 1;
      for (const item of batch) this.busyConversations.add(item.conversationId);
      void this.run(batch).finally(() => {
        for (const item of batch) this.busyConversations.delete(item.conversationId);
        this.running -= 1;
        this.pump();
      });
    }
  }

  private takeBatch(): PendingSubmit[] {
    const batch: PendingSubmit[] = [];
    const taken = new Set<Guid>();
    for (let i = 0; i < this.queue.length && batch.length < MAX_BATCH;) {
      const item = this.queue[i] as PendingSubmit;
      if (taken.has(item.conversationId) || this.busyConversations.has(item.conversationId)) {
        // A later submit of this conversation waits for the next batch: arrival order is kept.
        taken.add(item.conversationId);
        i += 1;
        continue;
      }
      taken.add(item.conversationId);
      batch.push(item);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private async run(batch: PendingSubmit[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await inTransaction(this.ctx.pool, (client) => writeBatch(this.ctx, client, batch));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    let work = false;
    outcomes.forEach((outcome, index) => {
      const item = batch[index] as PendingSubmit;
      if (outcome.ok) {
        if (outcome.result.plan.deliveries.some((d) => d.transport === 'webhook')) work = true;
        item.resolve(outcome.result);
      } else {
        item.reject(outcome.error);
      }
    });
    if (work) this.ctx.fireLocal();
  }
}

interface Writes {
  activities: {
    conv: string[];
    event: number[];
    sender: (string | null)[];
    recipient: (string | null)[];
    json: string[];
  };
  deliveries: {
    id: string[];
    integration: string[];
    conv: string[];
    hub: string[];
    tenant: string[];
    transport: string[];
    echo: boolean[];
    event: number[];
  };
  lanes: Map<string, [string, string, string]>;
  conversations: { id: string[]; event: number[]; business: (string | null)[] };
}

async function writeBatch(ctx: PgContext, client: pg.PoolClient, batch: PendingSubmit[]): Promise<Outcome[]> {
  const ids = [...new Set(batch.map((b) => b.conversationId))].sort();
  // One round trip: lock the conversations (in id order) and load the routing context with them. The
  // lock returns each conversation's latest version (after a submit that held it committed); tenants
  // come from the statement's snapshot, as if read just before. The hubs, then their integrations (in
  // the order a hub delete locks them FOR UPDATE, integrations in code-unit order) are locked FOR
  // SHARE, and the lock returns their latest versions:
  // - a delete that locked an integration first makes this lock wait and then skip the deleted row,
  //   so nothing is routed to it (a hub deleted first: its conversations are not found); otherwise the
  //   delete waits for this commit and then cancels what it wrote;
  // - a pause (an UPDATE of the hub or integration row) that committed first is seen, so websocket
  //   deliveries are written held; one that comes later waits for this commit. Otherwise a pause could
  //   commit and be answered while this transaction is open, and an activity committed after it would
  //   still be pushed at once (webhook deliveries check the pause again when claimed).
  // SHARE locks do not conflict with another submit's, nor with an integration create (KEY SHARE on
  // the hub).
  const { rows } = await client.query(
    `WITH c AS (
       SELECT * FROM conversations WHERE conversation_id = ANY($1) ORDER BY conversation_id FOR UPDATE
     ), h AS (
       SELECT * FROM hubs WHERE hub_id IN (SELECT hub_id FROM c) ORDER BY hub_id COLLATE "C" FOR SHARE
     ), i AS (
       SELECT * FROM integrations WHERE hub_id IN (SELECT hub_id FROM h)
       ORDER BY integration_id COLLATE "C" FOR SHARE
     )
     SELECT (SELECT json_agg(c) FROM c) AS conversations,
       (SELECT json_agg(h) FROM h) AS hubs,
       (SELECT json_agg(t) FROM tenants t WHERE t.tenant_id IN (SELECT tenant_id FROM c)) AS tenants,
       (SELECT json_agg(i ORDER BY i.seq) FROM i) AS integrations`,
    [ids],
  );
  const loaded = rows[0] as Record<'conversations' | 'hubs' | 'tenants' | 'integrations', Row[] | null>;
  const conversations = new Map<Guid, Conversation>();
  for (const row of loaded.conversations ?? []) {
    const c = toConversation(row);
    conversations.set(c.conversationId, c);
  }
  const hubs = new Map((loaded.hubs ?? []).map((r) => [r['hub_id'] as string, toHub(r)]));
  const tenants = new Map((loaded.tenants ?? []).map((r) => [r['tenant_id'] as string, toTenant(r)]));
  const integrations = (loaded.integrations ?? []).map(toIntegration);

  const now = Date.now();
  const writes: Writes = {
    activities: { conv: [], event: [], sender: [], recipient: [], json: [] },
    deliveries: {
      id: [],
      integration: [],
      conv: [],
      hub: [],
      tenant: [],
      transport: [],
      echo: [],
      event: [],
    },
    lanes: new Map(),
    conversations: { id: [], event: [], business: [] },
  };
  const outcomes: Outcome[] = batch.map((item) => {
    try {
      const conversation = conversations.get(item.conversationId);
      if (conversation === undefined) throw HooksterError.of('ConversationNotFound');
      const hub = hubs.get(conversation.hubId);
      const tenant = tenants.get(conversation.tenantId);
      if (hub === undefined || tenant === undefined) throw HooksterError.of('ConversationNotFound');
      const plan = item.plan({
        conversation,
        hub,
        tenant,
        integrations: integrations.filter((i) => i.hubId === hub.hubId),
        now,
      });
      const eventId = plan.activity.eventId;
      if (!(eventId > conversation.lastEventId)) {
        throw new Error(
          `eventId ${eventId} is not above the conversation's last ${conversation.lastEventId}`,
        );
      }
      const paused = new Set(
        integrations
          .filter(
            (i) =>
              i.hubId === hub.hubId &&
              (hub.statusId === HubStatus.Paused || i.statusId === IntegrationStatus.Paused),
          )
          .map((i) => i.integrationId),
      );
      return { ok: true, result: collect(writes, conversation, plan, now, paused) };
    } catch (error) {
      return { ok: false, error };
    }
  });
  if (writes.conversations.id.length > 0) await flushWrites(ctx, client, writes, now);
  // Rare (a paused integration or hub): mark the websocket deliveries written held, in the same
  // transaction, so a resume releases exactly those.
  const heldPushes = outcomes.flatMap((o) =>
    o.ok
      ? o.result.deliveryIds.filter(
          (_, k) => o.result.held?.[k] === true && o.result.plan.deliveries[k]?.transport === 'websocket',
        )
      : [],
  );
  if (heldPushes.length > 0) await markHeldPushes(client, heldPushes);
  return outcomes;
}

/** `paused`: integrations whose deliveries are written held (the integration or its hub is paused). */
function collect(
  writes: Writes,
  conversation: Conversation,
  plan: ActivityPlan,
  now: number,
  paused: ReadonlySet<Guid>,
): SubmitResult {
  const { activity } = plan;
  const a = writes.activities;
  a.conv.push(conversation.conversationId);
  a.event.push(activity.eventId);
  a.sender.push(activity.sender?.integrationType ?? null);
  a.recipient.push(activity.recipient?.integrationType ?? null);
  a.json.push(plan.activityJson);
  const deliveryIds: Guid[] = [];
  const d = writes.deliveries;
  for (const planned of plan.deliveries) {
    const id = sequentialGuid(now);
    deliveryIds.push(id);
    d.id.push(id);
    d.integration.push(planned.integrationId);
    d.conv.push(conversation.conversationId);
    d.hub.push(conversation.hubId);
    d.tenant.push(conversation.tenantId);
    d.transport.push(planned.transport);
    d.echo.push(planned.echo);
    d.event.push(activity.eventId);
    const lane = `${planned.integrationId}\u0000${conversation.conversationId}`;
    if (planned.transport === 'webhook' && !writes.lanes.has(lane)) {
      writes.lanes.set(lane, [planned.integrationId, conversation.conversationId, id]);
    }
  }
  const updated: Conversation = { ...conversation, lastEventId: activity.eventId };
  if (plan.businessIntegrationId !== undefined) updated.businessIntegrationId = plan.businessIntegrationId;
  writes.conversations.id.push(conversation.conversationId);
  writes.conversations.event.push(activity.eventId);
  writes.conversations.business.push(plan.businessIntegrationId ?? null);
  const result: SubmitResult = { plan, conversation: updated, deliveryIds };
  if (plan.deliveries.some((d) => paused.has(d.integrationId))) {
    result.held = plan.deliveries.map((d) => paused.has(d.integrationId));
  }
  return result;
}

/**
 * One statement writes the whole batch. A new delivery becomes its lane's head, due now, only when
 * the lane was empty; a lane whose head waits for a retry or is in flight keeps head and due time,
 * so the later activity waits behind the head (FIFO per conversation).
 */
async function flushWrites(ctx: PgContext, client: pg.PoolClient, w: Writes, now: number): Promise<void> {
  // Lanes are locked in (integration, conversation) code-unit order, the order (COLLATE "C") every
  // other multi-lane writer uses, so two writers never wait on each other in a cycle.
  const lanes = [...w.lanes.values()].sort(
    (x, y) => compareCodeUnits(x[0], y[0]) || compareCodeUnits(x[1], y[1]),
  );
  await client.query(
    `WITH a AS (
       INSERT INTO activities (conversation_id, event_id, sender_type, recipient_type, activity_json)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
     ), d AS (
       INSERT INTO deliveries (delivery_id, integration_id, conversation_id, hub_id, tenant_id, transport, echo,
         event_id, event_ids, status, created_at, next_attempt_at)
       SELECT u.id, u.integration, u.conv, u.hub, u.tenant, u.transport, u.echo, u.ev, ARRAY[u.ev], 'pending', $14, $14
       FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[],
         $13::bigint[]) AS u(id, integration, conv, hub, tenant, transport, echo, ev)
     ), l AS (
       INSERT INTO lanes (integration_id, conversation_id, head_id, due_at)
       SELECT u.integration, u.conv, u.head, $14 FROM unnest($15::text[], $16::text[], $23::text[])
         AS u(integration, conv, head)
       ON CONFLICT (integration_id, conversation_id) DO UPDATE
         SET head_id = COALESCE(lanes.head_id, EXCLUDED.head_id),
             due_at = CASE WHEN lanes.head_id IS NULL THEN EXCLUDED.due_at ELSE lanes.due_at END
     ), c AS (
       UPDATE conversations c SET last_event_id = u.ev,
         business_integration_id = COALESCE(u.business, c.business_integration_id)
       FROM unnest($17::text[], $18::bigint[], $19::text[]) AS u(id, ev, business)
       WHERE c.conversation_id = u.id
     )
     SELECT pg_notify($20, $21) WHERE $22::boolean`,
    [
      w.activities.conv,
      w.activities.event,
      w.activities.sender,
      w.activities.recipient,
      w.activities.json,
      w.deliveries.id,
      w.deliveries.integration,
      w.deliveries.conv,
      w.deliveries.hub,
      w.deliveries.tenant,
      w.deliveries.transport,
      w.deliveries.echo,
      w.deliveries.event,
      now,
      lanes.map((l) => l[0]),
      lanes.map((l) => l[1]),
      w.conversations.id,
      w.conversations.event,
      w.conversations.business,
      ...ctx.notifyParams,
      lanes.length > 0,
      lanes.map((l) => l[2]),
    ],
  );
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
