// Delivery seqs (fanout.ts, allocate) when the group commit runs a batch again after a failing write:
// it rolls the transaction back and begins a new one, and between the two another process on the same
// file (a second API process) may commit seqs of its own.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { Fanouts } from './fanout.js';
import { GroupCommit } from './group-commit.js';
import { Handoff } from './handoff.js';
import { applyMigrations } from './migrate.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const run of cleanup.splice(0).reverse()) run();
});

it('never hands out a seq that another process committed while a failed batch was begun again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookster-allocate-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'hookster.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  applyMigrations(db, 'ea513251-6ba2-49ea-a4c6');
  // Another process's connection: it allocates 10 seqs the way a submit does (read, then write back).
  const other = new Database(path);
  other.pragma('busy_timeout = 1000');
  cleanup.push(
    () => other.close(),
    () => db.close(),
  );
  const readNext = () =>
    (db.prepare('SELECT next FROM delivery_seqs WHERE id = 1').get() as { next: number }).next;
  const start = readNext();
  let otherFirst: number | undefined;
  const otherAllocates = () => {
    other.exec('BEGIN IMMEDIATE');
    otherFirst = (other.prepare('SELECT next FROM delivery_seqs WHERE id = 1').get() as { next: number })
      .next;
    other.prepare('UPDATE delivery_seqs SET next = ? WHERE id = 1').run(otherFirst + 10);
    other.exec('COMMIT');
  };
  // The other process gets the file's write lock in the gap between the ROLLBACK and the second BEGIN.
  let begins = 0;
  const gapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') {
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (sql !== 'BEGIN IMMEDIATE') return statement;
          return {
            run: () => {
              if (++begins === 2) otherAllocates();
              return statement.run();
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const writes = new GroupCommit(gapped, undefined, () => undefined);
  const fanouts = new Fanouts(db, writes, () => undefined, new Handoff(undefined, writes, false));
  const results = await Promise.allSettled([
    writes.enqueue(() => fanouts.allocate(3)),
    writes.enqueue(() => {
      throw new Error('this write fails');
    }),
  ]);
  expect(begins).toBe(2);
  expect(otherFirst).toBe(start);
  expect(results[1]!.status).toBe('rejected');
  expect(results[0]!.status).toBe('fulfilled');
  const first = (results[0] as PromiseFulfilledResult<number>).value;
  // The other process's seqs are [start, start + 10): ours come after them, and the counter only grows.
  expect(first).toBeGreaterThanOrEqual(start + 10);
  expect(readNext()).toBeGreaterThanOrEqual(first + 3);
  await writes.whenIdle();
});
