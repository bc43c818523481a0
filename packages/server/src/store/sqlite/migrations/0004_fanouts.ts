// Migration 0004: webhook deliveries written lazily. A submit stores the activity with its routed
// webhook targets as one `fanouts` row (one small append, whatever the number of targets) and answers
// once that is durable; the per-integration delivery rows are written from it, in activity order, by the
// next claim or by any read of the delivery log (fanout.ts). Delivery seqs no longer come from the row
// id but from the activity: delivery_seq_base + activity seq × 4096 + the target's index, so a
// delivery's id is known at submit and lane order (seq order) is activity order; the base puts every
// new seq above the rows written before this migration.

export const sql = `
CREATE TABLE fanouts (
  activity_seq INTEGER PRIMARY KEY,
  conversation_ref INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  targets TEXT NOT NULL
);
INSERT INTO meta (key, value)
  SELECT 'delivery_seq_base', CAST(COALESCE(MAX(seq), 0) + 1 AS TEXT) FROM deliveries;
`;
