// Records websocket outcomes off the push path, coalescing bursts into one store call.

import type { Logger } from 'pino';
import type { Guid } from '../domain/types.js';
import type { Store } from '../store/contract.js';

export interface WebsocketOutcome {
  deliveryId: Guid;
  delivered: boolean;
  error?: string;
}

export class OutcomeWriter {
  private pending: WebsocketOutcome[] = [];
  /** Outcomes held back until `due` (FIFO: one delay for all, so dues only grow). */
  private deferred: { due: number; outcomes: WebsocketOutcome[] }[] = [];
  private deferTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly store: Store;
  private readonly logger: Logger;
  /** Largest batch handed to the store in one call. */
  private readonly maxBatch: number;

  constructor(store: Store, logger: Logger, maxBatch = 500) {
    this.store = store;
    this.logger = logger;
    this.maxBatch = maxBatch;
  }

  add(outcomes: WebsocketOutcome[]): void {
    if (outcomes.length === 0) return;
    this.pending.push(...outcomes);
    this.flushing ??= this.flush();
  }

  /**
   * Adds the outcomes after `delayMs`. Used for "not delivered" when other processes may still push
   * the activity: their "delivered" lands first and the store ignores the later, stale failure.
   */
  addLater(outcomes: WebsocketOutcome[], delayMs: number): void {
    if (outcomes.length === 0) return;
    this.deferred.push({ due: Date.now() + delayMs, outcomes });
    this.scheduleDeferred();
  }

  /** Writes every deferred outcome now and resolves once everything is written (or logged). */
  async drain(): Promise<void> {
    clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    for (const entry of this.deferred.splice(0)) this.add(entry.outcomes);
    while (this.flushing) await this.flushing;
  }

  private scheduleDeferred(): void {
    if (this.deferTimer !== undefined) return;
    const head = this.deferred[0];
    if (!head) return;
    this.deferTimer = setTimeout(
      () => {
        this.deferTimer = undefined;
        const now = Date.now();
        while (this.deferred.length > 0 && (this.deferred[0]?.due ?? Infinity) <= now) {
          this.add(this.deferred.shift()?.outcomes ?? []);
        }
        this.scheduleDeferred();
      },
      Math.max(0, head.due - Date.now()),
    );
    this.deferTimer.unref();
  }

  // One writer at a time: while a store call runs, new outcomes accumulate and go in the next call.
  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          await this.store.recordWebsocketOutcomes(batch);
        } catch (error) {
          // Fire-and-forget: the push already happened; a lost outcome is logged, never retried.
          this.logger.error({ err: error, count: batch.length }, 'recording websocket outcomes failed');
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
