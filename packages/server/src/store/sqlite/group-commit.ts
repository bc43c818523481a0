// Group commit: every write of one event-loop turn runs in ONE transaction (BEGIN IMMEDIATE … COMMIT),
// each in its own SAVEPOINT so one failing write does not undo the others. Durability: the connection
// runs synchronous=NORMAL (COMMIT writes the WAL frames without fsync) and a durable write is answered
// only after an fdatasync of the WAL file that started after its COMMIT — the same guarantee as
// synchronous=FULL, but the fsync runs on the libuv pool while the event loop keeps serving requests,
// and one fsync covers every transaction committed while the previous one was in flight.
// (Checkpoints sync the WAL before copying it and the database after, so a frame acknowledged here is
// durable whether it is still in the WAL or already in the database file.)

import { fdatasync, openSync, closeSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import { HooksterError } from '../../domain/errors.js';
import { translateError } from './errors.js';

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
  /** Committed durable writes waiting for the next WAL sync. */
  private unsynced: Settled[] = [];
  private syncing = false;
  private walFd: number | undefined;
  private idleWaiters: (() => void)[] = [];
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
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const write of batch) write.reject(new Error('The SQLite store is closed.'));
      return;
    }
    const settled: Settled[] = [];
    try {
      this.begin.run();
    } catch (error) {
      for (const write of batch) write.reject(translateError(error));
      return;
    }
    for (const write of batch) {
      this.savepoint.run();
      try {
        const value = write.run();
        this.release.run();
        settled.push({ write, ok: true, value });
      } catch (error) {
        this.rollbackTo.run();
        this.release.run();
        settled.push({ write, ok: false, value: translateError(error) });
      }
    }
    try {
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      for (const write of batch) write.reject(translateError(error));
      return;
    }
    for (const s of settled) {
      // Failed writes changed nothing; non-durable ones need no sync: answer both now.
      if (!s.ok || !s.write.durable || this.walPath === undefined) answer(s);
      else this.unsynced.push(s);
    }
    this.afterCommit();
    this.syncWal();
  }

  /** Resolves once every write committed so far is answered (used by close()). */
  whenIdle(): Promise<void> {
    this.flush();
    if (!this.syncing && this.unsynced.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Closes the WAL descriptor (after whenIdle). */
  close(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private syncWal(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const waiting = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    const done = (error: unknown) => {
      this.syncing = false;
      for (const s of waiting) {
        if (error)
          s.write.reject(
            withCause(HooksterError.of('SystemError', 'The commit could not be synced.'), error),
          );
        else answer(s);
      }
      if (this.unsynced.length > 0) this.syncWal();
      else for (const resolve of this.idleWaiters.splice(0)) resolve();
    };
    try {
      this.walFd ??= openSync(this.walPath!, 'r');
    } catch (error) {
      // No WAL file yet: SQLite creates it with the first changed page, so these commits wrote nothing.
      done((error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : error);
      return;
    }
    fdatasync(this.walFd, done);
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
