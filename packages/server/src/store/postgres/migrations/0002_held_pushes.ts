// Migration 0002: websocket deliveries written while their integration or hub was paused are marked
// held, so a resume pushes exactly those (not the ones pushed already whose outcome is on its way).

export const migration0002 = {
  version: 2,
  name: 'held_pushes',
  sql: `
ALTER TABLE deliveries ADD COLUMN held_push boolean NOT NULL DEFAULT false;
CREATE INDEX deliveries_held_pushes ON deliveries (integration_id, seq) WHERE held_push;
`,
};
