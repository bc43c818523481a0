// Recording webhook attempts and websocket outcomes on PostgreSQL, fenced against stale leases.

import type { Guid } from '../../domain/types.js';
import type { AttemptRecord } from '../contract.js';
import { NOTIFICATION_COLUMNS, notificationValues } from '../notification-row.js';
import { PROMOTE_SQL, type PgContext } from './context.js';
import type { Row } from './rows.js';
import { inTransaction } from './tx.js';

/**
 * Lock order: the lanes of the recorded deliveries first (sorted), then the deliveries — the order
 * every lane writer follows, so recording cannot deadlock with a claim or a resend. A record applies
 * only when its fence is the delivery's current one and the delivery is still pending: a process
 * whose lease expired and was taken over cannot overwrite the newer holder's outcome.
 */
export async function recordAttempts(ctx: PgContext, records: AttemptRecord[]): Promise<Guid[]> {
  if (records.length === 0) return [];
  const result = await inTransaction(ctx.pool, async (client) => {
    const ids = records.map((r) => r.deliveryId);
    await client.query(
      `SELECT 1 FROM lanes l
       WHERE (l.integration_id, l.conversation_id) IN (
         SELECT integration_id, conversation_id FROM deliveries WHERE delivery_id = ANY($1))
       ORDER BY l.integration_id COLLATE "C", l.conversation_id COLLATE "C"
       FOR UPDATE OF l`,
      [ids],
    );
    const applied = await client.query(
      `WITH u AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::int[], $6::bigint[],
           $7::int[], $8::int[], $9::text[], $10::text[])
           AS u(id, fence, status, next_at, attempt_number, started_at, duration_ms, status_code, error, excerpt)
       ), upd AS (
         UPDATE deliveries d SET status = u.status, next_attempt_at = COALESCE(u.next_at, d.next_attempt_at),
           attempt_count = d.attempt_count + 1, lease_owner = NULL, lease_until = NULL
         FROM u WHERE d.delivery_id = u.id AND d.fence = u.fence AND d.status = 'pending'
           AND d.lease_until IS NOT NULL
         RETURNING d.delivery_id, d.status, d.next_attempt_at, d.fence
       ), ins AS (
         INSERT INTO attempts (delivery_id, attempt_number, started_at, duration_ms, status_code, error,
           response_excerpt)
         SELECT u.id, u.attempt_number, u.started_at, u.duration_ms, u.status_code, u.error, u.excerpt
         FROM u JOIN upd ON upd.delivery_id = u.id AND upd.fence = u.fence
       )
       SELECT * FROM upd`,
      [
        ids,
        records.map((r) => r.fence),
        records.map((r) => r.next.status),
        records.map((r) => (r.next.status === 'pending' ? r.next.nextAttemptAt : null)),
        records.map((r) => r.attemptNumber),
        records.map((r) => r.startedAt),
        records.map((r) => Math.round(r.durationMs)),
        records.map((r) => r.statusCode ?? null),
        records.map((r) => r.error ?? null),
        records.map((r) => r.responseExcerpt ?? null),
      ],
    );
    const rows = applied.rows as Row[];
    if (rows.length === 0) return { ids: [] as Guid[], work: false };
    // Exhaustion notifications of the failures that applied, in the same transaction. A record applied
    // when its delivery and fence match a returned row: a stale result of the same delivery in the same
    // call (its lease expired and it was claimed again) adds neither an attempt nor a notification.
    const failed = new Set(
      rows
        .filter((r) => r['status'] === 'failed')
        .map((r) => `${String(r['delivery_id'])}\u0000${Number(r['fence'])}`),
    );
    const notify = records.filter(
      (r) => r.notify !== undefined && failed.has(`${r.deliveryId}\u0000${r.fence}`),
    );
    if (notify.length > 0) {
      // One array per column (unnest), from the rows both backends write.
      const rowsOf = notify.map((r) => notificationValues(r.notify!.notification, r.notify!.owedMail));
      await client.query(
        `INSERT INTO notifications (${NOTIFICATION_COLUMNS})
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[],
           $8::text[], $9::text[], $10::text[])`,
        rowsOf[0]!.map((_, column) => rowsOf.map((row) => row[column])),
      );
    }
    const retrying = rows.filter((r) => r['status'] === 'pending');
    const finished = rows.filter((r) => r['status'] !== 'pending');
    // A retried head keeps its lane, due at its next attempt; a finished head hands the lane over.
    // Why no NOTIFY here: the recording process claims next (its work listeners are fired below when
    // due heads were promoted, and its dispatcher has just freed the capacity), so waking every other
    // worker would only make them race for the same promoted heads — measured to cost more than it
    // brings. An idle worker still finds due work on its own through nextDueAt.
    const promoted = await client.query(
      `WITH retried AS (
         UPDATE lanes l SET due_at = u.next_at FROM unnest($1::text[], $2::bigint[]) AS u(id, next_at)
         WHERE l.head_id = u.id
       )
       UPDATE lanes l SET ${PROMOTE_SQL} FROM unnest($3::text[]) AS u(id)
       WHERE l.head_id = u.id
       RETURNING l.due_at`,
      [
        retrying.map((r) => r['delivery_id']),
        retrying.map((r) => r['next_attempt_at']),
        finished.map((r) => r['delivery_id']),
      ],
    );
    // Any promoted head, due or not: its due time (its creation, for a submission) comes from the clock
    // of whichever process submitted it, and one submitted after this record began — which found the
    // lane still held, so it sent no NOTIFY — was missed when compared with the clock at the record's
    // start, and waited for the idle poll (~1 s). The dispatcher claims what is due and arms its timer
    // for the rest.
    const work = (promoted.rows as Row[]).some((r) => r['due_at'] !== null);
    return { ids: rows.map((r) => r['delivery_id'] as string), work };
  });
  if (result.work) ctx.fireLocal();
  return result.ids;
}

/** Websocket deliveries are fire-and-forget: one attempt row records what the gateway observed. */
export async function recordWebsocketOutcomes(
  ctx: PgContext,
  outcomes: { deliveryId: Guid; delivered: boolean; error?: string }[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const now = Date.now();
  await ctx.pool.query(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[]) AS u(id, delivered, error)
     ), upd AS (
       UPDATE deliveries d SET status = CASE WHEN u.delivered THEN 'delivered' ELSE 'failed' END,
         attempt_count = d.attempt_count + 1
       FROM u WHERE d.delivery_id = u.id AND d.transport = 'websocket' AND d.status = 'pending'
       RETURNING d.delivery_id, d.attempt_count
     )
     INSERT INTO attempts (delivery_id, attempt_number, started_at, duration_ms, error)
     SELECT upd.delivery_id, upd.attempt_count, $4, 0, u.error FROM upd JOIN u ON u.id = upd.delivery_id`,
    [
      outcomes.map((o) => o.deliveryId),
      outcomes.map((o) => o.delivered),
      outcomes.map((o) => o.error ?? null),
      now,
    ],
  );
}

/** Stale websocket deliveries (see the contract): failed with one attempt carrying `error`. */
export async function failStaleWebsocketDeliveries(
  ctx: PgContext,
  before: number,
  error: string,
  limit: number,
): Promise<number> {
  const result = await ctx.pool.query(
    `WITH s AS (
       SELECT delivery_id FROM deliveries
       WHERE status = 'pending' AND transport = 'websocket' AND NOT held_push AND next_attempt_at < $1
       ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), upd AS (
       UPDATE deliveries d SET status = 'failed', attempt_count = d.attempt_count + 1
       FROM s WHERE d.delivery_id = s.delivery_id AND d.status = 'pending'
       RETURNING d.delivery_id, d.attempt_count
     )
     INSERT INTO attempts (delivery_id, attempt_number, started_at, duration_ms, error)
     SELECT upd.delivery_id, upd.attempt_count, $3, 0, $4 FROM upd`,
    [before, limit, Date.now(), error],
  );
  return result.rowCount ?? 0;
}
