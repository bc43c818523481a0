// Runs the Store conformance suite on SQLite files, plus what is SQLite's own: WAL, the migration
// ledger, delivery ids, and a lane backlog that costs nothing to claim around.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreConformance } from '../conformance/suite.js';
import type { Store } from '../contract.js';
import { openStore } from '../open.js';
import { createSqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const paths = new WeakMap<Store, string>();
let counter = 0;

function openAt(path: string): Store {
  const store = createSqliteStore(path);
  paths.set(store, path);
  return store;
}

describeStoreConformance(
  'sqlite',
  async () => openAt(join(root, `store-${++counter}`, 'hookster.db')),
  async (closed) => openAt(paths.get(closed)!),
);

describe('SQLite store', () => {
  it('runs in WAL mode with every migration recorded once in the ledger', async () => {
    const path = join(root, 'ledger', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    await store.migrate();
    await store.close();
    const again = createSqliteStore(path);
    await again.migrate();
    await again.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const ledger = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(ledger).toEqual([{ version: 1, name: '0001_init' }]);
  });

  it('answers a first write that changes nothing after reopening a cleanly closed file', async () => {
    const path = join(root, 'reopen-noop', 'hookster.db');
    const store = createSqliteStore(path);
    await store.migrate();
    await store.close();
    const again = createSqliteStore(path);
    await again.migrate();
    expect(await again.retryDelivery('00000000-0000-4000-8000-000000000001', Date.now())).toBe(false);
    expect(await again.recordAttempts([])).toEqual([]);
    await again.close();
  });

  it('refuses to work before migrate() with a clear error', async () => {
    const store = createSqliteStore(join(root, 'unmigrated', 'hookster.db'));
    await expect(async () => store.getTenant('x')).rejects.toThrow(/migrate/);
    await store.close();
  });

  it('opens sqlite: URLs and rejects unknown schemes', async () => {
    const store = await openStore(`sqlite:${join(root, 'url', 'hookster.db')}`);
    expect(store.kind).toBe('sqlite');
    await store.migrate();
    await store.close();
    await expect(openStore('mysql://localhost/db')).rejects.toThrow(/Unsupported HOOKSTER_DATABASE_URL/);
    await expect(openStore('sqlite:')).rejects.toThrow(/names no SQLite file/);
  });
});
