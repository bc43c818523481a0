// Lane bookkeeping inside write transactions. A lane is the webhook deliveries of one (integration,
// conversation), FIFO by seq. Invariant: a lane with pending deliveries has exactly one row with
// is_head = 1, and only heads are ever claimable, so a blocked lane costs one index entry however
// long its backlog. `held` is meaningful on heads only (it takes them out of the claimable index);
// the log derives "held" from the integration's and hub's status.

import type { Database, Statement } from 'better-sqlite3';

interface SeqRow {
  seq: number;
}

export class Lanes {
  private readonly firstPending: Statement<[string, string], SeqRow>;
  private readonly promote: Statement<[number, string, string]>;
  private readonly holdHeads: Statement<[string]>;
  private readonly releaseHeads: Statement<[string]>;
  private readonly cancelPending: Statement<[string]>;
  private readonly integrationHeld: Statement<[string], { held: number }>;

  constructor(db: Database) {
    this.firstPending = db.prepare(
      `SELECT seq FROM deliveries INDEXED BY deliveries_lane
       WHERE integration_id = ? AND conversation_id = ? AND status = 'pending' AND transport = 'webhook'
       ORDER BY seq LIMIT 1`,
    );
    this.promote = db.prepare(
      `UPDATE deliveries SET is_head = 1, held = ?, due_at = COALESCE(next_attempt_at, created_at)
       WHERE seq = (SELECT seq FROM deliveries INDEXED BY deliveries_lane
         WHERE integration_id = ? AND conversation_id = ? AND status = 'pending' AND transport = 'webhook'
         ORDER BY seq LIMIT 1)`,
    );
    this.holdHeads = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_ready SET held = 1
       WHERE integration_id = ? AND is_head = 1 AND held = 0`,
    );
    this.releaseHeads = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_held SET held = 0
       WHERE integration_id = ? AND is_head = 1 AND held = 1`,
    );
    // Walks the integration's whole log: deleting an integration is rare and this keeps the lane
    // index keyed for the submit path.
    this.cancelPending = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_integration
       SET status = 'cancelled', is_head = 0, due_at = NULL, lease_owner = NULL, lease_until = NULL
       WHERE integration_id = ? AND status = 'pending'`,
    );
    this.integrationHeld = db.prepare(
      `SELECT (i.status_id = 3002 OR COALESCE(h.status_id, 2000) = 2002) AS held
       FROM integrations i LEFT JOIN hubs h ON h.hub_id = i.hub_id WHERE i.integration_id = ?`,
    );
  }

  /** True when the lane has no pending webhook delivery (a new one becomes its head). */
  isEmpty(integrationId: string, conversationId: string): boolean {
    return this.firstPending.get(integrationId, conversationId) === undefined;
  }

  /** After the head became final: the earliest pending delivery becomes head. True if one did. */
  promoteNext(integrationId: string, conversationId: string, held: boolean): boolean {
    return this.promote.run(held ? 1 : 0, integrationId, conversationId).changes > 0;
  }

  /** Whether an integration's deliveries are held now (it or its hub is paused). */
  isHeld(integrationId: string): boolean {
    return (this.integrationHeld.get(integrationId)?.held ?? 0) === 1;
  }

  /** Holds or releases the heads of every lane of the integration. Returns how many changed. */
  setHeld(integrationId: string, held: boolean): number {
    return (held ? this.holdHeads : this.releaseHeads).run(integrationId).changes;
  }

  /** Cancels every pending delivery of the integration (it is being deleted). */
  cancelIntegration(integrationId: string): void {
    this.cancelPending.run(integrationId);
  }
}
