// Migration 0003: when each integration's last exhaustion e-mail went out, shared by every process of
// the deployment, so "at most one e-mail per integration per window" holds across worker processes and
// restarts.

export const sql = `
CREATE TABLE email_windows (
  integration_id TEXT PRIMARY KEY,
  last_sent_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
