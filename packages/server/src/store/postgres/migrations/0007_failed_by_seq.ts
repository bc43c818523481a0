// Migration 0007: failed deliveries of an integration in delivery order, so `recover` reads them a chunk
// at a time from where the last chunk ended, and `?status=failed` listings (newest first) read only them
// instead of every delivery the integration ever had.

export const migration0007 = {
  version: 7,
  name: 'failed_by_seq',
  sql: `
CREATE INDEX deliveries_failed_seq ON deliveries (integration_id, seq) WHERE status = 'failed';
`,
};
