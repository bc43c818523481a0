// The dispatcher's thread (HOOKSTER_DISPATCH_THREAD): runs a dispatcher on its own store connection,
// woken by the main thread after each of its commits, and forwards its metrics to the main registry.

import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { openStore } from '../store/open.js';
import { adoptWriteLock, sqlitePathOf } from '../store/sqlite/write-lock.js';
import type { DeliveryMetrics } from './dispatcher.js';
import { createDispatcher } from './dispatcher.js';
import type { MetricsDelta, ThreadData, ToThread } from './dispatch-thread.js';

/** Metric updates are posted at most this often (a message per turn cost ~1 % of the thread's time). */
const METRICS_EVERY_MS = 100;

/** Accumulates metric updates and posts them every METRICS_EVERY_MS. */
function forwardingMetrics(post: (delta: MetricsDelta) => void): DeliveryMetrics & { flush(): void } {
  let delta: MetricsDelta | undefined;
  let scheduled = false;
  const pending = (): MetricsDelta => {
    delta ??= { deliveries: {}, durations: {} };
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, METRICS_EVERY_MS).unref();
    }
    return delta;
  };
  function flush(): void {
    scheduled = false;
    if (delta === undefined) return;
    const sent = delta;
    delta = undefined;
    post(sent);
  }
  return {
    deliveries: {
      inc(labels, value = 1) {
        const d = pending();
        d.deliveries[labels.outcome] = (d.deliveries[labels.outcome] ?? 0) + value;
      },
    },
    attemptDuration: {
      observe(labels, seconds) {
        (pending().durations[labels.outcome] ??= []).push(seconds);
      },
    },
    queueDepth: {
      set(value) {
        pending().queueDepth = value;
      },
    },
    flush,
  };
}

/**
 * Linux: puts this thread `steps` nice values below what it has (the process's). When the cores are
 * busy, the main thread — whose answers producers wait for — then gets a core first after its WAL sync,
 * and the deliveries it committed wait in the database a little longer. Measured on 2 cores
 * (docs/benchmarks.md, twelfth session, 5 nice steps): +4 to +22 % deliveries/s by round, median +5.5 %,
 * with the slowest paced deliveries ~0.3 ms slower. Raising one's own nice value needs no privilege.
 * Elsewhere a thread cannot be named to setpriority(): nothing happens.
 */
function lowerThreadPriority(steps: number, logger: Pick<Logger, 'debug'>): void {
  if (steps <= 0 || process.platform !== 'linux') return;
  try {
    // "<pid>/task/<tid>": setpriority(PRIO_PROCESS, tid) sets the nice value of that one thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + steps));
  } catch (error) {
    logger.debug({ err: error }, 'the dispatch thread keeps the CPU priority of the main thread');
  }
}

async function run(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('dispatch-worker runs only as a worker thread.');
  const { config, writeLock } = workerData as ThreadData;
  const sqlitePath = sqlitePathOf(config.databaseUrl);
  if (sqlitePath !== undefined && writeLock !== undefined) adoptWriteLock(sqlitePath, writeLock);
  const logger = pino({ level: config.logLevel, base: { role: config.role, thread: 'dispatch' } });
  lowerThreadPriority(config.dispatchThreadNice ?? 0, logger);
  // The main thread migrated the database before starting this thread.
  // A smaller page cache than the main connection's: claims and records touch the recent pages only,
  // and two 64 MiB caches showed as ~90 MB more RSS while a backlog drained.
  // In a `--role worker` process the API process writes deliveries from fanouts too and cannot see this
  // thread's hand-off: no flights, or a read of the delivery log there would send them again.
  const store = await openStore(config.databaseUrl, {
    cacheSizeKiB: 16_384,
    handoff: config.role !== 'worker',
    syncIntervalMs: config.syncIntervalMs,
    statementTimeoutMs: config.pgStatementTimeoutMs,
    // The engine's main store runs the checkpoint thread of this file.
    checkpoints: 'elsewhere',
  });
  const metrics = forwardingMetrics((delta) => port.postMessage({ type: 'metrics', delta }));
  const dispatcher = createDispatcher({ config, store, logger, metrics });
  let stopping = false;
  port.on('message', (message: ToThread) => {
    if (message.type === 'wake') dispatcher.wake?.();
    else if (message.type === 'stop' && !stopping) {
      stopping = true;
      void (async () => {
        let failure: string | undefined;
        try {
          await dispatcher.stop();
          await store.close();
        } catch (error) {
          logger.error({ err: error }, 'stopping the dispatch thread failed');
          failure = error instanceof Error ? error.message : String(error);
        }
        metrics.flush();
        port.postMessage(failure === undefined ? { type: 'stopped' } : { type: 'stopped', error: failure });
        port.close();
      })();
    }
  });
  dispatcher.start();
  port.postMessage({ type: 'started' });
}

await run();
