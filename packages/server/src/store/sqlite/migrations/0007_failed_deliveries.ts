// Migration 0007: failed deliveries by integration, so recovering them (POST …/deliveries/recover) and
// listing them (?status=failed) read only the failed ones, not every delivery the integration ever had
// (failures are rare: a partial index costs the hot path nothing, as a delivered row never enters it).

export const sql = `
CREATE INDEX deliveries_failed ON deliveries (integration_ref, seq) WHERE status = 'failed';
`;
