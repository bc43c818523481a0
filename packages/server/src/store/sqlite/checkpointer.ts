// WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the COMMIT that
// crosses its mark: that thread — the one answering submissions, or the dispatch thread — stops for the
// whole copy and the sync of the database file (7–13 ms every ~8,000 frames here, the largest source of
// the engine's slowest deliveries: docs/benchmarks.md, twelfth session). Here a third connection copies
// the frames while the writers go on, and the writers' own automatic checkpoint is only a safety net.

import { Worker } from 'node:worker_threads';
import type { CheckpointThreadData, FromCheckpointThread, ToCheckpointThread } from './checkpoint-worker.js';
import { workerTarget } from './worker-target.js';
import { releaseAbandoned } from './write-lock.js';

/** How often the thread copies what was committed (ms). About as often as 8,000 frames under load. */
export const CHECKPOINT_INTERVAL_MS = 500;
/** WAL frames (of 4 KiB pages: 64 MiB) after which the thread makes the WAL start again. */
export const RESTART_FRAMES = 16_000;
/**
 * The committing connections' own automatic checkpoint while a checkpoint thread runs, in multiples of
 * the thread's restart mark: reached only if the thread falls far behind.
 */
export const SAFETY_FACTOR = 4;

export interface CheckpointerOptions {
  path: string;
  lock: SharedArrayBuffer | undefined;
  intervalMs?: number;
  restartFrames?: number;
  /** The thread failed and ended (the committing connections must checkpoint again themselves). */
  onFailure: (reason: string) => void;
}

export interface Checkpointer {
  /** Ends the thread after its current checkpoint (closing its connection). */
  stop(): Promise<void>;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(error);
}

export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const entry = workerTarget(import.meta.url, 'checkpoint-worker');
  let worker: Worker;
  try {
    worker = new Worker(entry.target, {
      eval: entry.eval,
      workerData: {
        path: options.path,
        lock: options.lock,
        intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
        restartFrames: options.restartFrames ?? RESTART_FRAMES,
      } satisfies CheckpointThreadData,
    });
  } catch (error) {
    // No thread (e.g. ERR_WORKER_INIT_FAILED): the store checkpoints inline, as after a failure.
    queueMicrotask(() => options.onFailure(reasonOf(error)));
    return { stop: () => Promise.resolve() };
  }
  // A store left open does not keep the process alive for its checkpoints.
  worker.unref();
  const threadId = worker.threadId;
  let stopping = false;
  let reported = false;
  const fail = (reason: string): void => {
    if (reported || stopping) return;
    reported = true;
    options.onFailure(reason);
  };
  worker.on('message', (message: FromCheckpointThread) => {
    if (message.type === 'failed') fail(message.message);
  });
  // Not expected (the thread reports its own failures): an error thrown out of it arrives structured-
  // cloned, a driver error as no more than its `code`.
  worker.on('error', (error: unknown) => fail(reasonOf(error)));
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      // Ended inside its locked pass without running `finally` (out of memory): every write of the
      // process would wait for the lock for ever.
      if (options.lock !== undefined) releaseAbandoned(new Int32Array(options.lock), threadId);
      fail(`the checkpoint thread ended (code ${code})`);
      resolve();
    });
  });
  return {
    async stop() {
      if (!stopping) {
        stopping = true;
        // Kept alive until the thread has ended: awaiting an unref'ed thread, a process with nothing else
        // to do would exit in the middle of its stop (and skip whatever the caller does after it).
        worker.ref();
        worker.postMessage({ type: 'stop' } satisfies ToCheckpointThread);
      }
      await exited;
    },
  };
}
