// The delivery log on SQLite: listings by integration and status (newest first), one delivery with
// its attempts, and the dispatcher's next due time. A read first has the deliveries still in fanouts
// written as rows (fanout.ts), so it sees every delivery committed before it.

import type { Delivery, EpochMs, Guid, Page, PageRequest } from '../../domain/types.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf, seqOfDeliveryId } from './delivery-id.js';
import { toAttempt, toDelivery, type AttemptRow, type DeliveryRow } from './rows.js';

export function createDeliveryLog(ctx: SqliteContext) {
  const { db, lanes } = ctx;
  // Delivery rows carry references only; the log names them through integration_refs and conversations.
  const namedFrom = (index: string) => `SELECT d.*, r.integration_id, r.hub_id, r.tenant_id, c.conversation_id
     FROM deliveries d ${index} JOIN integration_refs r ON r.seq = d.integration_ref
     JOIN conversations c ON c.seq = d.conversation_ref`;
  const named = namedFrom('');
  const bySeq = db.prepare<[number], DeliveryRow>(`${named} WHERE d.seq = ?`);
  const attemptsOf = db.prepare<[number], AttemptRow>(
    `SELECT attempt_number, started_at, duration_ms, status_code, error, response_excerpt
     FROM attempts WHERE delivery_seq = ? ORDER BY id`,
  );
  const all = db.prepare<[number, number, number], DeliveryRow>(
    `${named} WHERE d.integration_ref = ? ORDER BY d.seq DESC LIMIT ? OFFSET ?`,
  );
  const countAll = db.prepare<[number], { n: number }>(
    'SELECT COUNT(*) AS n FROM deliveries WHERE integration_ref = ?',
  );
  const byStatus = db.prepare<[number, string, number, number], DeliveryRow>(
    `${named} WHERE d.integration_ref = ? AND d.status = ? ORDER BY d.seq DESC LIMIT ? OFFSET ?`,
  );
  const countByStatus = db.prepare<[number, string], { n: number }>(
    'SELECT COUNT(*) AS n FROM deliveries WHERE integration_ref = ? AND status = ?',
  );
  // Failed ones through their own partial index (the planner cannot match `status = ?` to it).
  const failed = db.prepare<[number, number, number], DeliveryRow>(
    `${namedFrom('INDEXED BY deliveries_failed')}
     WHERE d.integration_ref = ? AND d.status = 'failed' ORDER BY d.seq DESC LIMIT ? OFFSET ?`,
  );
  const countFailed = db.prepare<[number], { n: number }>(
    `SELECT COUNT(*) AS n FROM deliveries INDEXED BY deliveries_failed
     WHERE integration_ref = ? AND status = 'failed'`,
  );
  // A loose index scan over deliveries_ready: per integration with claimable heads, its earliest one.
  const earliestDue = db.prepare<[], { t: number | null }>(
    `WITH RECURSIVE refs(ref) AS (
       SELECT (SELECT MIN(integration_ref) FROM deliveries INDEXED BY deliveries_ready WHERE is_head = 1 AND held = 0)
       UNION ALL
       SELECT (SELECT MIN(integration_ref) FROM deliveries INDEXED BY deliveries_ready
               WHERE is_head = 1 AND held = 0 AND integration_ref > refs.ref)
       FROM refs WHERE refs.ref IS NOT NULL)
     SELECT MIN((SELECT MIN(due_at) FROM deliveries INDEXED BY deliveries_ready
                 WHERE is_head = 1 AND held = 0 AND integration_ref = refs.ref)) AS t
     FROM refs WHERE refs.ref IS NOT NULL`,
  );

  /** The row as the log shows it: "held" follows the integration's and hub's current status. */
  function present(row: DeliveryRow, held: boolean): Delivery {
    return toDelivery({ ...row, held: held ? 1 : 0 }, deliveryIdOf(ctx.deliveryIdPrefix, row.seq));
  }

  return {
    async listDeliveries(
      integrationId: Guid,
      status: string | undefined,
      page: PageRequest,
    ): Promise<Page<Delivery>> {
      await ctx.fanouts.catchUp();
      const ref = lanes.refOf(integrationId);
      if (ref === undefined) return { ...page, total: 0, results: [] };
      const held = lanes.isHeld(integrationId);
      const offset = page.pageNumber * page.pageSize;
      let rows: DeliveryRow[];
      let total: number;
      if (status === undefined) {
        rows = all.all(ref, page.pageSize, offset);
        total = countAll.get(ref)?.n ?? 0;
      } else if ((status === 'held' && !held) || (status === 'pending' && held)) {
        rows = [];
        total = 0;
      } else if (status === 'failed') {
        rows = failed.all(ref, page.pageSize, offset);
        total = countFailed.get(ref)?.n ?? 0;
      } else {
        const stored = status === 'held' ? 'pending' : status;
        rows = byStatus.all(ref, stored, page.pageSize, offset);
        total = countByStatus.get(ref, stored)?.n ?? 0;
      }
      return { ...page, total, results: rows.map((row) => present(row, held)) };
    },
    async getDelivery(deliveryId: Guid): Promise<Delivery | undefined> {
      const seq = seqOfDeliveryId(ctx.deliveryIdPrefix, deliveryId);
      if (seq === undefined) return undefined;
      await ctx.fanouts.catchUp(seq);
      const row = bySeq.get(seq);
      if (row === undefined) return undefined;
      const delivery = present(row, lanes.isHeld(row.integration_id));
      delivery.attempts = attemptsOf.all(row.seq).map(toAttempt);
      return delivery;
    },
    async nextDueAt(): Promise<EpochMs | undefined> {
      // Deliveries still in fanouts are due since their submit.
      // A flight whose outcome never comes is due again when its lease ends (handoff.ts).
      const times = [earliestDue.get()?.t ?? undefined, ctx.fanouts.earliest(), ctx.handoff.earliestLease()];
      const known = times.filter((t): t is number => t !== undefined);
      return known.length === 0 ? undefined : Math.min(...known);
    },
  };
}
