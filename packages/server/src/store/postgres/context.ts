// What every PostgreSQL query module receives: the pool and the ways to signal claimable work.

import type pg from 'pg';

export interface PgContext {
  pool: pg.Pool;
  /** [channel, payload] for `pg_notify($n, $m)` inside a committing statement (other processes). */
  notifyParams: [string, string];
  /** Calls this process's onWork listeners (after a commit whose SQL already NOTIFYed). */
  fireLocal(): void;
  /** fireLocal() plus a NOTIFY of its own, for changes committed without one (resume of a pause). */
  signalWork(): void;
}

export interface PageQuery {
  pageNumber: number;
  pageSize: number;
}

/** Pages are 0-based (Hubster's pageNumber); a negative page number reads as the first page. */
export function pageOffset(page: PageQuery): number {
  return Math.max(0, page.pageNumber) * page.pageSize;
}

/**
 * Promotes the lane's next head: its oldest pending webhook delivery (eventId order), due at that
 * delivery's next attempt time; both NULL when the lane is empty. `l` is the lane row being updated.
 */
export const PROMOTE_SQL = `(head_id, due_at) = (
  SELECT d.delivery_id, d.next_attempt_at FROM deliveries d
  WHERE d.integration_id = l.integration_id AND d.conversation_id = l.conversation_id
    AND d.status = 'pending' AND d.transport = 'webhook'
  ORDER BY d.event_id, d.seq LIMIT 1)`;
