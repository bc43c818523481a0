// A write lock shared by the threads of one process that open the same SQLite file (the dispatch thread):
// one Int32 in a SharedArrayBuffer around each group-commit transaction. Why: SQLite's own busy handler
// sleeps 1, 2, 5, 10… ms between tries, so two connections of one process colliding on BEGIN IMMEDIATE
// stalled each other for milliseconds (measured: ~3 s of a 16 s profile in the group-commit flush);
// Atomics.waitAsync wakes the waiter as soon as the holder commits, and meanwhile the waiting thread's
// event loop keeps running (a blocking Atomics.wait was measured to idle both threads: ~16 % of their
// profiled time in lockBlocking). Other processes still meet busy_timeout. (Polling on the waiter's next
// event-loop turn instead was measured slower.)

import { resolve } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * What this thread writes into the lock word while it holds the lock: its thread id + 1 (0 = free), so a
 * thread that ended holding the lock can be told from one that holds it now (releaseAbandoned).
 */
const SELF = threadId + 1;

const locks = new Map<string, SharedArrayBuffer>();

function keyOf(path: string): string {
  return resolve(path);
}

/** The SQLite file path a `sqlite:` database URL names (as store/open.ts reads it), else undefined. */
export function sqlitePathOf(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('sqlite:')) return undefined;
  const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return path === '' || path === ':memory:' ? undefined : path;
}

/**
 * Bytes of the shared state of one file: the lock (Int32 at 0), the owner of the hand-off (Int32 at 4)
 * and the hand-off's watermark and lease (two Float64 from 8; see handoff.ts), read and written only
 * by a thread that holds the lock, so the lock's atomics order them; and (Int32 at 24, atomics) whether
 * a WAL sync of any thread failed (group-commit.ts).
 */
export const SHARED_BYTES = 32;
/** Int32 index of the "a WAL sync failed" flag. */
export const SYNC_FAILED_INDEX = 6;

/** This thread's lock for the file, created on first use (pass it to another thread with adoptWriteLock). */
export function writeLockOf(path: string): SharedArrayBuffer {
  const key = keyOf(path);
  let lock = locks.get(key);
  if (lock === undefined) {
    lock = new SharedArrayBuffer(SHARED_BYTES);
    locks.set(key, lock);
  }
  return lock;
}

/** Makes this thread's stores of the file use a lock created by another thread (before opening them). */
export function adoptWriteLock(path: string, lock: SharedArrayBuffer): void {
  locks.set(keyOf(path), lock);
}

/** Takes the lock if it is free; never waits. */
export function tryLock(lock: Int32Array): boolean {
  return Atomics.compareExchange(lock, 0, 0, SELF) === 0;
}

// Atomics.waitAsync is in Node since 16 but not in TypeScript's ES2023 library.
type WaitAsync = (
  typedArray: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** A waiter tries again after this long even without a wake-up (a lost notify cannot hang its writes). */
const WAIT_BOUND_MS = 100;

/**
 * Calls `then` once the lock looks free or WAIT_BOUND_MS passed (the caller tries again), without
 * blocking this thread: its event loop keeps serving requests and queueing writes, which then share the
 * next transaction.
 */
export function whenUnlocked(lock: Int32Array, then: () => void): void {
  const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
  const holder = Atomics.load(lock, 0);
  if (holder === 0) {
    queueMicrotask(then);
    return;
  }
  const result = waitAsync(lock, 0, holder, WAIT_BOUND_MS);
  if (result.async) void result.value.then(then);
  else queueMicrotask(then);
}

/** Takes the lock, blocking the thread until it is free (held only for one synchronous transaction). */
export function lockBlocking(lock: Int32Array): void {
  for (;;) {
    const holder = Atomics.compareExchange(lock, 0, 0, SELF);
    if (holder === 0) return;
    Atomics.wait(lock, 0, holder, 100);
  }
}

/**
 * After a thread sharing the lock ended (its 'exit' event, on the thread that started it; `ended` is its
 * `threadId`): lets the lock go if that thread ended while holding it. A thread ended abruptly — out of
 * memory (ERR_WORKER_OUT_OF_MEMORY), terminate(), process.exit() in it — runs no `finally`, so a
 * transaction it was in leaves the lock taken for ever: every later write of the process would wait for
 * it. Only that thread's mark is cleared: another thread of the process (the checkpoint thread, the
 * dispatch thread) may hold the lock at this moment.
 */
export function releaseAbandoned(lock: Int32Array, ended: number): boolean {
  const mark = ended + 1;
  if (Atomics.compareExchange(lock, 0, mark, 0) !== mark) return false;
  Atomics.notify(lock, 0);
  return true;
}

export function unlock(lock: Int32Array): void {
  Atomics.store(lock, 0, 0);
  // Every waiter: one woken waiter that finds nothing to write would otherwise pass no wake-up on.
  Atomics.notify(lock, 0);
}
