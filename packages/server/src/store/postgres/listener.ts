// Cross-process wake-ups: one dedicated LISTEN connection, re-established after any loss.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  createClient,
  quoteIdent,
  watchConnection,
  type ErrorSink,
  type PostgresSettings,
} from './connection.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;

/** The NOTIFY channel of one schema (channel names are identifiers: at most 63 bytes). */
export function workChannel(schema: string): string {
  const name = `hookster_work_${schema}`;
  return name.length <= 63 ? name : `hookster_work_${createHash('sha1').update(schema).digest('hex')}`;
}

/**
 * Why a dedicated client and not the pool: LISTEN is a session property, and a pooled connection
 * would lose it when recycled. The connection is opened when the first listener registers. When it is
 * lost (server restart, terminated backend, network) it is re-opened with backoff; notifications
 * sent meanwhile are gone, so after every reconnect the listeners are called once and the dispatcher
 * re-claims whatever became due. Errors are reported to the sink, never thrown.
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private started = false;
  private connectedBefore = false;
  private closed = false;
  private retryMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: PostgresSettings,
    private readonly channel: string,
    /** NOTIFY payload of this process's own commits, which already called the listeners. */
    private readonly ownPayload: string,
    private readonly onError: ErrorSink,
  ) {}

  add(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  fire(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        this.onError('onWork listener threw', error);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = createClient(this.settings);
    this.client = client;
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', (error) => {
      this.onError('PostgreSQL LISTEN connection failed', error);
      onLost();
    });
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.payload !== this.ownPayload) this.fire();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      if (!lost) this.onError('PostgreSQL LISTEN connection could not be opened', error);
      onLost();
      return;
    }
    if (lost || this.closed) return;
    watchConnection(
      client,
      () => lost || this.closed,
      () => {
        this.onError('PostgreSQL LISTEN connection stopped answering', new Error('heartbeat timed out'));
        onLost();
      },
    );
    this.retryMs = FIRST_RETRY_MS;
    // A first connect missed nothing (the dispatcher claims when it starts); a reconnect may have.
    if (this.connectedBefore) this.fire();
    this.connectedBefore = true;
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, wait);
    this.timer.unref();
  }
}
