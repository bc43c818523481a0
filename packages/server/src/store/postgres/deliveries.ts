// The delivery log on PostgreSQL: listing, one delivery with its attempts, manual resend and recovery.

import type { Delivery, EpochMs, Guid, Page } from '../../domain/types.js';
import { PROMOTE_SQL, pageOffset, type PageQuery, type PgContext } from './context.js';
import { DELIVERY_VIEW_SQL, toDelivery, type Row } from './rows.js';
import { inTransaction } from './tx.js';

const PAUSED = '(i.status_id = 3002 OR h.status_id = 2002)';

function statusCondition(status: string | undefined): string {
  switch (status) {
    case undefined:
      return '';
    case 'held':
      return `AND d.status = 'pending' AND ${PAUSED}`;
    case 'pending':
      return `AND d.status = 'pending' AND NOT COALESCE(${PAUSED}, false)`;
    default:
      return 'AND d.status = $2';
  }
}

export async function listDeliveries(
  ctx: PgContext,
  integrationId: Guid,
  status: string | undefined,
  page: PageQuery,
): Promise<Page<Delivery>> {
  const condition = statusCondition(status);
  const params: unknown[] = condition.includes('$2') ? [integrationId, status] : [integrationId];
  const total = await ctx.pool.query(
    `SELECT count(*)::int AS n FROM (${DELIVERY_VIEW_SQL} WHERE d.integration_id = $1 ${condition}) v`,
    params,
  );
  const { rows } = await ctx.pool.query(
    `${DELIVERY_VIEW_SQL} WHERE d.integration_id = $1 ${condition}
     ORDER BY d.seq DESC LIMIT ${page.pageSize} OFFSET ${pageOffset(page)}`,
    params,
  );
  return {
    pageNumber: page.pageNumber,
    pageSize: page.pageSize,
    total: (total.rows[0] as { n: number }).n,
    results: (rows as Row[]).map((r) => toDelivery(r)),
  };
}

export async function getDelivery(ctx: PgContext, deliveryId: Guid): Promise<Delivery | undefined> {
  const { rows } = await ctx.pool.query(`${DELIVERY_VIEW_SQL} WHERE d.delivery_id = $1`, [deliveryId]);
  if (rows[0] === undefined) return undefined;
  const attempts = await ctx.pool.query('SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY seq', [
    deliveryId,
  ]);
  return toDelivery(rows[0] as Row, attempts.rows as Row[]);
}

function hasWebhookUrl(configuration: string): boolean {
  return typeof (JSON.parse(configuration) as { webhookUrl?: unknown }).webhookUrl === 'string';
}

/**
 * Puts finished webhook deliveries (of integrations that still exist with a webhookUrl) back in their
 * lanes with a fresh attempt budget. The deliveries' integrations are locked first, FOR KEY SHARE in
 * code-unit order (as a submit locks them): a delete locks them FOR UPDATE before it deletes their lanes and
 * cancels their pending deliveries, so it either waits for this resend to commit and then cancels
 * what it reopened, or this lock waits for the delete and then skips the deleted integration, whose
 * deliveries are left as they are (no lane, nothing pending). Lanes are locked next (the lock order
 * of every lane writer). A lane that already has a head keeps it, and the resent delivery waits
 * behind it (the oldest pending one is promoted next), so a resend never puts two deliveries of one
 * lane in flight; an empty lane takes the resent delivery as its head at once.
 */
async function resend(ctx: PgContext, where: string, params: unknown[], now: EpochMs): Promise<number> {
  const resendable = `${where} AND d.transport = 'webhook' AND d.status IN ('failed', 'delivered')`;
  const count = await inTransaction(ctx.pool, async (client) => {
    const locked = await client.query(
      `SELECT i.integration_id, i.configuration FROM integrations i
       WHERE i.integration_id IN (SELECT d.integration_id FROM deliveries d WHERE ${resendable})
       ORDER BY i.integration_id COLLATE "C" FOR KEY SHARE`,
      params,
    );
    // Only to an integration that still has a webhookUrl: one moved to the websocket since would have
    // the delivery fail at once ("invalid webhook URL").
    const integrationIds = (locked.rows as Row[])
      .filter((r) => hasWebhookUrl(r['configuration'] as string))
      .map((r) => r['integration_id'] as string);
    if (integrationIds.length === 0) return 0;
    const ofLocked = `d.integration_id = ANY($${params.length + 1}::text[])`;
    await client.query(
      `INSERT INTO lanes (integration_id, conversation_id)
       SELECT x.i, x.c FROM (
         SELECT DISTINCT d.integration_id AS i, d.conversation_id AS c FROM deliveries d
         WHERE ${resendable} AND ${ofLocked}) x
       ORDER BY x.i COLLATE "C", x.c COLLATE "C"
       ON CONFLICT (integration_id, conversation_id) DO UPDATE SET head_id = lanes.head_id`,
      [...params, integrationIds],
    );
    const updated = await client.query(
      `UPDATE deliveries d SET status = 'pending', next_attempt_at = $${params.length + 2},
         attempt_base = d.attempt_count, fence = d.fence + 1, lease_owner = NULL, lease_until = NULL
       WHERE ${resendable} AND ${ofLocked}
       RETURNING d.integration_id, d.conversation_id`,
      [...params, integrationIds, now],
    );
    const rows = updated.rows as Row[];
    if (rows.length === 0) return 0;
    await client.query(
      `WITH promoted AS (
         UPDATE lanes l SET ${PROMOTE_SQL}
         FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS x(integration, conv)
         WHERE l.integration_id = x.integration AND l.conversation_id = x.conv AND l.head_id IS NULL
         RETURNING l.due_at
       )
       SELECT pg_notify($3, $4) FROM (SELECT 1) one WHERE EXISTS (SELECT 1 FROM promoted)`,
      [rows.map((r) => r['integration_id']), rows.map((r) => r['conversation_id']), ...ctx.notifyParams],
    );
    return rows.length;
  });
  if (count > 0) ctx.fireLocal();
  return count;
}

export async function retryDelivery(ctx: PgContext, deliveryId: Guid, now: EpochMs): Promise<boolean> {
  return (await resend(ctx, 'd.delivery_id = $1', [deliveryId], now)) > 0;
}

/** Failed deliveries reopened per transaction by recover. */
export const RECOVER_CHUNK = 1000;

/**
 * Reopens the integration's failed webhook deliveries created since `since`, RECOVER_CHUNK per
 * transaction, in delivery order (seq, which is submit order inside a lane), each chunk by `resend`.
 * Its row locks are then held for one chunk at a time. One transaction for all of them kept every lane
 * it touched locked until its commit — submissions to those conversations (which update their lane)
 * waited, and claims skipped the lanes: measured, 6 s for 200,000 failed deliveries in 1,000 lanes;
 * chunked, a submission waits at most ~80 ms (the recover itself takes ~2× as long: 13 s) — and beyond
 * ~2 million its statements ran into HOOKSTER_PG_STATEMENT_TIMEOUT. A chunk reopens each delivery
 * behind whatever its lane holds by then, so one lane's reopened deliveries keep their order among
 * themselves (one submitted between two chunks may come between them, as it may come before them); one
 * reopened by an earlier chunk that fails again meanwhile is below the cursor and not reopened twice.
 */
export async function recoverDeliveries(
  ctx: PgContext,
  integrationId: Guid,
  since: EpochMs,
  now: EpochMs,
): Promise<number> {
  // Where to start: the oldest such delivery in delivery order, found through the failed deliveries
  // created since `since` (their created_at index), so a recent `since` does not walk, in seq order, the
  // integration's older failures, which are never pruned (measured: 0.3 s per million, warm). `+ 0`
  // keeps PostgreSQL from answering min(seq) with that walk itself.
  const first = await ctx.pool.query<{ start: number | null }>(
    `SELECT min(d.seq + 0) AS start FROM deliveries d
     WHERE d.integration_id = $1 AND d.status = 'failed' AND d.transport = 'webhook' AND d.created_at >= $2`,
    [integrationId, since],
  );
  const start = first.rows[0]?.start ?? null;
  if (start === null) return 0;
  let count = 0;
  let after = start - 1;
  for (;;) {
    const { rows } = await ctx.pool.query<{ seq: number }>(
      `SELECT d.seq FROM deliveries d
       WHERE d.integration_id = $1 AND d.status = 'failed' AND d.transport = 'webhook'
         AND d.created_at >= $2 AND d.seq > $3
       ORDER BY d.seq LIMIT ${RECOVER_CHUNK}`,
      [integrationId, since, after],
    );
    if (rows.length === 0) return count;
    // resend checks the status again under its locks: a delivery retried by hand, cancelled by a
    // delete, or gone meanwhile is left as it is.
    count += await resend(
      ctx,
      `d.integration_id = $1 AND d.seq = ANY($2::bigint[]) AND d.status = 'failed'`,
      [integrationId, rows.map((r) => r.seq)],
      now,
    );
    if (rows.length < RECOVER_CHUNK) return count;
    after = rows[rows.length - 1]!.seq;
  }
}

export async function nextDueAt(ctx: PgContext): Promise<EpochMs | undefined> {
  const { rows } = await ctx.pool.query(
    `SELECT min(l.due_at) AS due FROM lanes l
     JOIN integrations i ON i.integration_id = l.integration_id
     JOIN hubs h ON h.hub_id = i.hub_id
     WHERE l.due_at IS NOT NULL AND i.status_id <> 3002 AND h.status_id <> 2002`,
  );
  const due = (rows[0] as { due: number | null } | undefined)?.due;
  return due === null || due === undefined ? undefined : Number(due);
}
