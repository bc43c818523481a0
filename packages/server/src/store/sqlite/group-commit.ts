// Group commit: every write of one event-loop turn runs in ONE transaction (BEGIN IMMEDIATE … COMMIT),
// and one failing write does not undo the others (see flushLocked). Durability: the connection
// runs synchronous=NORMAL (COMMIT writes the WAL frames without fsync) and a durable write is answered
// only after an fdatasync of the WAL file that started after its COMMIT — the same guarantee as
// synchronous=FULL, but the fsync runs on the libuv pool while the event loop keeps serving requests,
// and one fsync covers every transaction committed before it started (up to MAX_SYNCS may overlap).
// (Checkpoints sync the WAL before copying it and the database after, so a frame acknowledged here is
// durable whether it is still in the WAL or already in the database file.)
//
// With a sync interval (HOOKSTER_SYNC, e.g. `1s`) a durable write is answered right after its COMMIT,
// which has written the WAL frames to the OS: a crash of the process loses nothing acknowledged, and
// the WAL is fdatasync'ed in the background at most that long after a commit, so a power failure or an
// OS crash loses at most that much — Redis's `appendfsync everysec`, PostgreSQL's
// `synchronous_commit = off`.

import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import { HooksterError } from '../../domain/errors.js';
import { translateError } from './errors.js';
import { SYNC_FAILED_INDEX, lockBlocking, tryLock, unlock, whenUnlocked } from './write-lock.js';

/**
 * Overlapping WAL syncs allowed. Measured here (perf.ts, 64 submits in flight): 2 gave smaller groups
 * and more device flushes for no lower latency, so one at a time; commits made meanwhile share the next.
 */
const MAX_SYNCS = 1;
/** Interval mode: the longest wait before a background sync (a shorter HOOKSTER_SYNC wins). */
const BACKGROUND_SYNC_MS = 100;
/** Most durable writes held back while a sync runs (more are committed at once). */
const DEFER_UP_TO = 256;
/**
 * A WAL sync that answers durable writes runs on this thread, right after the transaction's lock is let
 * go, unless one took longer than this lately: then syncs go to the libuv pool for INLINE_OFF_MS, so a
 * slow or stalled disk blocks this thread once, not at every commit. Measured (docs/benchmarks.md,
 * eighth session): 7 % less CPU per delivery and 3 % more deliveries/s than always handing the sync to
 * the pool (two thread hand-offs per sync), with the same paced p99.
 */
const INLINE_SYNC_SLOW_MS = 5;
const INLINE_OFF_MS = 2_000;

/** fdatasync on this thread; how long it took (ms). */
function timedSync(fd: number): number {
  const started = performance.now();
  fdatasyncSync(fd);
  return performance.now() - started;
}
interface QueuedWrite {
  run: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Settled {
  write: QueuedWrite;
  ok: boolean;
  value: unknown;
}

export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  /** Committed durable writes waiting for a WAL sync that started after their commit, in commit order. */
  private waiting: { commit: number; settled: Settled }[] = [];
  /** Commits so far; the highest one known durable; the highest one a started sync covers. */
  private commits = 0;
  private durableUpTo = 0;
  private syncStartedUpTo = 0;
  private syncsInFlight = 0;
  /** A flush put off until the WAL sync in flight ends. */
  private deferred = false;
  private walFd: number | undefined;
  /** Syncs that answer durable writes go to the libuv pool until then (INLINE_SYNC_SLOW_MS). */
  private inlineOffUntil = 0;
  /** Interval mode: the background sync's timer; a sync due while the previous one still ran. */
  private intervalTimer: NodeJS.Timeout | undefined;
  private backgroundAgain = false;
  /**
   * The first WAL sync error of this thread. Sticky: after a failed fsync the OS may have dropped the
   * pages it could not write and a later fsync can succeed without them (PostgreSQL's rule since
   * "fsyncgate"), so nothing written before can be called durable any more. The file's other threads
   * see it through the shared flag.
   */
  private failedSync: unknown;
  private idleWaiters: (() => void)[] = [];
  /** Runs just before the current transaction's COMMIT (registered by writes inside it). */
  private beforeCommit: (() => void)[] = [];
  /** Undoes changes to memory made by writes of the current transaction, newest last (onUndo). */
  private undo: (() => void)[] = [];
  /** Increments at each BEGIN: lets a write tell whether it runs in the same transaction as before. */
  transaction = 0;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(
    private readonly db: Database,
    /** The WAL file to fdatasync; undefined for an in-memory database. */
    private readonly walPath: string | undefined,
    /** Called after each successful commit (listeners decide whether work appeared). */
    private readonly afterCommit: () => void,
    /** Shared with the other threads of this process that write the same file (write-lock.ts). */
    private readonly lock?: Int32Array,
    /** The WAL sync (a test holds it to see what happens while one runs). */
    private readonly syncFile: (
      fd: number,
      done: (error: NodeJS.ErrnoException | null) => void,
    ) => void = fdatasync,
    /**
     * 0: a durable write is answered after a WAL sync that covers it. Above 0: it is answered after its
     * COMMIT, and the WAL is synced in the background at most this many ms after a commit.
     */
    private readonly syncIntervalMs = 0,
    /**
     * The WAL sync on this thread, returning how long it took in ms (INLINE_SYNC_SLOW_MS); null: every
     * sync goes through `syncFile`.
     */
    private readonly inlineSync: ((fd: number) => number) | null = timedSync,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT write');
    this.release = db.prepare('RELEASE write');
    this.rollbackTo = db.prepare('ROLLBACK TO write');
  }

  /**
   * Queues a synchronous write for this turn's transaction. `durable: false` marks writes whose loss
   * in a power failure is harmless (leases: an expired lease is simply taken again); they are answered
   * right after COMMIT, without waiting for the WAL sync.
   */
  enqueue<T>(run: () => T, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs everything queued now, synchronously (the WAL sync of durable writes follows asynchronously). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    // While a WAL sync runs, durable writes could not be answered before the next one anyway (one sync
    // at a time): let them gather and commit together when it ends — fewer, larger transactions and
    // syncs for the same answer times (measured: ~5 % less CPU per submission). A non-durable write (a
    // claim) is not held up.
    if (
      this.syncIntervalMs === 0 &&
      this.syncsInFlight > 0 &&
      this.queue.length < DEFER_UP_TO &&
      this.queue.every((write) => write.durable)
    ) {
      this.deferred = true;
      this.scheduled = true;
      return;
    }
    if (!this.db.open) {
      const batch = this.queue;
      this.queue = [];
      for (const write of batch) write.reject(new Error('The SQLite store is closed.'));
      return;
    }
    if (this.syncError !== undefined && this.queue.some((write) => write.durable)) {
      // Writes that promise durability are refused until a restart; the others (claims, outcome
      // records: at least once anyway) go on.
      const refused = this.queue.filter((write) => write.durable);
      this.queue = this.queue.filter((write) => !write.durable);
      for (const write of refused) {
        write.reject(
          withCause(
            HooksterError.of(
              'Unavailable',
              'The database file could not be synced to disk: changes are refused until Hookster is restarted.',
            ),
            this.syncError,
          ),
        );
      }
      if (this.queue.length === 0) return;
    }
    if (this.lock === undefined) {
      this.flushLocked();
      return;
    }
    // Another thread of this process may be mid-transaction: try again once it unlocks, without
    // blocking this thread (writes queued meanwhile join this transaction).
    if (!tryLock(this.lock)) {
      this.scheduled = true;
      whenUnlocked(this.lock, () => this.flush());
      return;
    }
    try {
      this.flushLocked();
    } finally {
      unlock(this.lock);
    }
  }

  /** Runs `run` holding the write lock shared with the process's other threads (waiting for it). */
  withLock(run: () => void): void {
    if (this.lock !== undefined) lockBlocking(this.lock);
    try {
      run();
    } finally {
      if (this.lock !== undefined) unlock(this.lock);
    }
  }

  /** Runs everything queued now, waiting for the other thread's transaction if need be (migrations). */
  flushBlocking(): void {
    if (this.lock !== undefined) lockBlocking(this.lock);
    try {
      this.scheduled = false;
      if (this.queue.length === 0) return;
      if (this.db.open) this.flushLocked();
      else for (const write of this.queue.splice(0)) write.reject(new Error('The SQLite store is closed.'));
    } finally {
      if (this.lock !== undefined) unlock(this.lock);
    }
  }

  private flushLocked(): void {
    const batch = this.queue;
    this.queue = [];
    const settled: Settled[] = [];
    try {
      this.begin.run();
    } catch (error) {
      for (const write of batch) write.reject(translateError(error));
      return;
    }
    this.transaction++;
    this.beforeCommit = [];
    this.undo = [];
    // Optimistically without any savepoint: a savepoint makes SQLite copy every page the batch then
    // changes into its statement journal (measured: ~8 % more CPU for a transaction of 25 submits). If a
    // write fails, the whole transaction is rolled back and begun again — this thread still holds the
    // process's write lock, so no other thread of the process can come in between — and the batch runs
    // again with one savepoint per write, so the failing write changes nothing and the others are kept.
    // (Writes are plain functions of the database and their arguments, so running one again is safe; a
    // delivery seq handed out in the undone run is simply not used again.) Between the ROLLBACK and the
    // new BEGIN another process may commit: the new transaction gets a new number (below).
    let failed = false;
    let failure: unknown;
    for (const write of batch) {
      try {
        settled.push({ write, ok: true, value: write.run() });
      } catch (error) {
        failed = true;
        failure = error;
        break;
      }
    }
    if (failed) {
      if (this.db.inTransaction) this.rollback.run();
      this.undoTo(0);
      if (batch.length === 1) {
        batch[0]!.reject(translateError(failure));
        return;
      }
      settled.length = 0;
      try {
        this.begin.run();
      } catch (error) {
        for (const write of batch) write.reject(translateError(error));
        return;
      }
      // A new transaction: another process on the file (an API process beside a worker, or a second
      // one) may have committed between the ROLLBACK and this BEGIN — SQLite's lock was let go, only
      // this process's lock was held. What a write read in the undone run (the seq counter, fanout.ts
      // allocate) is read again, and what it registered to run at the undone run's commit is dropped.
      this.transaction++;
      this.beforeCommit = [];
      for (const write of batch) {
        this.savepoint.run();
        const mark = this.undo.length;
        try {
          const value = write.run();
          this.release.run();
          settled.push({ write, ok: true, value });
        } catch (error) {
          if (!this.db.inTransaction) {
            // SQLite undid the whole transaction itself (a full disk, an I/O error): nothing is kept.
            this.undoTo(0);
            for (const each of batch) each.reject(translateError(error));
            return;
          }
          this.rollbackTo.run();
          this.release.run();
          this.undoTo(mark);
          settled.push({ write, ok: false, value: translateError(error) });
        }
      }
    }
    try {
      for (const run of this.beforeCommit.splice(0)) run();
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      this.undoTo(0);
      for (const write of batch) write.reject(translateError(error));
      return;
    }
    this.undo = [];
    const interval = this.syncIntervalMs > 0;
    for (const s of settled) {
      // Failed writes changed nothing; non-durable ones need no sync; in interval mode the COMMIT is
      // the answer: answer them now.
      if (!s.ok || !s.write.durable || this.walPath === undefined || interval) answer(s);
      else this.waiting.push({ commit: this.commits + 1, settled: s });
    }
    this.commits++;
    this.afterCommit();
    if (interval) this.syncWithin();
    else this.syncWal();
  }

  /**
   * Interval mode: arms the background sync that covers this commit, unless one is armed already. It
   * runs after the interval or BACKGROUND_SYNC_MS, whichever is shorter: one large sync a second
   * stalled the commits made while it ran (paced p99 ~10 ms against ~4 ms at 100 ms, docs/benchmarks.md).
   */
  private syncWithin(): void {
    if (this.intervalTimer !== undefined || this.walPath === undefined) return;
    this.intervalTimer = setTimeout(
      () => {
        this.intervalTimer = undefined;
        this.backgroundSync();
      },
      Math.min(this.syncIntervalMs, BACKGROUND_SYNC_MS),
    );
    // An exiting process still syncs at close(); the timer alone must not keep it alive.
    this.intervalTimer.unref();
  }

  private backgroundSync(): void {
    if (this.syncStartedUpTo >= this.commits) return;
    if (this.syncsInFlight > 0) {
      // The previous one is still running: this one starts as soon as it ends.
      this.backgroundAgain = true;
      return;
    }
    const upTo = this.commits;
    this.syncStartedUpTo = upTo;
    this.syncsInFlight++;
    const done = (error: NodeJS.ErrnoException | null): void => {
      this.syncsInFlight--;
      if (error) this.markSyncFailed(error);
      else this.durableUpTo = Math.max(this.durableUpTo, upTo);
      if (this.backgroundAgain) {
        this.backgroundAgain = false;
        this.backgroundSync();
      }
      this.resolveIdle();
    };
    this.startSync(done);
  }

  /**
   * Starts an fdatasync of the WAL; `done` gets its error. No WAL file yet means nothing was written
   * (SQLite creates it with the first changed page): done at once, without an error.
   */
  private startSync(done: (error: NodeJS.ErrnoException | null) => void, inline = false): void {
    try {
      this.walFd ??= openSync(this.walPath!, 'r');
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      done(e.code === 'ENOENT' ? null : e);
      return;
    }
    const fd = this.walFd;
    const inlineSync = this.inlineSync;
    if (inline && inlineSync !== null && Date.now() >= this.inlineOffUntil) {
      // After the current call stack: flushLocked runs with the write lock held, and the other thread
      // must not wait for this sync.
      queueMicrotask(() => {
        let error: NodeJS.ErrnoException | null = null;
        try {
          if (inlineSync(fd) > INLINE_SYNC_SLOW_MS) this.inlineOffUntil = Date.now() + INLINE_OFF_MS;
        } catch (e) {
          error = e as NodeJS.ErrnoException;
        }
        done(error);
      });
      return;
    }
    this.syncFile(fd, done);
  }

  private resolveIdle(): void {
    if (this.syncsInFlight === 0 && this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private markSyncFailed(error: unknown): void {
    this.failedSync ??= error;
    if (this.lock !== undefined) Atomics.store(this.lock, SYNC_FAILED_INDEX, 1);
  }

  /**
   * Set once a WAL sync of this file failed, on this thread or another of the process (sticky until a
   * restart): the store's check() reports it and durable writes are refused.
   */
  get syncError(): unknown {
    if (this.failedSync !== undefined) return this.failedSync;
    if (this.lock !== undefined && Atomics.load(this.lock, SYNC_FAILED_INDEX) === 1) {
      return new Error('a WAL sync failed on another thread of this process');
    }
    return undefined;
  }

  /**
   * Inside a write: runs `run` once, just before this transaction commits (after every write of the
   * batch, whether each kept its changes or not). If it throws, the whole transaction fails.
   */
  atCommit(run: () => void): void {
    this.beforeCommit.push(run);
  }

  /**
   * Inside a write: `run` undoes a change the write made to memory, and runs if the write's changes to
   * the database are rolled back (its savepoint, or the whole transaction), so memory that mirrors
   * the database never gets ahead of it.
   */
  onUndo(run: () => void): void {
    this.undo.push(run);
  }

  private undoTo(mark: number): void {
    while (this.undo.length > mark) this.undo.pop()!();
  }

  /** Resolves once every write committed so far is answered (used by close()). */
  whenIdle(): Promise<void> {
    this.flushBlocking();
    if (this.syncsInFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Closes the WAL descriptor (after whenIdle); in interval mode, first syncs what is not synced yet.
   * Throws when that sync fails (the caller's stop then reports it), after closing the descriptor.
   */
  close(): void {
    if (this.intervalTimer !== undefined) clearTimeout(this.intervalTimer);
    this.intervalTimer = undefined;
    let failure: unknown;
    if (this.syncIntervalMs > 0 && this.durableUpTo < this.commits && this.walPath !== undefined) {
      try {
        this.walFd ??= openSync(this.walPath, 'r');
        fdatasyncSync(this.walFd);
        this.durableUpTo = this.commits;
      } catch (error) {
        // No WAL file: nothing was written. Anything else: the last commits may not be on disk.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failure = error;
      }
    }
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    // A sync that failed earlier (sticky) means commits answered before may not be on disk either.
    failure ??= this.syncError;
    if (failure !== undefined) {
      throw withCause(
        HooksterError.of('SystemError', 'The last commits could not be synced to disk at close.'),
        failure,
      );
    }
  }

  /**
   * Starts an fdatasync covering every commit so far, unless one already does. Up to MAX_SYNCS run at
   * once: a commit made while a sync is in flight gets its own sync at once instead of waiting for that
   * one to finish (a sync covers what was written before it started, so a later sync finishing first
   * makes the earlier commits durable too).
   */
  private syncWal(): void {
    if (this.syncStartedUpTo >= this.commits || this.waiting.length === 0) return;
    if (this.syncsInFlight >= MAX_SYNCS) return;
    const upTo = this.commits;
    this.syncStartedUpTo = upTo;
    this.syncsInFlight++;
    const done = (error: unknown) => {
      this.syncsInFlight--;
      if (error) {
        this.markSyncFailed(error);
        while (this.waiting.length > 0 && this.waiting[0]!.commit <= upTo) {
          const { settled } = this.waiting.shift()!;
          settled.write.reject(
            withCause(HooksterError.of('SystemError', 'The commit could not be synced.'), error),
          );
        }
      } else {
        this.durableUpTo = Math.max(this.durableUpTo, upTo);
        while (this.waiting.length > 0 && this.waiting[0]!.commit <= this.durableUpTo)
          answer(this.waiting.shift()!.settled);
      }
      this.syncWal();
      if (this.deferred) {
        this.deferred = false;
        this.flush();
      }
      this.resolveIdle();
    };
    this.startSync(done, true);
  }
}

function answer(s: Settled): void {
  if (s.ok) s.write.resolve(s.value);
  else s.write.reject(s.value);
}

function withCause(target: HooksterError, cause: unknown): HooksterError {
  Object.defineProperty(target, 'cause', { value: cause, enumerable: false });
  return target;
}
