// Tenants, API clients, issued tokens and notifications on SQLite.

import type {
  ClientRecord,
  Guid,
  Notification,
  Page,
  PageRequest,
  Tenant,
  TokenRecord,
} from '../../domain/types.js';
import type { Database } from 'better-sqlite3';
import { HooksterError } from '../../domain/errors.js';
import type { OwedMail } from '../contract.js';
import { NOTIFICATION_COLUMNS, notificationValues } from '../notification-row.js';
import type { SqliteContext } from './context.js';
import {
  toClient,
  toNotification,
  toTenant,
  toToken,
  type ClientRow,
  type NotificationRow,
  type TenantRow,
  type TokenRow,
} from './rows.js';

export function createTenancy(ctx: SqliteContext) {
  const { db, writes } = ctx;
  const insertTenant = db.prepare(
    `INSERT INTO tenants (tenant_id, name, account_holder_email, status_id, created, modified)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const selectTenant = db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE tenant_id = ?');
  const updateTenantRow = db.prepare(
    'UPDATE tenants SET name = ?, account_holder_email = ?, modified = ? WHERE tenant_id = ?',
  );
  const insertClient = db.prepare(
    'INSERT INTO clients (client_id, tenant_id, secret_hash, scope, created) VALUES (?, ?, ?, ?, ?)',
  );
  const selectClient = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?');
  const selectClients = db.prepare<[string], ClientRow>(
    'SELECT * FROM clients WHERE tenant_id = ? ORDER BY created, client_id',
  );
  const deleteClientRow = db.prepare('DELETE FROM clients WHERE client_id = ? AND tenant_id = ?');
  const deleteClientTokens = db.prepare('DELETE FROM tokens WHERE client_id = ?');
  const clientWithSecret = db.prepare<[string, string], { one: number }>(
    'SELECT 1 AS one FROM clients WHERE client_id = ? AND secret_hash = ?',
  );
  const insertToken = db.prepare(
    'INSERT INTO tokens (token_hash, tenant_id, client_id, scope, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const selectToken = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_hash = ?');
  const insertNotification = notificationWriter(db);
  const owedOf = db.prepare<[string, number], NotificationRow & { owed_mail: string }>(
    `SELECT * FROM notifications INDEXED BY notifications_owed
     WHERE integration_id = ? AND owed_mail IS NOT NULL ORDER BY seq LIMIT ?`,
  );
  const clearOwed = db.prepare<[string]>(
    'UPDATE notifications SET owed_mail = NULL WHERE notification_id IN (SELECT value FROM json_each(?))',
  );
  const owedIntegrations = db.prepare<[], { integration_id: string }>(
    'SELECT DISTINCT integration_id FROM notifications INDEXED BY notifications_owed WHERE owed_mail IS NOT NULL',
  );
  const notificationsOfTenant = db.prepare<[string, number, number], NotificationRow>(
    'SELECT * FROM notifications WHERE tenant_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?',
  );
  const countOfTenant = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = ?',
  );
  const allNotifications = db.prepare<[number, number], NotificationRow>(
    'SELECT * FROM notifications ORDER BY seq DESC LIMIT ? OFFSET ?',
  );
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM notifications');
  // An upsert that changes the row only when the window has passed: RETURNING yields a row iff it did.
  const takeWindow = db.prepare<[string, number, number], { last_sent_at: number }>(
    `INSERT INTO email_windows (integration_id, last_sent_at) VALUES (?, ?)
     ON CONFLICT (integration_id) DO UPDATE SET last_sent_at = excluded.last_sent_at
       WHERE email_windows.last_sent_at <= ?
     RETURNING last_sent_at`,
  );
  // Back to when the window would have been free: the last e-mail went out at least a window before.
  const giveBackWindow = db.prepare<[number, string, number]>(
    'UPDATE email_windows SET last_sent_at = ? WHERE integration_id = ? AND last_sent_at = ?',
  );
  const pruneWindows = db.prepare<[number]>(
    `DELETE FROM email_windows WHERE last_sent_at <= ?
       AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.integration_id = email_windows.integration_id)`,
  );
  const windowOf = db.prepare<[string], { last_sent_at: number }>(
    'SELECT last_sent_at FROM email_windows WHERE integration_id = ?',
  );

  return {
    reserveEmailWindow(integrationId: Guid, now: number, windowMs: number) {
      return writes.enqueue(() => {
        if (takeWindow.get(integrationId, now, now - windowMs) !== undefined) {
          return { reserved: true, lastSentAt: now };
        }
        return { reserved: false, lastSentAt: windowOf.get(integrationId)?.last_sent_at ?? now };
      });
    },
    releaseEmailWindow(integrationId: Guid, reservedAt: number, windowMs: number): Promise<void> {
      return writes.enqueue(() => {
        giveBackWindow.run(reservedAt - windowMs, integrationId, reservedAt);
      });
    },
    pruneEmailWindows(before: number): Promise<number> {
      return writes.enqueue(() => pruneWindows.run(before).changes);
    },
    createTenant(t: Tenant): Promise<void> {
      return writes.enqueue(() => {
        insertTenant.run(t.tenantId, t.name, t.accountHolderEmail, t.statusId, t.created, t.modified);
      });
    },
    updateTenant(t: Tenant): Promise<void> {
      return writes.enqueue(() => {
        const { changes } = updateTenantRow.run(t.name, t.accountHolderEmail, t.modified, t.tenantId);
        if (changes === 0) throw HooksterError.of('NotFound', 'Tenant not found.');
      });
    },
    async getTenant(tenantId: Guid): Promise<Tenant | undefined> {
      const row = selectTenant.get(tenantId);
      return row && toTenant(row);
    },
    createClient(c: ClientRecord): Promise<void> {
      return writes.enqueue(() => {
        insertClient.run(c.clientId, c.tenantId, c.secretHash, c.scope, c.created);
      });
    },
    async getClient(clientId: string): Promise<ClientRecord | undefined> {
      const row = selectClient.get(clientId);
      return row && toClient(row);
    },
    async listClients(tenantId: Guid): Promise<ClientRecord[]> {
      return selectClients.all(tenantId).map(toClient);
    },
    deleteClient(tenantId: Guid, clientId: string): Promise<number | undefined> {
      return writes.enqueue(() => {
        if (deleteClientRow.run(clientId, tenantId).changes === 0) return undefined;
        return deleteClientTokens.run(clientId).changes;
      });
    },
    createToken(t: TokenRecord, clientSecretHash: string): Promise<boolean> {
      // In the write transaction: a revocation committed since the client was read is seen here.
      return writes.enqueue(() => {
        if (clientWithSecret.get(t.clientId, clientSecretHash) === undefined) return false;
        insertToken.run(t.tokenHash, t.tenantId, t.clientId, t.scope, t.expiresAt);
        return true;
      });
    },
    async getToken(tokenHash: string): Promise<TokenRecord | undefined> {
      const row = selectToken.get(tokenHash);
      return row && toToken(row);
    },
    createNotification(n: Notification, owedMail?: string): Promise<void> {
      return writes.enqueue(() => {
        insertNotification(n, owedMail);
      });
    },
    async listOwedMail(integrationId: Guid, limit: number): Promise<OwedMail[]> {
      return owedOf
        .all(integrationId, limit)
        .map((row) => ({ notification: toNotification(row), mail: row.owed_mail }));
    },
    clearOwedMail(notificationIds: Guid[]): Promise<void> {
      if (notificationIds.length === 0) return Promise.resolve();
      return writes.enqueue(() => {
        clearOwed.run(JSON.stringify(notificationIds));
      });
    },
    async integrationsOwedMail(): Promise<Guid[]> {
      return owedIntegrations.all().map((row) => row.integration_id);
    },
    async listNotifications(tenantId: Guid | undefined, page: PageRequest): Promise<Page<Notification>> {
      const offset = page.pageNumber * page.pageSize;
      const rows =
        tenantId === undefined
          ? allNotifications.all(page.pageSize, offset)
          : notificationsOfTenant.all(tenantId, page.pageSize, offset);
      const total = (tenantId === undefined ? countAll.get() : countOfTenant.get(tenantId))?.n ?? 0;
      return { ...page, total, results: rows.map(toNotification) };
    },
  };
}

/** Writes one notification row (with the e-mail it owes, if any): the statement, prepared once. */
export function notificationWriter(db: Database): (n: Notification, owedMail?: string) => void {
  const insert = db.prepare(
    `INSERT INTO notifications (${NOTIFICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (n, owedMail) => {
    insert.run(...notificationValues(n, owedMail));
  };
}
