// Tenants, API clients and issued tokens on PostgreSQL.

import type { ClientRecord, Guid, Tenant, TokenRecord } from '../../domain/types.js';
import { HooksterError } from '../../domain/errors.js';
import type { PgContext } from './context.js';
import { toClient, toTenant, toToken } from './rows.js';
import { inTransaction, isUniqueViolation } from './tx.js';

export async function createTenant(ctx: PgContext, t: Tenant): Promise<void> {
  await ctx.pool.query(
    `INSERT INTO tenants (tenant_id, name, account_holder_email, status_id, created, modified)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [t.tenantId, t.name, t.accountHolderEmail, t.statusId, t.created, t.modified],
  );
}

export async function getTenant(ctx: PgContext, tenantId: Guid): Promise<Tenant | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM tenants WHERE tenant_id = $1', [tenantId]);
  return rows[0] === undefined ? undefined : toTenant(rows[0] as Record<string, unknown>);
}

export async function updateTenant(ctx: PgContext, t: Tenant): Promise<void> {
  const { rowCount } = await ctx.pool.query(
    'UPDATE tenants SET name = $1, account_holder_email = $2, modified = $3 WHERE tenant_id = $4',
    [t.name, t.accountHolderEmail, t.modified, t.tenantId],
  );
  if (rowCount === 0) throw HooksterError.of('NotFound', 'Tenant not found.');
}

export async function createClient(ctx: PgContext, c: ClientRecord): Promise<void> {
  try {
    await ctx.pool.query(
      `INSERT INTO clients (client_id, tenant_id, secret_hash, scope, created) VALUES ($1, $2, $3, $4, $5)`,
      [c.clientId, c.tenantId, c.secretHash, c.scope, c.created],
    );
  } catch (error) {
    // As on SQLite: a taken client id is a 409, not a driver error (a 500).
    if (isUniqueViolation(error)) throw HooksterError.of('AlreadyExists');
    throw error;
  }
}

export async function getClient(ctx: PgContext, clientId: string): Promise<ClientRecord | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM clients WHERE client_id = $1', [clientId]);
  return rows[0] === undefined ? undefined : toClient(rows[0] as Record<string, unknown>);
}

export async function listClients(ctx: PgContext, tenantId: Guid): Promise<ClientRecord[]> {
  const { rows } = await ctx.pool.query(
    'SELECT * FROM clients WHERE tenant_id = $1 ORDER BY created, client_id',
    [tenantId],
  );
  return rows.map((row) => toClient(row as Record<string, unknown>));
}

export async function deleteClient(
  ctx: PgContext,
  tenantId: Guid,
  clientId: string,
): Promise<number | undefined> {
  return inTransaction(ctx.pool, async (client) => {
    // The row lock orders this against a token being issued (createToken locks the client FOR SHARE):
    // either that token is committed first and the second DELETE, a new statement with a fresh
    // snapshot, sees it; or its issuance waits and then finds no client.
    const gone = await client.query('DELETE FROM clients WHERE client_id = $1 AND tenant_id = $2', [
      clientId,
      tenantId,
    ]);
    if (gone.rowCount === 0) return undefined;
    const tokens = await client.query('DELETE FROM tokens WHERE client_id = $1', [clientId]);
    return tokens.rowCount ?? 0;
  });
}

export async function createToken(
  ctx: PgContext,
  t: TokenRecord,
  clientSecretHash: string,
): Promise<boolean> {
  return inTransaction(ctx.pool, async (client) => {
    // FOR SHARE: a revocation of this client waits for this transaction, or this one for it (deleteClient).
    const { rowCount } = await client.query(
      'SELECT 1 FROM clients WHERE client_id = $1 AND secret_hash = $2 FOR SHARE',
      [t.clientId, clientSecretHash],
    );
    if (rowCount === 0) return false;
    await client.query(
      `INSERT INTO tokens (token_hash, tenant_id, client_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [t.tokenHash, t.tenantId, t.clientId, t.scope, t.expiresAt],
    );
    return true;
  });
}

export async function getToken(ctx: PgContext, tokenHash: string): Promise<TokenRecord | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM tokens WHERE token_hash = $1', [tokenHash]);
  return rows[0] === undefined ? undefined : toToken(rows[0] as Record<string, unknown>);
}
