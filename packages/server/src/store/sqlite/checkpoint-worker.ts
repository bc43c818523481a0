// The checkpoint thread (checkpointer.ts): copies the WAL into the database file on a connection of its
// own, so that the threads that commit never run a checkpoint inside a COMMIT.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { lockBlocking, unlock } from './write-lock.js';

export interface CheckpointThreadData {
  /** The database file (its real path: the WAL is next to it). */
  path: string;
  /** The write lock of the process's connections to the file (write-lock.ts). */
  lock: SharedArrayBuffer | undefined;
  intervalMs: number;
  restartFrames: number;
}

export type ToCheckpointThread = { type: 'stop' };
export type FromCheckpointThread = { type: 'failed'; message: string };

interface CheckpointResult {
  /** 1 when the checkpoint could not run (or, RESTART, finish) because of another connection. */
  busy: number;
  /** Frames in the WAL when it started; frames copied into the database file. */
  log: number;
  checkpointed: number;
}

/** After a restart that found a reader or another process's writer in the way: try again this soon. */
const RETRY_MS = 10;

function reportFailure(port: MessagePort, error: unknown): void {
  port.postMessage({
    type: 'failed',
    message: error instanceof Error ? error.message : String(error),
  } satisfies FromCheckpointThread);
}

function run(port: MessagePort): void {
  const { path, lock, intervalMs, restartFrames } = workerData as CheckpointThreadData;
  const shared = lock === undefined ? undefined : new Int32Array(lock);
  // Never creates the file: the store opened it (a file removed since is the store's check() to report).
  const db = new Database(path, { fileMustExist: true });
  // A checkpoint on a synchronous=NORMAL connection syncs the WAL before it copies frames into the
  // database file, and the database file before the WAL may start again from its beginning — the
  // order SQLite's automatic checkpoint keeps on the committing connections.
  db.pragma('synchronous = NORMAL');
  // RESTART gives up at once when a reader or another process's writer is in the way (tried again in
  // RETRY_MS) rather than sleeping in SQLite's busy handler while this process's writers wait for it.
  db.pragma('busy_timeout = 0');
  const checkpoint = (mode: 'PASSIVE' | 'RESTART'): CheckpointResult =>
    (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0]!;

  let timer: NodeJS.Timeout | undefined;
  // The WAL's length at the last RESTART that found nothing in the way: until a commit starts the WAL
  // again, the next turns see the same length and have nothing to restart.
  let restartedAt = -1;
  const finish = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (db.open) db.close();
    port.close();
  };
  const turn = (): void => {
    timer = undefined;
    let delay = intervalMs;
    try {
      // PASSIVE takes no lock the writers need: they go on committing while the frames are copied.
      const pass = checkpoint('PASSIVE');
      if (pass.busy === 0 && pass.log >= restartFrames && pass.log !== restartedAt) {
        // The WAL is long enough to start again from its beginning (else it grows for ever). SQLite
        // does that at the first write after a checkpoint has copied every frame with no reader left in
        // the WAL. The frames committed while the first pass ran are copied here without the lock; then,
        // holding the process's write lock so that no commit of this process comes in between, RESTART
        // copies the last few and waits for no reader.
        checkpoint('PASSIVE');
        if (shared !== undefined) lockBlocking(shared);
        let restart: CheckpointResult;
        try {
          restart = checkpoint('RESTART');
        } finally {
          if (shared !== undefined) unlock(shared);
        }
        if (restart.busy !== 0) delay = RETRY_MS;
        else restartedAt = restart.log;
      }
    } catch (error) {
      // Another connection held a lock this pass needed (a process recovering the WAL): next turn.
      if (!/^SQLITE_(BUSY|LOCKED)/.test((error as { code?: string }).code ?? '')) {
        reportFailure(port, error);
        finish();
        return;
      }
    }
    timer = setTimeout(turn, delay);
  };
  port.on('message', (message: ToCheckpointThread) => {
    if (message.type === 'stop') finish();
  });
  timer = setTimeout(turn, intervalMs);
}

if (parentPort === null) throw new Error('checkpoint-worker runs only as a worker thread.');
const port = parentPort;
try {
  run(port);
} catch (error) {
  // Opening the database or setting up the connection failed: nothing to close but the port.
  reportFailure(port, error);
  port.close();
}
