// Websocket deliveries are pushed right after their commit and their outcome recorded a moment later.
// A process that stops in between (a crash, kill -9) leaves them pending for good; this sweeper, run by
// every process that pushes (roles api and all), marks those still pending STALE_AFTER_MS after their
// commit or release as failed with the reason — fire-and-forget: nothing is pushed late, out of order.

import type { Logger } from 'pino';
import type { Store } from '../store/contract.js';

/** A push and its outcome take milliseconds (a remote process's outcome at most wsOutcomeWait). */
export const STALE_AFTER_MS = 5 * 60_000;
const SWEEP_EVERY_MS = 60_000;
const BATCH = 1_000;
export const STALE_REASON = 'not pushed: the engine stopped before pushing it or recording its outcome';

export interface StaleSweeper {
  stop(): Promise<void>;
}

export function startStaleSweeper(
  store: Store,
  logger: Logger,
  options: { staleAfterMs?: number; everyMs?: number } = {},
): StaleSweeper {
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function sweep(): Promise<void> {
    try {
      let total = 0;
      for (;;) {
        const count = await store.failStaleWebsocketDeliveries(
          Date.now() - staleAfterMs,
          STALE_REASON,
          BATCH,
        );
        total += count;
        if (count < BATCH || stopped) break;
      }
      if (total > 0)
        logger.warn(
          { count: total },
          'websocket deliveries left unpushed by a stopped process marked failed',
        );
    } catch (error) {
      logger.error({ err: error }, 'sweeping stale websocket deliveries failed');
    }
  }

  function tick(): void {
    running ??= sweep().finally(() => {
      running = undefined;
    });
  }

  tick();
  const timer = setInterval(tick, options.everyMs ?? SWEEP_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
