// Opens the Store a database URL names: `sqlite:<path>` or `postgres://…` / `postgresql://…`.
// The caller runs migrate() afterwards (the CLI's `migrate` and `serve` both do).

import type { Store } from './contract.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite/index.js';

interface PostgresModule {
  createPostgresStore(
    url: string,
    options?: { syncIntervalMs?: number; statementTimeoutMs?: number },
  ): Store | Promise<Store>;
}

export interface OpenStoreOptions extends SqliteStoreOptions {
  /** PostgreSQL only (HOOKSTER_PG_STATEMENT_TIMEOUT): longest a pooled statement may run, ms; 0 = no limit. */
  statementTimeoutMs?: number;
}

/** `watchForeignCommits` applies to SQLite (PostgreSQL always signals across processes). */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error(`HOOKSTER_DATABASE_URL "${databaseUrl}" names no SQLite file.`);
    return createSqliteStore(path, options);
  }
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    // Loaded only when asked for, so a SQLite deployment never loads the PostgreSQL driver.
    const specifier = './postgres/index.js';
    const postgres = (await import(specifier)) as PostgresModule;
    return postgres.createPostgresStore(databaseUrl, {
      syncIntervalMs: options.syncIntervalMs ?? 0,
      statementTimeoutMs: options.statementTimeoutMs ?? 0,
    });
  }
  throw new Error(
    `Unsupported HOOKSTER_DATABASE_URL "${databaseUrl}": use sqlite:<path> or postgres://user@host:port/db.`,
  );
}
