// Migration 0003: websocket deliveries waiting for their push's outcome, by the time they were written
// or released after a pause (next_attempt_at), so the stale ones — whose push or outcome a stopped
// process lost — are found without walking the log.

export const migration0003 = {
  version: 3,
  name: 'websocket_waiting',
  sql: `
CREATE INDEX deliveries_websocket_waiting ON deliveries (next_attempt_at)
  WHERE status = 'pending' AND transport = 'websocket' AND NOT held_push;
`,
};
