// Migration 0004: webhook deliveries written lazily. A submit stores the activity with its routed
// webhook targets as one `fanouts` row (one small append, whatever the number of targets) and answers
// once that is durable; the per-integration delivery rows are written from it, in submit order, by the
// next claim or before a read of the delivery log (fanout.ts). Delivery seqs (which encode the public
// ids) are handed out at submit from `delivery_seqs`, a counter that only grows — one seq per delivery,
// never reused, and in submit order, so lane order (seq order) stays submit order. It starts above
// every row written before this migration. A fanouts row is keyed by the seq of its first target.

export const sql = `
CREATE TABLE delivery_seqs (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next INTEGER NOT NULL
);
INSERT INTO delivery_seqs (id, next) SELECT 1, COALESCE(MAX(seq), 0) + 1 FROM deliveries;
CREATE TABLE fanouts (
  first_seq INTEGER PRIMARY KEY,
  activity_seq INTEGER NOT NULL,
  conversation_ref INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  targets TEXT NOT NULL
);
`;
