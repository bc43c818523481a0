// Conversations and activity submission on SQLite. A submit loads the routing context, runs the pure
// planner and writes the activity, its deliveries and the conversation's new state inside the current
// group-commit transaction (its own savepoint), so it is answered only once all of it is durable.

import { HooksterError } from '../../domain/errors.js';
import { HubStatus, IntegrationStatus } from '../../domain/types.js';
import type { Activity, Conversation, Guid, Hub, Integration, Tenant } from '../../domain/types.js';
import type {
  ActivityPlan,
  EstablishRequest,
  ListActivitiesQuery,
  RoutingContext,
  SubmitResult,
} from '../contract.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf } from './delivery-id.js';
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
}

export function createActivities(ctx: SqliteContext) {
  const { db, writes, lanes } = ctx;
  // Parsed hubs + integrations, revalidated by the hub's version (one PK read per submit), so a
  // submit does not re-parse every integration's JSON configuration.
  const routingViews = new Map<string, RoutingView>();
  const tenants = new Map<string, Tenant>();

  const selectConversation = db.prepare<[string], ConversationRow>(
    'SELECT * FROM conversations WHERE conversation_id = ?',
  );
  const selectByBinding = db.prepare<[string, string], ConversationRow>(
    'SELECT * FROM conversations WHERE integration_id = ? AND binding = ?',
  );
  const insertConversation = db.prepare(
    `INSERT INTO conversations (conversation_id, tenant_id, hub_id, integration_id, binding, token_id, properties,
       opened_date_time, closed_date_time, business_integration_id, last_event_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectHubVersion = db.prepare<[string], { version: number }>(
    'SELECT version FROM hubs WHERE hub_id = ?',
  );
  const selectHub = db.prepare<[string], HubRow>('SELECT * FROM hubs WHERE hub_id = ?');
  const integrationsOfHub = db.prepare<[string], IntegrationRow>(
    'SELECT * FROM integrations WHERE hub_id = ? ORDER BY seq',
  );
  const selectTenant = db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE tenant_id = ?');
  const insertActivity = db.prepare(
    'INSERT INTO activities (conversation_id, event_id, sender_type, recipient_type, json) VALUES (?, ?, ?, ?, ?)',
  );
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (integration_id, conversation_id, hub_id, tenant_id, transport, echo, activity_seq,
       status, held, is_head, due_at, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
  );
  const updateConversation = db.prepare(
    'UPDATE conversations SET last_event_id = ?, business_integration_id = ? WHERE conversation_id = ?',
  );
  const activitiesFrom = db.prepare<[string, number], { json: string }>(
    'SELECT json FROM activities WHERE conversation_id = ? AND event_id >= ? ORDER BY event_id',
  );
  const activitiesFromOfType = db.prepare<[string, number, string, string], { json: string }>(
    `SELECT json FROM activities WHERE conversation_id = ? AND event_id >= ?
       AND (sender_type = ? OR recipient_type = ?) ORDER BY event_id`,
  );

  function routingView(hubId: string): RoutingView | undefined {
    const version = selectHubVersion.get(hubId)?.version;
    if (version === undefined) return undefined;
    const cached = routingViews.get(hubId);
    if (cached !== undefined && cached.version === version) return cached;
    const hubRow = selectHub.get(hubId)!;
    const integrations = integrationsOfHub.all(hubId).map(toIntegration);
    const view = {
      version,
      hub: toHub(hubRow),
      integrations,
      byId: new Map(integrations.map((i) => [i.integrationId, i])),
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
    const row = selectConversation.get(conversationId);
    if (row === undefined) throw HooksterError.of('ConversationNotFound');
    const view = routingView(row.hub_id);
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
        conversationId,
        activity.eventId,
        activity.sender?.integrationType ?? null,
        activity.recipient?.integrationType ?? null,
        result.activityJson,
      ).lastInsertRowid,
    );
    const hubPaused = view.hub.statusId === HubStatus.Paused;
    const deliveryIds: Guid[] = [];
    let headCreated = false;
    for (const planned of result.deliveries) {
      const integration = view.byId.get(planned.integrationId);
      if (integration === undefined) {
        throw HooksterError.of(
          'SystemError',
          `Planned integration ${planned.integrationId} is not in the hub.`,
        );
      }
      const held = hubPaused || integration.statusId === IntegrationStatus.Paused;
      const isHead = planned.transport === 'webhook' && lanes.isEmpty(planned.integrationId, conversationId);
      if (isHead && !held) headCreated = true;
      const seq = insertDelivery.run(
        planned.integrationId,
        conversationId,
        row.hub_id,
        row.tenant_id,
        planned.transport,
        planned.echo ? 1 : 0,
        activitySeq,
        held ? 1 : 0,
        isHead ? 1 : 0,
        planned.transport === 'webhook' ? now : null,
        planned.transport === 'webhook' ? now : null,
        now,
      ).lastInsertRowid;
      deliveryIds.push(deliveryIdOf(ctx.deliveryIdPrefix, Number(seq)));
    }
    const businessIntegrationId = result.businessIntegrationId ?? conversation.businessIntegrationId;
    updateConversation.run(activity.eventId, businessIntegrationId ?? null, conversationId);
    if (headCreated) ctx.signalWork();
    const updated: Conversation = { ...conversation, lastEventId: activity.eventId };
    if (businessIntegrationId !== undefined) updated.businessIntegrationId = businessIntegrationId;
    return { plan: result, conversation: updated, deliveryIds };
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
          c.lastEventId,
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
          ? activitiesFrom.all(conversationId, query.fromEventId)
          : activitiesFromOfType.all(
              conversationId,
              query.fromEventId,
              query.integrationType,
              query.integrationType,
            );
      return rows.map((r) => JSON.parse(r.json) as Activity);
    },
  };
}
