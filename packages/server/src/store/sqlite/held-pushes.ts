// Releasing held websocket deliveries on SQLite: a websocket row written while its integration or hub
// was paused carries held = 1 (websocket rows are never lane heads, so the lane code never touches
// their flag); taking it clears the flag, so each is pushed once after a resume.

import type { Guid } from '../../domain/types.js';
import type { HeldWebsocketDelivery } from '../contract.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf } from './delivery-id.js';

interface TakenRow {
  seq: number;
  echo: number;
  conversation_id: string;
  event_id: number;
  json: string;
}

export function createHeldPushes(ctx: SqliteContext) {
  const { db } = ctx;
  // Active integrations only: an integration still paused, or of a paused hub, keeps its deliveries.
  const activeById = db.prepare<[string], { seq: number; integration_id: string }>(
    `SELECT i.seq, i.integration_id FROM integrations i JOIN hubs h ON h.hub_id = i.hub_id
     WHERE i.integration_id = ? AND i.status_id <> 3002 AND h.status_id <> 2002`,
  );
  const activeOfHub = db.prepare<[string], { seq: number; integration_id: string }>(
    `SELECT i.seq, i.integration_id FROM integrations i JOIN hubs h ON h.hub_id = i.hub_id
     WHERE h.hub_id = ? AND i.status_id <> 3002 AND h.status_id <> 2002 ORDER BY i.seq`,
  );
  // Walks the integration's log (deliveries_integration): a resume is rare, and a dedicated index
  // would cost every websocket insert on the submit path.
  // next_attempt_at (unused otherwise by websocket rows) records the release, so a delivery released
  // now is not taken for a stale one by failStaleWebsocketDeliveries.
  const take = db.prepare<[number, number, number], { seq: number }>(
    `UPDATE deliveries SET held = 0, next_attempt_at = ?
     WHERE seq IN (SELECT seq FROM deliveries INDEXED BY deliveries_integration
       WHERE integration_ref = ? AND transport = 'websocket' AND status = 'pending' AND held = 1
       ORDER BY seq LIMIT ?)
     RETURNING seq`,
  );
  const details = db.prepare<[number], TakenRow>(
    `SELECT d.seq, d.echo, c.conversation_id, a.event_id, a.json
     FROM deliveries d JOIN activities a ON a.seq = d.activity_seq JOIN conversations c ON c.seq = d.conversation_ref
     WHERE d.seq = ?`,
  );

  return {
    takeHeldWebsocketDeliveries(
      scope: { integrationIds: Guid[] } | { hubId: Guid },
      limit = Number.MAX_SAFE_INTEGER,
    ): Promise<HeldWebsocketDelivery[]> {
      return ctx.writes.enqueue(() => {
        const now = Date.now();
        const integrations =
          'hubId' in scope
            ? activeOfHub.all(scope.hubId)
            : scope.integrationIds.flatMap((id) => activeById.all(id));
        const taken: HeldWebsocketDelivery[] = [];
        const seqs: { seq: number; integrationId: Guid }[] = [];
        for (const integration of integrations) {
          if (seqs.length >= limit) break;
          for (const { seq } of take.all(now, integration.seq, limit - seqs.length)) {
            seqs.push({ seq, integrationId: integration.integration_id });
          }
        }
        // Oldest first: seq is submission order, so eventId order inside each conversation.
        seqs.sort((x, y) => x.seq - y.seq);
        for (const { seq, integrationId } of seqs) {
          const row = details.get(seq);
          if (row === undefined) continue;
          taken.push({
            deliveryId: deliveryIdOf(ctx.deliveryIdPrefix, row.seq),
            integrationId,
            conversationId: row.conversation_id,
            eventId: row.event_id,
            echo: row.echo === 1,
            activityJson: row.json,
          });
        }
        return taken;
      }, false);
    },
  };
}
