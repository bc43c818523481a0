// Stored notifications (exhaustion, endpoint health) on PostgreSQL.

import type { Guid, Notification, Page } from '../../domain/types.js';
import type { OwedMail } from '../contract.js';
import { NOTIFICATION_COLUMNS, notificationValues } from '../notification-row.js';
import { pageOffset, type PageQuery, type PgContext } from './context.js';
import { toNotification, type Row } from './rows.js';

export async function createNotification(
  ctx: PgContext,
  n: Notification,
  owedMail: string | undefined,
): Promise<void> {
  await ctx.pool.query(
    `INSERT INTO notifications (${NOTIFICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [...notificationValues(n, owedMail)],
  );
}

/** The e-mails owed for an integration, oldest first (see the contract). */
export async function listOwedMail(ctx: PgContext, integrationId: Guid, limit: number): Promise<OwedMail[]> {
  const { rows } = await ctx.pool.query(
    `SELECT * FROM notifications WHERE integration_id = $1 AND owed_mail IS NOT NULL ORDER BY seq LIMIT $2`,
    [integrationId, limit],
  );
  return (rows as (Row & { owed_mail: string })[]).map((row) => ({
    notification: toNotification(row),
    mail: row.owed_mail,
  }));
}

export async function clearOwedMail(ctx: PgContext, notificationIds: Guid[]): Promise<void> {
  if (notificationIds.length === 0) return;
  await ctx.pool.query('UPDATE notifications SET owed_mail = NULL WHERE notification_id = ANY($1)', [
    notificationIds,
  ]);
}

export async function integrationsOwedMail(ctx: PgContext): Promise<Guid[]> {
  const { rows } = await ctx.pool.query<{ integration_id: string }>(
    'SELECT DISTINCT integration_id FROM notifications WHERE owed_mail IS NOT NULL',
  );
  return rows.map((row) => row.integration_id);
}

/** Newest first; every tenant's when tenantId is undefined (admin). */
export async function listNotifications(
  ctx: PgContext,
  tenantId: Guid | undefined,
  page: PageQuery,
): Promise<Page<Notification>> {
  const where = tenantId === undefined ? '' : 'WHERE tenant_id = $1';
  const params = tenantId === undefined ? [] : [tenantId];
  const total = await ctx.pool.query(`SELECT count(*)::int AS n FROM notifications ${where}`, params);
  const { rows } = await ctx.pool.query(
    `SELECT * FROM notifications ${where} ORDER BY seq DESC LIMIT ${page.pageSize} OFFSET ${pageOffset(page)}`,
    params,
  );
  return {
    pageNumber: page.pageNumber,
    pageSize: page.pageSize,
    total: (total.rows[0] as { n: number }).n,
    results: (rows as Row[]).map(toNotification),
  };
}

/** The e-mail window (see the contract): one upsert that changes the row only once the window passed. */
export async function reserveEmailWindow(
  ctx: PgContext,
  integrationId: Guid,
  now: number,
  windowMs: number,
): Promise<{ reserved: boolean; lastSentAt: number }> {
  const taken = await ctx.pool.query(
    `INSERT INTO email_windows (integration_id, last_sent_at) VALUES ($1, $2)
     ON CONFLICT (integration_id) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at
       WHERE email_windows.last_sent_at <= $3
     RETURNING last_sent_at`,
    [integrationId, now, now - windowMs],
  );
  if ((taken.rowCount ?? 0) > 0) return { reserved: true, lastSentAt: now };
  const { rows } = await ctx.pool.query<{ last_sent_at: string }>(
    'SELECT last_sent_at FROM email_windows WHERE integration_id = $1',
    [integrationId],
  );
  return { reserved: false, lastSentAt: rows[0] === undefined ? now : Number(rows[0].last_sent_at) };
}

/** Gives back a window no e-mail went out in (see the contract): only if no reservation followed. */
export async function releaseEmailWindow(
  ctx: PgContext,
  integrationId: Guid,
  reservedAt: number,
  windowMs: number,
): Promise<void> {
  await ctx.pool.query(
    'UPDATE email_windows SET last_sent_at = $1 WHERE integration_id = $2 AND last_sent_at = $3',
    [reservedAt - windowMs, integrationId, reservedAt],
  );
}

/** Removes the passed windows of deleted integrations (see the contract). */
export async function pruneEmailWindows(ctx: PgContext, before: number): Promise<number> {
  const { rowCount } = await ctx.pool.query(
    `DELETE FROM email_windows w WHERE w.last_sent_at <= $1
       AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.integration_id = w.integration_id)`,
    [before],
  );
  return rowCount ?? 0;
}
