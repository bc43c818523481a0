// Applying attempt outcomes on SQLite: fenced attempt records, websocket outcomes, manual retry and
// recover. A final outcome clears the head flag and promotes the next delivery of the lane.

import type { EpochMs, Guid } from '../../domain/types.js';
import type { AttemptRecord } from '../contract.js';
import type { SqliteContext } from './context.js';
import { seqOfDeliveryId } from './delivery-id.js';
import type { Flight } from './handoff.js';
import { notificationWriter } from './tenancy.js';

interface StateRow {
  seq: number;
  integration_ref: number;
  conversation_ref: number;
  integration_id: string;
  transport: string;
  status: string;
  held: number;
  is_head: number;
  fence: number;
  lease_until: number | null;
  attempt_count: number;
}

/** Failed deliveries a recover reads per transaction (a few ms of the write lock each). */
export const RECOVER_CHUNK = 500;

export function createOutcomes(ctx: SqliteContext) {
  const { db, lanes } = ctx;
  const state = db.prepare<[number], StateRow>(
    `SELECT seq, integration_ref, conversation_ref,
       (SELECT integration_id FROM integration_refs r WHERE r.seq = d.integration_ref) AS integration_id, transport, status, held, is_head, fence, lease_until, attempt_count
     FROM deliveries d WHERE seq = ?`,
  );
  const insertNotification = notificationWriter(db);
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (delivery_seq, attempt_number, started_at, duration_ms, status_code, error, response_excerpt)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const finish = db.prepare(
    `UPDATE deliveries SET status = ?, is_head = 0, due_at = NULL, next_attempt_at = NULL, lease_owner = NULL,
       lease_until = NULL, attempt_count = attempt_count + 1 WHERE seq = ?`,
  );
  const leased = `seq = ? AND fence = ? AND lease_until IS NOT NULL AND status = 'pending'`;
  const finishLeased = db.prepare<
    [string, number, number],
    { conversation_ref: number; integration_ref: number; held: number }
  >(
    `UPDATE deliveries SET status = ?, is_head = 0, due_at = NULL, next_attempt_at = NULL, lease_owner = NULL,
       lease_until = NULL, attempt_count = attempt_count + 1 WHERE ${leased}
     RETURNING conversation_ref, integration_ref, held`,
  );
  const rescheduleLeased = db.prepare<[number, number, number, number], { seq: number }>(
    `UPDATE deliveries SET next_attempt_at = ?, due_at = ?, lease_owner = NULL, lease_until = NULL,
       attempt_count = attempt_count + 1 WHERE ${leased} RETURNING seq`,
  );
  const reopen = db.prepare(
    `UPDATE deliveries SET status = 'pending', budget_base = attempt_count, next_attempt_at = ?, due_at = ?,
       is_head = ?, held = ?, lease_owner = NULL, lease_until = NULL WHERE seq = ?`,
  );
  // A resend needs somewhere to go: the integration, still with a webhookUrl (one moved to the
  // websocket since would have the delivery fail at once, "invalid webhook URL").
  const integrationWithWebhook = db.prepare<[string], { n: number }>(
    `SELECT 1 AS n FROM integrations
     WHERE integration_id = ? AND json_type(configuration, '$.webhookUrl') = 'text'`,
  );
  // The next chunk of failed deliveries after a seq (deliveries_failed holds only failed rows, however
  // many the integration delivered). The LIMIT counts every row read: filtered here, the ones recover
  // skips (created before `since`, websocket ones) could all be read in one transaction.
  const failedAfter = db.prepare<[number, number, number], { seq: number; created_at: number }>(
    `SELECT seq, created_at FROM deliveries INDEXED BY deliveries_failed
     WHERE integration_ref = ? AND status = 'failed' AND seq > ? ORDER BY seq LIMIT ?`,
  );

  function seqOf(deliveryId: string): number | undefined {
    return seqOfDeliveryId(ctx.deliveryIdPrefix, deliveryId);
  }

  function applyAttempt(r: AttemptRecord): boolean {
    const seq = seqOf(r.deliveryId);
    if (seq === undefined) return false;
    const flight = ctx.handoff.flight(seq);
    if (flight !== undefined && r.fence === 1) {
      // A flight (handoff.ts): its row is written now, with its outcome — unless another store of the
      // process wrote it meanwhile (leased, fence 1), when the outcome applies to that row as below.
      const applied = applyFlight(r, flight);
      if (ctx.handoff.resolve(flight)) ctx.fanouts.taken(flight.firstSeq);
      if (applied !== undefined) return applied;
    }
    return applyLeased(r, seq);
  }

  /** The outcome of a flight as its row; undefined when it has a row already. */
  function applyFlight(r: AttemptRecord, flight: Flight): boolean | undefined {
    const next = r.next;
    const written = ctx.fanouts.writeFlight(
      flight,
      next.status,
      next.status === 'pending' ? next.nextAttemptAt : null,
      1,
      heldOf,
    );
    if (written === undefined) return undefined;
    if (next.status !== 'pending') {
      if (r.notify !== undefined && next.status === 'failed') {
        insertNotification(r.notify.notification, r.notify.owedMail);
      }
      if (lanes.promoteNext(flight.conversationRef, flight.integrationRef, written.held) && !written.held) {
        ctx.signalWork();
      }
    }
    pushAttempt(flight.seq, r);
    return true;
  }

  function applyLeased(r: AttemptRecord, seq: number): boolean {
    // Only the current lease may report: an older fence, an unleased row (already reported) or a
    // delivery that left pending (cancelled, retried by hand) means this result is stale — the
    // guarded UPDATE then changes nothing. A leased pending row is always its lane's head.
    if (r.next.status === 'pending') {
      if (rescheduleLeased.get(r.next.nextAttemptAt, r.next.nextAttemptAt, seq, r.fence) === undefined)
        return false;
    } else {
      const lane = finishLeased.get(r.next.status, seq, r.fence);
      if (lane === undefined) return false;
      if (r.notify !== undefined && r.next.status === 'failed') {
        insertNotification(r.notify.notification, r.notify.owedMail);
      }
      if (
        lanes.promoteNext(lane.conversation_ref, lane.integration_ref, lane.held === 1) &&
        lane.held === 0
      ) {
        ctx.signalWork();
      }
    }
    pushAttempt(seq, r);
    return true;
  }

  function pushAttempt(seq: number, r: AttemptRecord): void {
    attemptRows.push([
      seq,
      r.attemptNumber,
      r.startedAt,
      Math.round(r.durationMs),
      r.statusCode ?? null,
      r.error ?? null,
      r.responseExcerpt ?? null,
    ]);
  }

  /** Whether an integration is held, read once per recordAttempts call (its flights' rows need it). */
  let heldOf = ctx.fanouts.heldCache();
  /** Attempt rows of the current recordAttempts call, inserted together by insertAttempts. */
  let attemptRows: (string | number | null)[][] = [];
  // One statement for a whole round of attempts (rows as a JSON array of arrays).
  const insertAttemptsJson = db.prepare<[string]>(
    `INSERT INTO attempts (delivery_seq, attempt_number, started_at, duration_ms, status_code, error, response_excerpt)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
     FROM json_each(?)`,
  );
  function insertAttempts(): void {
    if (attemptRows.length === 1) insertAttempt.run(...attemptRows[0]!);
    else if (attemptRows.length > 1) insertAttemptsJson.run(JSON.stringify(attemptRows));
    attemptRows = [];
  }

  /** Puts a final webhook delivery back into its lane with a fresh attempt budget. */
  function reopenNow(seq: number, now: EpochMs): boolean {
    const row = state.get(seq);
    if (row === undefined || row.transport !== 'webhook') return false;
    if (row.status !== 'delivered' && row.status !== 'failed') return false;
    if (integrationWithWebhook.get(row.integration_id) === undefined) return false;
    const held = lanes.isHeld(row.integration_id);
    // A lane that already has pending deliveries has a head; this one waits behind it (the lowest seq
    // is promoted next). An empty lane makes it the head at once.
    const isHead = lanes.isEmpty(row.conversation_ref, row.integration_ref);
    reopen.run(now, now, isHead ? 1 : 0, held ? 1 : 0, seq);
    if (isHead && !held) ctx.signalWork();
    return true;
  }

  const staleWebsocket = db.prepare<[number, number], { seq: number; attempt_count: number }>(
    `SELECT seq, attempt_count FROM deliveries INDEXED BY deliveries_websocket_waiting
     WHERE status = 'pending' AND transport = 'websocket' AND held = 0
       AND COALESCE(next_attempt_at, created_at) < ?
     ORDER BY COALESCE(next_attempt_at, created_at) LIMIT ?`,
  );

  return {
    failStaleWebsocketDeliveries(before: EpochMs, error: string, limit: number): Promise<number> {
      return ctx.writes.enqueue(() => {
        const now = Date.now();
        const stale = staleWebsocket.all(before, limit);
        for (const row of stale) {
          insertAttempt.run(row.seq, row.attempt_count + 1, now, 0, null, error, null);
          finish.run('failed', row.seq);
        }
        return stale.length;
      });
    },
    // Answered after COMMIT, without waiting for the WAL sync, unless a record stores an exhaustion
    // notification. Why that is safe: the COMMIT has written the WAL, so a process crash (kill -9) loses
    // nothing; only a power failure or OS crash before the next sync (the API's syncs, every few
    // milliseconds under load, cover these frames too) can undo an outcome, and its delivery is then sent
    // again — at least once, as after an expired lease. Measured: the dispatch thread's own fdatasync
    // calls blocked it ~160–280 µs each, ~250 times a second, on a loaded 2-core machine.
    recordAttempts(records: AttemptRecord[]): Promise<Guid[]> {
      const durable = records.some((r) => r.notify !== undefined);
      return ctx.writes.enqueue(() => {
        attemptRows = [];
        heldOf = ctx.fanouts.heldCache();
        const applied = records.filter(applyAttempt).map((r) => r.deliveryId);
        insertAttempts();
        return applied;
      }, durable);
    },
    recordWebsocketOutcomes(
      outcomes: { deliveryId: Guid; delivered: boolean; error?: string }[],
    ): Promise<void> {
      return ctx.writes.enqueue(() => {
        const now = Date.now();
        for (const o of outcomes) {
          const seq = seqOf(o.deliveryId);
          const row = seq === undefined ? undefined : state.get(seq);
          if (row === undefined || row.transport !== 'websocket' || row.status !== 'pending') continue;
          insertAttempt.run(row.seq, row.attempt_count + 1, now, 0, null, o.error ?? null, null);
          finish.run(o.delivered ? 'delivered' : 'failed', row.seq);
        }
      }, false);
    },
    // Retry and recover reopen final rows (never in fanouts); the lane's later deliveries get their
    // rows first, so whether the reopened one waits behind them does not depend on timing. The catch-up
    // runs in transactions of its own, so the reopen's transaction writes again what was submitted
    // meanwhile — above all a flight taken meanwhile (handoff.ts), which has no row and would otherwise
    // leave the lane looking empty: the reopened delivery would be a head sent beside it.
    async retryDelivery(deliveryId: Guid, now: EpochMs): Promise<boolean> {
      await ctx.fanouts.catchUp();
      return ctx.writes.enqueue(() => {
        ctx.fanouts.materialiseAll();
        const seq = seqOf(deliveryId);
        return seq !== undefined && reopenNow(seq, now);
      });
    },
    // In transactions of RECOVER_CHUNK deliveries, in seq order: the process's one write lock is held
    // for one chunk at a time, so submissions and the dispatcher go on between chunks (one transaction
    // took ~0.9 s for 100,000 and held up every write meanwhile). A chunk reopens each delivery behind
    // whatever its lane holds by then, so one lane's reopened deliveries keep their order among themselves
    // (one submitted between two chunks may come between them, as it may come before them); one reopened
    // by an earlier chunk that fails again meanwhile is below the cursor and not reopened twice.
    async recoverDeliveries(integrationId: Guid, since: EpochMs, now: EpochMs): Promise<number> {
      await ctx.fanouts.catchUp();
      let count = 0;
      let after = 0;
      for (;;) {
        const chunk = await ctx.writes.enqueue(() => {
          ctx.fanouts.materialiseAll();
          const ref = lanes.refOf(integrationId);
          if (ref === undefined) return { reopened: 0, last: undefined };
          const rows = failedAfter.all(ref, after, RECOVER_CHUNK);
          let reopened = 0;
          // reopenNow skips websocket deliveries.
          for (const row of rows) if (row.created_at >= since && reopenNow(row.seq, now)) reopened++;
          return { reopened, last: rows.length === RECOVER_CHUNK ? rows[rows.length - 1]!.seq : undefined };
        });
        count += chunk.reopened;
        if (chunk.last === undefined) return count;
        after = chunk.last;
      }
    },
  };
}
