// Applies the numbered migrations that the ledger does not list yet, all in one BEGIN IMMEDIATE
// transaction: the write lock keeps two processes starting together from applying one twice.

import type { Database } from 'better-sqlite3';
import { migrations } from './migrations/index.js';

export function applyMigrations(db: Database, deliveryIdPrefix: string): number[] {
  const applied: number[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const done = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((row) => row.version),
    );
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
      applied.push(migration.version);
    }
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('delivery_id_prefix', ?)").run(
      deliveryIdPrefix,
    );
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw new Error(`SQLite migration failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return applied;
}
