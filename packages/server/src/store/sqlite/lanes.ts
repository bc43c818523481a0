// Lane bookkeeping inside write transactions. A lane is the webhook deliveries of one (integration,
// conversation), FIFO by seq. Invariant: a lane with pending deliveries has exactly one row with
// is_head = 1, and only heads are ever claimable, so a blocked lane costs one index entry however
// long its backlog. `held` is meaningful on heads only (it takes them out of the claimable index);
// the log derives "held" from the integration's and hub's status. Lanes are addressed by the compact
// references integration_ref / conversation_ref (integrations.seq, conversations.seq).

import type { Database, Statement } from 'better-sqlite3';

export class Lanes {
  private readonly firstPending: Statement<[number, number], { seq: number }>;
  private readonly promote: Statement<[number, number, number]>;
  private readonly holdHeads: Statement<[number]>;
  private readonly releaseHeads: Statement<[number]>;
  private readonly cancelPending: Statement<[number]>;
  private readonly cancelPendingWebhooks: Statement<[number]>;
  private readonly heldPushesToWebhook: Statement<[number], { conversation_ref: number }>;
  private readonly integrationHeld: Statement<[string], { held: number }>;
  private readonly integrationRef: Statement<[string], { seq: number }>;

  constructor(db: Database) {
    this.firstPending = db.prepare(
      `SELECT seq FROM deliveries INDEXED BY deliveries_lane
       WHERE conversation_ref = ? AND integration_ref = ? AND status = 'pending' AND transport = 'webhook'
       ORDER BY seq LIMIT 1`,
    );
    this.promote = db.prepare(
      `UPDATE deliveries SET is_head = 1, held = ?, due_at = COALESCE(next_attempt_at, created_at)
       WHERE seq = (SELECT seq FROM deliveries INDEXED BY deliveries_lane
         WHERE conversation_ref = ? AND integration_ref = ? AND status = 'pending' AND transport = 'webhook'
         ORDER BY seq LIMIT 1)`,
    );
    this.holdHeads = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_ready SET held = 1
       WHERE integration_ref = ? AND is_head = 1 AND held = 0`,
    );
    this.releaseHeads = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_held SET held = 0
       WHERE integration_ref = ? AND is_head = 1 AND held = 1`,
    );
    // Walks the integration's whole log: deleting an integration is rare and this keeps the lane
    // index keyed for the submit path.
    this.cancelPending = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_integration
       SET status = 'cancelled', is_head = 0, due_at = NULL, lease_owner = NULL, lease_until = NULL
       WHERE integration_ref = ? AND status = 'pending'`,
    );
    this.cancelPendingWebhooks = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_integration
       SET status = 'cancelled', is_head = 0, due_at = NULL, lease_owner = NULL, lease_until = NULL
       WHERE integration_ref = ? AND status = 'pending' AND transport = 'webhook'`,
    );
    // Held websocket rows only: an unheld pending one is a push whose outcome is on its way.
    this.heldPushesToWebhook = db.prepare(
      `UPDATE deliveries INDEXED BY deliveries_integration
       SET transport = 'webhook', held = 0, is_head = 0, due_at = NULL, next_attempt_at = NULL
       WHERE integration_ref = ? AND status = 'pending' AND transport = 'websocket' AND held = 1
       RETURNING conversation_ref`,
    );
    this.integrationHeld = db.prepare(
      `SELECT (i.status_id = 3002 OR COALESCE(h.status_id, 2000) = 2002) AS held
       FROM integrations i LEFT JOIN hubs h ON h.hub_id = i.hub_id WHERE i.integration_id = ?`,
    );
    this.integrationRef = db.prepare('SELECT seq FROM integrations WHERE integration_id = ?');
  }

  /** The compact reference of an existing integration. */
  refOf(integrationId: string): number | undefined {
    return this.integrationRef.get(integrationId)?.seq;
  }

  /** True when the lane has no pending webhook delivery (a new one becomes its head). */
  isEmpty(conversationRef: number, integrationRef: number): boolean {
    return this.firstPending.get(conversationRef, integrationRef) === undefined;
  }

  /** After the head became final: the earliest pending delivery becomes head. True if one did. */
  promoteNext(conversationRef: number, integrationRef: number, held: boolean): boolean {
    return this.promote.run(held ? 1 : 0, conversationRef, integrationRef).changes > 0;
  }

  /** Whether an integration's deliveries are held now (it or its hub is paused). */
  isHeld(integrationId: string): boolean {
    return (this.integrationHeld.get(integrationId)?.held ?? 0) === 1;
  }

  /** Holds or releases the heads of every lane of the integration. Returns how many changed. */
  setHeld(integrationRef: number, held: boolean): number {
    return (held ? this.holdHeads : this.releaseHeads).run(integrationRef).changes;
  }

  /** Cancels every pending delivery of the integration (it is being deleted). */
  cancelIntegration(integrationRef: number): void {
    this.cancelPending.run(integrationRef);
  }

  /**
   * The integration's websocket deliveries held by a pause become webhook deliveries (it was given a
   * webhookUrl), each lane's first one its head. True when one is claimable now.
   */
  heldPushesToWebhooks(integrationRef: number, held: boolean): boolean {
    const conversations = new Set(
      this.heldPushesToWebhook.all(integrationRef).map((row) => row.conversation_ref),
    );
    let claimable = false;
    for (const conversationRef of conversations) {
      if (this.promoteNext(conversationRef, integrationRef, held) && !held) claimable = true;
    }
    return claimable;
  }

  /** Cancels the integration's pending webhook deliveries (it no longer has a webhookUrl). */
  cancelWebhooks(integrationRef: number): void {
    this.cancelPendingWebhooks.run(integrationRef);
  }
}
