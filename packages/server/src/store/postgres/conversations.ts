// Conversations and their activity history on PostgreSQL.

import type { Activity, Conversation, Guid } from '../../domain/types.js';
import {
  ACTIVITIES_PER_ANSWER,
  withinActivityBounds,
  type EstablishRequest,
  type ListActivitiesQuery,
} from '../contract.js';
import type { PgContext } from './context.js';
import { toConversation, type Row } from './rows.js';

/** Idempotent on (integrationId, binding): a concurrent establish of the same pair returns the winner. */
export async function establishConversation(
  ctx: PgContext,
  request: EstablishRequest,
  create: () => Conversation,
): Promise<{ conversation: Conversation; isNew: boolean }> {
  const existing = await findByBinding(ctx, request.integrationId, request.binding);
  if (existing !== undefined) return { conversation: existing, isNew: false };
  const c = create();
  const inserted = await ctx.pool.query(
    `INSERT INTO conversations (conversation_id, tenant_id, hub_id, integration_id, binding, token_id,
       properties, opened_date_time, closed_date_time, business_integration_id, last_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (integration_id, binding) DO NOTHING
     RETURNING *`,
    [
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
    ],
  );
  if (inserted.rows[0] !== undefined)
    return { conversation: toConversation(inserted.rows[0] as Row), isNew: true };
  const winner = await findByBinding(ctx, request.integrationId, request.binding);
  if (winner === undefined) throw new Error('conversation vanished right after a conflicting insert');
  return { conversation: winner, isNew: false };
}

async function findByBinding(
  ctx: PgContext,
  integrationId: Guid,
  binding: string,
): Promise<Conversation | undefined> {
  const { rows } = await ctx.pool.query(
    'SELECT * FROM conversations WHERE integration_id = $1 AND binding = $2',
    [integrationId, binding],
  );
  return rows[0] === undefined ? undefined : toConversation(rows[0] as Row);
}

export async function getConversation(
  ctx: PgContext,
  conversationId: Guid,
): Promise<Conversation | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM conversations WHERE conversation_id = $1', [
    conversationId,
  ]);
  return rows[0] === undefined ? undefined : toConversation(rows[0] as Row);
}

export async function listActivities(
  ctx: PgContext,
  conversationId: Guid,
  query: ListActivitiesQuery,
): Promise<Activity[]> {
  const params: unknown[] = [conversationId, query.fromEventId];
  let typeFilter = '';
  if (query.integrationType !== undefined) {
    params.push(query.integrationType);
    typeFilter = 'AND (sender_type = $3 OR recipient_type = $3)';
  }
  // The bounds are applied by the server too (the running length), so no more than an answer's worth of
  // rows is fetched; withinActivityBounds then keeps exactly what SQLite keeps.
  const maxCount = query.maxCount ?? ACTIVITIES_PER_ANSWER.count;
  const maxChars = query.maxChars ?? ACTIVITIES_PER_ANSWER.chars;
  params.push(maxCount, maxChars);
  const n = params.length;
  const { rows } = await ctx.pool.query(
    `SELECT activity_json FROM (
       SELECT activity_json, event_id,
         SUM(char_length(activity_json)) OVER (ORDER BY event_id) - char_length(activity_json) AS before
       FROM activities WHERE conversation_id = $1 AND event_id >= $2 ${typeFilter}
       ORDER BY event_id LIMIT $${n - 1}
     ) page WHERE before = 0 OR before < $${n} ORDER BY event_id`,
    params,
  );
  const within = withinActivityBounds(query);
  const activities: Activity[] = [];
  for (const row of rows as { activity_json: string }[]) {
    if (!within(row.activity_json)) break;
    activities.push(JSON.parse(row.activity_json) as Activity);
  }
  return activities;
}
