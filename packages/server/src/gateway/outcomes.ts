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

  /** Resolves once everything added so far is written (or its failure logged). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
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
