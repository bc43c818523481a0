// Held websocket deliveries on PostgreSQL: marked (held_push) in the submit transaction that writes
// them while their integration or hub is paused; taken once, in submission order, after a resume.

import type pg from 'pg';
import type { Guid } from '../../domain/types.js';
import type { HeldWebsocketDelivery } from '../contract.js';
import type { PgContext } from './context.js';

/** Inside the submit transaction: these websocket deliveries were written held (not pushed). */
export async function markHeldPushes(client: pg.PoolClient, deliveryIds: Guid[]): Promise<void> {
  await client.query('UPDATE deliveries SET held_push = true WHERE delivery_id = ANY($1)', [deliveryIds]);
}

/**
 * One statement takes and returns them. The active integrations are found first, so a check made while
 * still paused (every held submit makes one, see gateway/push.ts) touches no delivery row. Two concurrent takes (two processes releasing after one
 * resume) cannot both take a row: the second UPDATE waits for the first's row lock, re-checks
 * `held_push` on the committed version and skips it.
 */
export async function takeHeldWebsocketDeliveries(
  ctx: PgContext,
  scope: { integrationIds: Guid[] } | { hubId: Guid },
  limit?: number,
): Promise<HeldWebsocketDelivery[]> {
  const integrationIds = 'hubId' in scope ? [] : scope.integrationIds;
  const hubId = 'hubId' in scope ? scope.hubId : null;
  if (hubId === null && integrationIds.length === 0) return [];
  const { rows } = await ctx.pool.query<{
    delivery_id: string;
    integration_id: string;
    conversation_id: string;
    event_id: string;
    echo: boolean;
    activity_json: string;
  }>(
    `WITH active AS MATERIALIZED (
       SELECT i.integration_id FROM integrations i JOIN hubs h ON h.hub_id = i.hub_id
       WHERE (i.integration_id = ANY($1::text[]) OR i.hub_id = $2)
         AND i.status_id <> 3002 AND h.status_id <> 2002
     ), t AS (
       UPDATE deliveries d SET held_push = false, next_attempt_at = $4
       WHERE d.delivery_id IN (
         SELECT h.delivery_id FROM deliveries h JOIN active a ON h.integration_id = a.integration_id
         WHERE h.held_push AND h.status = 'pending' AND h.transport = 'websocket'
         ORDER BY h.seq LIMIT $3)
         AND d.held_push AND d.status = 'pending'
       RETURNING d.seq, d.delivery_id, d.integration_id, d.conversation_id, d.event_id, d.echo
     )
     SELECT t.delivery_id, t.integration_id, t.conversation_id, t.event_id, t.echo, a.activity_json
     FROM t JOIN activities a ON a.conversation_id = t.conversation_id AND a.event_id = t.event_id
     ORDER BY t.seq`,
    [integrationIds, hubId, limit ?? null, Date.now()],
  );
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    integrationId: row.integration_id,
    conversationId: row.conversation_id,
    eventId: Number(row.event_id),
    echo: row.echo,
    activityJson: row.activity_json,
  }));
}
