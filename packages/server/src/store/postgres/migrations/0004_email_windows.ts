// Migration 0004: when each integration's last exhaustion e-mail went out, shared by every process of
// the deployment, so "at most one e-mail per integration per window" holds across worker processes and
// restarts.

export const migration0004 = {
  version: 4,
  name: 'email_windows',
  sql: `
CREATE TABLE email_windows (
  integration_id text PRIMARY KEY,
  last_sent_at bigint NOT NULL
);
`,
};
