// Migration 0005: exhaustion e-mails owed, kept with their notification until sent, so a digest whose
// window had not ended when its process stopped is sent by another or the next process.

export const migration0005 = {
  version: 5,
  name: 'owed_mail',
  sql: `
ALTER TABLE notifications ADD COLUMN owed_mail text;
CREATE INDEX notifications_owed ON notifications (integration_id, seq) WHERE owed_mail IS NOT NULL;
`,
};
