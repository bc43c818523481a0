// Migration 0005: exhaustion e-mails owed, kept with their notification until sent, so a digest whose
// window had not ended when its process stopped is sent by the next process (notify/notifier.ts).

export const sql = `
ALTER TABLE notifications ADD COLUMN owed_mail TEXT;
CREATE INDEX notifications_owed ON notifications (integration_id, seq) WHERE owed_mail IS NOT NULL;
`;
