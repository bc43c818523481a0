// Applies pending numbered migrations under a transaction-scoped advisory lock, recorded in a ledger.

import type pg from 'pg';
import { quoteIdent } from './connection.js';
import { migrations } from './migrations/index.js';

/**
 * Why one transaction and an advisory lock: N engine processes may start together against one
 * database. The lock (keyed by schema, so test schemas never wait on each other) lets exactly one of
 * them create the schema and apply each migration; the others then find every version in the ledger.
 * DDL is transactional in PostgreSQL, so a failed migration leaves nothing half-applied.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Why no statement timeout here (HOOKSTER_PG_STATEMENT_TIMEOUT applies to the pool's sessions): an
    // index build on a big table may rightly take minutes, and so may the wait for the lock below while
    // another process runs one. SET LOCAL ends with this transaction, on COMMIT or ROLLBACK.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`hookster:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS hookster_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = await client.query<{ version: number }>('SELECT version FROM hookster_migrations');
    const done = new Set(applied.rows.map((row) => row.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO hookster_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
