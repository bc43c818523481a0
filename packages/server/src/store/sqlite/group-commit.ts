// Group commit: every write of one event-loop turn runs in ONE transaction (BEGIN IMMEDIATE … COMMIT),
// each in its own SAVEPOINT so one failing write does not undo the others, and every caller is answered
// only after COMMIT returned. Why: with synchronous=FULL each commit costs an fsync of the WAL; sharing
// it between all writes that arrived together is what lets thousands of durable submits per second through.

import type { Database, Statement } from 'better-sqlite3';
import { translateError } from './errors.js';

interface QueuedWrite {
  run: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private synchronous: 'FULL' | 'NORMAL' = 'FULL';
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(
    private readonly db: Database,
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
   * in a power failure is harmless (leases: an expired lease is simply taken again); a batch made only
   * of those commits without the fsync, and the next durable commit syncs the WAL up to it anyway.
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

  /** Runs everything queued now, synchronously (also used by close()). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.setSynchronous(batch.some((write) => write.durable) ? 'FULL' : 'NORMAL');
    const outcomes: { ok: boolean; value: unknown }[] = [];
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
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.rollbackTo.run();
        this.release.run();
        outcomes.push({ ok: false, value: translateError(error) });
      }
    }
    try {
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      for (const write of batch) write.reject(translateError(error));
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    });
    this.afterCommit();
  }

  private setSynchronous(mode: 'FULL' | 'NORMAL'): void {
    if (this.synchronous === mode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.synchronous = mode;
  }
}
