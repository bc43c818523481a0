// Conversations and activity submission on SQLite. A submit loads the routing context, runs the pure
// planner and writes the activity, its deliveries and the conversation's new state inside the current
// group-commit transaction (a failing write undoes only itself), so it is answered only once all of it is
// durable. Webhook deliveries are written as one fanouts row (fanout.ts), websocket ones as rows.

import { HooksterError } from '../../domain/errors.js';
import { HubStatus, IntegrationStatus } from '../../domain/types.js';
import type { Activity, Conversation, Guid, Hub, Integration, Tenant } from '../../domain/types.js';
import {
  withinActivityBounds,
  type ActivityPlan,
  type EstablishRequest,
  type ListActivitiesQuery,
  type RoutingContext,
  type SubmitResult,
} from '../contract.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf } from './delivery-id.js';
import type { FanoutTarget } from './fanout.js';
import {
  toConversation,
  toHub,
  toIntegration,
  toTenant,
  type ConversationRow,
  type HubRow,
  type IntegrationRow,
  type TenantRow,
} from './rows.js';

interface RoutingView {
  version: number;
  hub: Hub;
  integrations: Integration[];
  byId: Map<string, Integration>;
  /** Compact references (integrations.seq) used by the delivery indexes. */
  refById: Map<string, number>;
}

export function createActivities(ctx: SqliteContext) {
  const { db, writes, fanouts } = ctx;
  // Parsed hubs + integrations, revalidated by the hub's version (one PK read per submit), so a
  // submit does not re-parse every integration's JSON configuration.
  const routingViews = new Map<string, RoutingView>();
  const tenants = new Map<string, Tenant>();

  const lastEventId = `COALESCE((SELECT MAX(event_id) FROM activities a WHERE a.conversation_ref = c.seq), 0)`;
  const selectConversation = db.prepare<[string], ConversationRow>(
    `SELECT c.*, ${lastEventId} AS last_event_id FROM conversations c WHERE c.conversation_id = ?`,
  );
  // The submit path's read: the conversation with its hub's routing version (one statement, not two).
  const selectForSubmit = db.prepare<[string], ConversationRow & { hub_version: number | null }>(
    `SELECT c.*, ${lastEventId} AS last_event_id,
       (SELECT version FROM hubs h WHERE h.hub_id = c.hub_id) AS hub_version
     FROM conversations c WHERE c.conversation_id = ?`,
  );
  const selectByBinding = db.prepare<[string, string], ConversationRow>(
    `SELECT c.*, ${lastEventId} AS last_event_id FROM conversations c WHERE c.integration_id = ? AND c.binding = ?`,
  );
  const insertConversation = db.prepare(
    `INSERT INTO conversations (conversation_id, tenant_id, hub_id, integration_id, binding, token_id, properties,
       opened_date_time, closed_date_time, business_integration_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectHub = db.prepare<[string], HubRow>('SELECT * FROM hubs WHERE hub_id = ?');
  const integrationsOfHub = db.prepare<[string], IntegrationRow>(
    'SELECT * FROM integrations WHERE hub_id = ? ORDER BY seq',
  );
  const selectTenant = db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE tenant_id = ?');
  const insertActivity = db.prepare(
    'INSERT INTO activities (conversation_ref, event_id, sender_type, recipient_type, json) VALUES (?, ?, ?, ?, ?)',
  );
  // Websocket deliveries are written at once (they are pushed right after the commit and are not in
  // lanes); webhook deliveries go to one fanouts row and get their rows later (fanout.ts).
  const insertWebsocket = db.prepare(
    `INSERT INTO deliveries (seq, integration_ref, conversation_ref, transport, echo, activity_seq,
       status, held, is_head, created_at) VALUES (?, ?, ?, 'websocket', ?, ?, 'pending', ?, 0, ?)`,
  );
  const updateConversation = db.prepare(
    'UPDATE conversations SET business_integration_id = ? WHERE conversation_id = ?',
  );
  const ofConversation = 'conversation_ref = (SELECT seq FROM conversations WHERE conversation_id = ?)';
  const activitiesFrom = db.prepare<[string, number], { json: string }>(
    `SELECT json FROM activities WHERE ${ofConversation} AND event_id >= ? ORDER BY event_id`,
  );
  const activitiesFromOfType = db.prepare<[string, number, string, string], { json: string }>(
    `SELECT json FROM activities WHERE ${ofConversation} AND event_id >= ?
       AND (sender_type = ? OR recipient_type = ?) ORDER BY event_id`,
  );

  /** `version`: the hub's version, read with the conversation (null: no such hub). */
  function routingView(hubId: string, version: number | null): RoutingView | undefined {
    if (version === null) return undefined;
    const cached = routingViews.get(hubId);
    if (cached !== undefined && cached.version === version) return cached;
    const hubRow = selectHub.get(hubId)!;
    const rows = integrationsOfHub.all(hubId);
    const integrations = rows.map(toIntegration);
    const view = {
      version,
      hub: toHub(hubRow),
      integrations,
      byId: new Map(integrations.map((i) => [i.integrationId, i])),
      refById: new Map(rows.map((r) => [r.integration_id, r.seq])),
    };
    routingViews.set(hubId, view);
    return view;
  }

  function tenantOf(tenantId: string): Tenant | undefined {
    let tenant = tenants.get(tenantId);
    if (tenant === undefined) {
      const row = selectTenant.get(tenantId);
      if (row === undefined) return undefined;
      tenant = toTenant(row);
      tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  function submitNow(conversationId: string, plan: (ctx: RoutingContext) => ActivityPlan): SubmitResult {
    const row = selectForSubmit.get(conversationId);
    if (row === undefined) throw HooksterError.of('ConversationNotFound');
    const view = routingView(row.hub_id, row.hub_version);
    const tenant = tenantOf(row.tenant_id);
    if (view === undefined || tenant === undefined) throw HooksterError.of('ConversationNotFound');
    const conversation = toConversation(row);
    const now = Date.now();
    const result = plan({ conversation, hub: view.hub, tenant, integrations: view.integrations, now });
    const activity = result.activity;
    if (!(activity.eventId > conversation.lastEventId)) {
      throw HooksterError.of(
        'SystemError',
        `eventId ${activity.eventId} is not above ${conversation.lastEventId}.`,
      );
    }
    const activitySeq = Number(
      insertActivity.run(
        row.seq,
        activity.eventId,
        activity.sender?.integrationType ?? null,
        activity.recipient?.integrationType ?? null,
        result.activityJson,
      ).lastInsertRowid,
    );
    const hubPaused = view.hub.statusId === HubStatus.Paused;
    const planned = result.deliveries;
    const firstSeq = planned.length > 0 ? fanouts.allocate(planned.length) : 0;
    let signal = false;
    const heldFlags: boolean[] = [];
    const webhooks: FanoutTarget[] = [];
    const deliveryIds: Guid[] = planned.map((d, k) => {
      const integration = view.byId.get(d.integrationId);
      if (integration === undefined) {
        throw HooksterError.of('SystemError', `Planned integration ${d.integrationId} is not in the hub.`);
      }
      const held = hubPaused || integration.statusId === IntegrationStatus.Paused;
      heldFlags.push(held);
      const ref = view.refById.get(d.integrationId)!;
      const seq = firstSeq + k;
      if (d.transport === 'webhook') {
        if (!held) signal = true;
        webhooks.push([seq, ref, d.echo ? 1 : 0]);
      } else {
        insertWebsocket.run(seq, ref, row.seq, d.echo ? 1 : 0, activitySeq, held ? 1 : 0, now);
      }
      return deliveryIdOf(ctx.deliveryIdPrefix, seq);
    });
    if (webhooks.length > 0) fanouts.add(activitySeq, row.seq, now, webhooks);
    const businessIntegrationId = result.businessIntegrationId ?? conversation.businessIntegrationId;
    if (businessIntegrationId !== conversation.businessIntegrationId) {
      updateConversation.run(businessIntegrationId ?? null, conversationId);
    }
    if (signal) ctx.signalWork();
    const updated: Conversation = { ...conversation, lastEventId: activity.eventId };
    if (businessIntegrationId !== undefined) updated.businessIntegrationId = businessIntegrationId;
    return { plan: result, conversation: updated, deliveryIds, held: heldFlags };
  }

  return {
    establishConversation(
      request: EstablishRequest,
      create: () => Conversation,
    ): Promise<{ conversation: Conversation; isNew: boolean }> {
      // Race-free: the single writer serialises establishes, so lookup-then-insert cannot interleave.
      return writes.enqueue(() => {
        const existing = selectByBinding.get(request.integrationId, request.binding);
        if (existing !== undefined) return { conversation: toConversation(existing), isNew: false };
        const c = create();
        insertConversation.run(
          c.conversationId,
          c.tenantId,
          c.hubId,
          c.integrationId,
          c.binding,
          c.tokenId,
          JSON.stringify(c.properties),
          c.openedDateTime,
          c.closedDateTime ?? null,
          c.businessIntegrationId ?? null,
        );
        return { conversation: c, isNew: true };
      });
    },
    async getConversation(conversationId: Guid): Promise<Conversation | undefined> {
      const row = selectConversation.get(conversationId);
      return row && toConversation(row);
    },
    submitActivity(conversationId: Guid, plan: (ctx: RoutingContext) => ActivityPlan): Promise<SubmitResult> {
      return writes.enqueue(() => submitNow(conversationId, plan));
    },
    async listActivities(conversationId: Guid, query: ListActivitiesQuery): Promise<Activity[]> {
      const rows =
        query.integrationType === undefined
          ? activitiesFrom.iterate(conversationId, query.fromEventId)
          : activitiesFromOfType.iterate(
              conversationId,
              query.fromEventId,
              query.integrationType,
              query.integrationType,
            );
      const within = withinActivityBounds(query);
      const activities: Activity[] = [];
      // Read row by row and stop at the bound (leaving the loop resets the statement).
      for (const row of rows) {
        if (!within(row.json)) break;
        activities.push(JSON.parse(row.json) as Activity);
      }
      return activities;
    },
  };
}
