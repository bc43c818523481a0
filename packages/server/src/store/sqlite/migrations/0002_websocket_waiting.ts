// Migration 0002: websocket deliveries waiting for their push's outcome, by the time they were written
// or released after a pause (next_attempt_at, set by a release; else created_at), so the stale ones —
// whose push or outcome a stopped process lost — are found without walking the log.

export const sql = `
CREATE INDEX deliveries_websocket_waiting ON deliveries (COALESCE(next_attempt_at, created_at))
  WHERE status = 'pending' AND transport = 'websocket' AND held = 0;
`;
