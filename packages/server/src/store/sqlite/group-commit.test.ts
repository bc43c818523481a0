// GroupCommit on a real SQLite file: durable writes queued while a WAL sync runs wait for it and then
// commit together; a non-durable write is not held back; rolled-back writes undo their memory changes.

import { fdatasync, fdatasyncSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';
import { SHARED_BYTES } from './write-lock.js';

let dir: string;
let db: Database.Database;
let writes: GroupCommit;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookster-gc-'));
  db = new Database(join(dir, 'gc.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  writes = new GroupCommit(db, `${db.name}-wal`, () => undefined);
});
afterEach(async () => {
  await writes.whenIdle();
  writes.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (v: string) => () => {
  db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
  return writes.transaction;
};

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (turn by turn, at most 5 s) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

it('commits the durable writes queued during a WAL sync together once it ends', async () => {
  // Syncs on the libuv pool (as after a slow sync on the thread): other turns run while one does.
  writes.close();
  writes = new GroupCommit(db, `${db.name}-wal`, () => undefined, undefined, fdatasync, 0, null);
  // One durable write per event-loop turn: without holding back, each would be its own transaction.
  const answers: Promise<number>[] = [];
  for (let i = 0; i < 100; i++) {
    answers.push(writes.enqueue(insert(String(i))));
    await turn();
  }
  const transactions = new Set(await Promise.all(answers));
  expect(transactions.size).toBeLessThan(90);
  expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(100);
});

it('syncs on this thread until a sync is slow, then on the pool for a while', async () => {
  const onThread: number[] = [];
  const onPool: number[] = [];
  let slow = false;
  writes.close();
  writes = new GroupCommit(
    db,
    `${db.name}-wal`,
    () => undefined,
    undefined,
    (fd, done) => {
      onPool.push(fd);
      fdatasync(fd, done);
    },
    0,
    (fd) => {
      onThread.push(fd);
      fdatasyncSync(fd);
      // How long the sync says it took (the real one's time depends on the machine's load): 20 ms, as
      // on a stalled disk, once `slow` is set; else none.
      return slow ? 20 : 0;
    },
  );
  await writes.enqueue(insert('a'));
  await writes.enqueue(insert('b'));
  expect([onThread.length, onPool.length]).toEqual([2, 0]);
  slow = true;
  await writes.enqueue(insert('c'));
  // The slow one finished (the write was answered after it); the next ones go to the pool.
  await writes.enqueue(insert('d'));
  await writes.enqueue(insert('e'));
  expect([onThread.length, onPool.length]).toEqual([3, 2]);
  expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'b', 'c', 'd', 'e']);
});

it('does not hold back a non-durable write while a sync runs', async () => {
  // The WAL sync is held until the test lets it run, so "while a sync runs" does not depend on timing.
  let release: (() => void) | undefined;
  writes = new GroupCommit(
    db,
    `${db.name}-wal`,
    () => undefined,
    undefined,
    (fd, done) => {
      release = () => fdatasync(fd, done);
    },
    0,
    null,
  );
  const order: string[] = [];
  const durable = writes.enqueue(insert('a')).then(() => order.push('durable'));
  for (let i = 0; release === undefined; i++) {
    if (i > 100) throw new Error('the sync of the durable write never started');
    await turn();
  }
  await writes.enqueue(insert('lease'), false).then(() => order.push('lease'));
  // The lease was committed and answered during a's sync, not after it.
  expect(order).toEqual(['lease']);
  release();
  await durable;
  expect(order).toEqual(['lease', 'durable']);
});

it('undoes the memory changes of a write whose changes are rolled back, and keeps the others', async () => {
  // Memory that mirrors rows (handoff.ts): each write records a change and registers its undo.
  const memory: string[] = [];
  const remembering =
    (v: string, fail = false) =>
    () => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
      memory.push(v);
      writes.onUndo(() => memory.splice(memory.indexOf(v), 1));
      if (fail) throw new Error(`${v} fails`);
    };
  // One turn: three writes share a transaction; the middle one fails after changing memory. The batch
  // runs again with a savepoint per write, so a and c are kept once each, b not at all.
  const results = await Promise.allSettled([
    writes.enqueue(remembering('a')),
    writes.enqueue(remembering('b', true)),
    writes.enqueue(remembering('c')),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(memory).toEqual(['a', 'c']);
  expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'c']);
  // A write alone that fails is rolled back with its memory change.
  await expect(writes.enqueue(remembering('d', true))).rejects.toThrow();
  expect(memory).toEqual(['a', 'c']);
  // A committed write's undo never runs later.
  await writes.enqueue(remembering('e'));
  await expect(writes.enqueue(remembering('f', true))).rejects.toThrow();
  expect(memory).toEqual(['a', 'c', 'e']);
});

it('settles every write of a batch when the database is full: the writes that fit are kept, the others refused', async () => {
  await writes.enqueue(insert('seed'));
  const pages = db.pragma('page_count', { simple: true }) as number;
  // Room for a few small rows and no more.
  db.pragma(`max_page_count = ${pages + 1}`);
  const big = 'x'.repeat(64 * 1024);
  const results = await Promise.allSettled([
    writes.enqueue(insert('small')),
    writes.enqueue(insert(big)),
    writes.enqueue(insert('small too')),
  ]);
  const kept = db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all() as string[];
  // Whatever SQLite undid (the statement or the whole transaction), each answer matches the file.
  expect(results[1]!.status).toBe('rejected');
  expect(kept.includes(big)).toBe(false);
  expect(results[0]!.status === 'fulfilled').toBe(kept.includes('small'));
  expect(results[2]!.status === 'fulfilled').toBe(kept.includes('small too'));
  // The store goes on once there is room again.
  db.pragma('max_page_count = 1073741823');
  await writes.enqueue(insert('after'));
  expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toContain('after');
});

/** A GroupCommit in interval mode whose WAL syncs are recorded (and may be made to fail). */
function intervalWrites(
  intervalMs: number,
  fail: (call: number) => boolean = () => false,
  lock?: Int32Array,
) {
  const syncs: number[] = [];
  let notify: (() => void) | undefined;
  const synced = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${count} syncs within 5 s`)), 5_000);
      notify = () => {
        if (syncs.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
      notify();
    });
  writes = new GroupCommit(
    db,
    `${db.name}-wal`,
    () => undefined,
    lock,
    (fd, done) => {
      syncs.push(Date.now());
      const call = syncs.length;
      if (fail(call)) {
        setImmediate(() => done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
      } else fdatasync(fd, done);
      notify?.();
    },
    intervalMs,
  );
  return { syncs, synced };
}

it('interval mode: answers a durable write at its commit and syncs the WAL in the background within the interval', async () => {
  const { syncs, synced } = intervalWrites(50);
  const committedAt = Date.now();
  await writes.enqueue(insert('a'));
  // Answered before any sync: the COMMIT (WAL frames written to the OS) is the answer.
  expect(syncs).toEqual([]);
  await synced(1);
  expect(syncs[0]! - committedAt).toBeGreaterThanOrEqual(49);
  // Many commits inside one interval share its sync.
  for (let i = 0; i < 20; i++) {
    await writes.enqueue(insert(`b${i}`));
  }
  await synced(2);
  await writes.whenIdle();
  expect(syncs.length).toBeLessThanOrEqual(10); // far fewer than the 21 commits
  expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(21);
});

it('after a failed WAL sync, reports it for good and refuses durable writes, here and on the other thread', async () => {
  // Two GroupCommits on one file sharing the process's lock memory stand for the main and dispatch threads.
  const shared = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
  const { synced } = intervalWrites(10, (call) => call === 1, shared);
  const other = new GroupCommit(db, `${db.name}-wal`, () => undefined, shared, fdatasync, 10);
  await writes.enqueue(insert('a'));
  await synced(1);
  await until(() => writes.syncError !== undefined, 'the failed sync to be reported');
  expect(String(writes.syncError)).toMatch(/EIO/);
  // Sticky: the OS may have dropped the pages it failed to write, so a later sync proves nothing.
  expect(other.syncError).toBeDefined();
  await expect(writes.enqueue(insert('b'))).rejects.toThrow(/could not be synced to disk/);
  await expect(other.enqueue(insert('c'))).rejects.toThrow(/could not be synced to disk/);
  // Writes that promise nothing (claims, outcome records) go on.
  await expect(writes.enqueue(insert('lease'), false)).resolves.toBeTypeOf('number');
  expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'lease']);
  expect(writes.syncError).toBeDefined();
  // Stopping says so too: the commits answered before the failure may not be on disk.
  await other.whenIdle();
  expect(() => other.close()).toThrow(/could not be synced to disk at close/);
  await writes.whenIdle();
  expect(() => writes.close()).toThrow(/could not be synced to disk at close/);
  writes = new GroupCommit(db, `${db.name}-wal`, () => undefined);
});
