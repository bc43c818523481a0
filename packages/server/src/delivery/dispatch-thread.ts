// Runs the webhook dispatcher on a worker thread (HOOKSTER_DISPATCH_THREAD), so the second core sends
// and records deliveries while the main thread serves submissions. The thread opens its own store
// connection; the main thread wakes it after each commit of its own (the thread's store only sees its own
// commits — and, on PostgreSQL, other processes' NOTIFYs) and receives its metrics by message.

import { Worker, type ResourceLimits, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { HooksterConfig } from '../config/types.js';
import type { Dispatcher, PartDeps } from '../engine-parts.js';
import { workerTarget } from '../store/sqlite/worker-target.js';
import { releaseAbandoned, sqlitePathOf, writeLockOf } from '../store/sqlite/write-lock.js';
import type { DeliveryMetrics } from './dispatcher.js';

/** Metric updates accumulated in the thread during one event-loop turn. */
export interface MetricsDelta {
  deliveries: Record<string, number>;
  durations: Record<string, number[]>;
  queueDepth?: number;
}

export interface ThreadData {
  config: HooksterConfig;
  writeLock: SharedArrayBuffer | undefined;
}

export type ToThread = { type: 'wake' } | { type: 'stop' };
/** `stopped` carries the reason the thread's stop failed (e.g. its last WAL sync), if it did. */
type FromThread =
  { type: 'started' } | { type: 'stopped'; error?: string } | { type: 'metrics'; delta: MetricsDelta };

/** Wait before starting a thread again after it died unexpectedly. */
const RESTART_DELAY_MS = 1_000;

/**
 * The node flags the thread starts with. A worker refuses V8 and process-wide flags (e.g.
 * `node --max-old-space-size=4096 …`: ERR_WORKER_INVALID_EXEC_ARGV, which names them), so those are
 * left out; a heap limit given to the process applies to the thread through its resource limits.
 */
export function threadFlags(execArgv: readonly string[]): {
  execArgv: string[];
  resourceLimits: ResourceLimits;
} {
  const resourceLimits: ResourceLimits = {};
  for (const flag of execArgv) {
    const old = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(flag);
    if (old) resourceLimits.maxOldGenerationSizeMb = Number(old[1]);
  }
  return { execArgv: [...execArgv], resourceLimits };
}

/** Starts a worker, leaving out the node flags a worker cannot take (named once in a warning). */
export function startWorker(
  target: string | URL,
  options: WorkerOptions,
  flags: { execArgv: string[] },
  logger: Pick<Logger, 'warn'>,
): Worker {
  for (;;) {
    try {
      return new Worker(target, { ...options, execArgv: flags.execArgv });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ERR_WORKER_INVALID_EXEC_ARGV' || flags.execArgv.length === 0) throw error;
      // "Initiated Worker with invalid execArgv flags: --a=1, --b"; if the names cannot be read, none.
      const named = /flags: (.+)$/.exec((error as Error).message)?.[1]?.split(', ') ?? [];
      const kept = flags.execArgv.filter((flag) => !named.includes(flag));
      const dropped = kept.length < flags.execArgv.length ? named : flags.execArgv;
      logger.warn(
        { flags: dropped },
        'the dispatch thread starts without node flags a worker thread cannot take',
      );
      flags.execArgv = kept.length < flags.execArgv.length ? kept : [];
    }
  }
}

export interface ThreadDispatcherOptions extends PartDeps {
  metrics?: DeliveryMetrics;
}

/** True when the database can be opened by a second connection (not an in-memory SQLite database). */
export function canDispatchOnThread(databaseUrl: string): boolean {
  return !/^sqlite:(:memory:)?$/.test(databaseUrl);
}

export function createThreadDispatcher(deps: ThreadDispatcherOptions): Dispatcher {
  const { config, store, logger, metrics } = deps;
  // dispatch-worker.js from dist/, or its TypeScript source through a tsx bootstrap.
  const entry = workerTarget(import.meta.url, 'dispatch-worker');
  let worker: Worker | undefined;
  let unsubscribe: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  let stopFailure: string | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  // Whether the current thread has started taking work; the first start's outcome (engine start waits).
  let running = false;
  let firstStart: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const firstStarted = new Promise<void>((resolve, reject) => (firstStart = { resolve, reject }));
  // Handled here: a start() without ready() (or a stop before it) leaves no unhandled rejection.
  firstStarted.catch(() => undefined);
  // SQLite: both connections of this process take turns on one lock instead of SQLite's sleeping busy wait.
  const sqlitePath = sqlitePathOf(config.databaseUrl);
  const writeLock = sqlitePath === undefined ? undefined : writeLockOf(sqlitePath);

  function apply(delta: MetricsDelta): void {
    if (metrics === undefined) return;
    for (const [outcome, count] of Object.entries(delta.deliveries))
      metrics.deliveries.inc({ outcome }, count);
    for (const [outcome, seconds] of Object.entries(delta.durations)) {
      for (const value of seconds) metrics.attemptDuration.observe({ outcome }, value);
    }
    if (delta.queueDepth !== undefined) metrics.queueDepth.set(delta.queueDepth);
  }

  // Worked out at the first start (restarts reuse it without warning again).
  const flags = threadFlags(process.execArgv);

  function spawn(): void {
    const thread = startWorker(
      entry.target,
      {
        eval: entry.eval,
        workerData: { config, writeLock } satisfies ThreadData,
        env: process.env,
        resourceLimits: flags.resourceLimits,
      },
      flags,
      logger,
    );
    worker = thread;
    running = false;
    // Read now: the lock word holds it while the thread is in a transaction (write-lock.ts).
    const threadId = thread.threadId;
    thread.on('message', (message: FromThread) => {
      if (message.type === 'metrics') apply(message.delta);
      else if (message.type === 'started') {
        running = true;
        firstStart?.resolve();
        firstStart = undefined;
      } else if (message.type === 'stopped' && message.error !== undefined) stopFailure = message.error;
    });
    thread.on('error', (error) => logger.error({ err: error }, 'dispatch thread failed'));
    thread.on('exit', (code) => {
      if (worker === thread) {
        worker = undefined;
        running = false;
      }
      // The first thread never started: the engine's start fails (all or nothing) instead of serving
      // submissions that nothing delivers.
      if (firstStart !== undefined) {
        firstStart.reject(new Error(`the dispatch thread ended (code ${code}) before it started`));
        firstStart = undefined;
        return;
      }
      // Ended inside a transaction (out of memory: no `finally` ran): the write lock would stay taken and
      // the main thread's commits (every submission), the next thread's and the stop wait for ever.
      if (writeLock !== undefined && releaseAbandoned(new Int32Array(writeLock), threadId)) {
        logger.error({ code }, 'the dispatch thread ended holding the write lock: released');
      }
      if (stopping !== undefined) return;
      logger.error({ code }, `dispatch thread exited; starting it again in ${RESTART_DELAY_MS} ms`);
      restartTimer = setTimeout(respawn, RESTART_DELAY_MS);
    });
  }

  function respawn(): void {
    try {
      spawn();
    } catch (error) {
      logger.error({ err: error }, `dispatch thread could not start; trying again in ${RESTART_DELAY_MS} ms`);
      restartTimer = setTimeout(respawn, RESTART_DELAY_MS);
    }
  }

  return {
    start() {
      if (worker !== undefined || stopping !== undefined) return;
      spawn();
      unsubscribe = store.onWork(() => worker?.postMessage({ type: 'wake' } satisfies ToThread));
    },
    ready() {
      return firstStarted;
    },
    unavailable() {
      if (running || stopping !== undefined) return undefined;
      return worker === undefined
        ? 'the dispatch thread ended; it is started again'
        : 'the dispatch thread is starting';
    },
    wake() {
      worker?.postMessage({ type: 'wake' } satisfies ToThread);
    },
    stop() {
      stopping ??= (async () => {
        unsubscribe?.();
        if (restartTimer !== undefined) clearTimeout(restartTimer);
        const thread = worker;
        if (thread === undefined) return;
        // The thread records its in-flight attempts and closes its store, then exits.
        const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
        thread.postMessage({ type: 'stop' } satisfies ToThread);
        await exited;
        // Its store could not close cleanly (the last commits not synced): the engine's stop fails too.
        if (stopFailure !== undefined) throw new Error(`the dispatch thread's stop failed: ${stopFailure}`);
      })();
      return stopping;
    },
  };
}
