// The gateway bus on PostgreSQL LISTEN/NOTIFY: one dedicated connection per process both announces
// (NOTIFY) and listens, re-opened with backoff after any loss.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createClient, parsePostgresUrl, quoteIdent, watchConnection } from '../store/postgres/connection.js';
import { decodeAnnouncement, encodeAnnouncement, type GatewayBus, type PushAnnouncement } from './bus.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;
/** NOTIFY payloads must be shorter than 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7_900;

/** One channel per schema, so engines sharing a database but not a schema do not hear each other. */
export function websocketChannel(schema: string): string {
  const name = `hookster_ws_${schema}`;
  return name.length <= 63 ? name : `hookster_ws_${createHash('sha1').update(schema).digest('hex')}`;
}

export function createPostgresBus(databaseUrl: string, origin: string, logger: Logger): GatewayBus {
  const settings = parsePostgresUrl(databaseUrl);
  const channel = websocketChannel(settings.schema);
  const listeners: ((announcement: PushAnnouncement) => void)[] = [];
  let client: pg.Client | undefined;
  let ready = false;
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | undefined;
  const inflight = new Set<Promise<unknown>>();
  let markReady: () => void = () => undefined;
  const firstReady = new Promise<void>((resolve) => (markReady = resolve));

  // Why one connection for NOTIFY too: queries on one client run in call order, so announcements
  // leave in commit order and other processes push a conversation's activities in order.
  function connect(): void {
    if (closed) return;
    const current = createClient(settings);
    client = current;
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      ready = false;
      if (client === current) client = undefined;
      current.removeAllListeners('notification');
      current.end().catch(() => undefined);
      if (closed) return;
      const wait = retryMs;
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      timer = setTimeout(connect, wait);
      timer.unref();
    };
    current.on('error', (error) => {
      logger.warn({ err: error }, 'websocket bus connection failed');
      onLost();
    });
    current.on('end', onLost);
    current.on('notification', (message) => {
      if (message.channel !== channel || message.payload === undefined) return;
      const announcement = decodeAnnouncement(message.payload);
      if (!announcement || announcement.origin === origin) return;
      for (const listener of listeners) listener(announcement);
    });
    current
      .connect()
      .then(() => current.query(`LISTEN ${quoteIdent(channel)}`))
      .then(() => {
        if (lost) return;
        watchConnection(
          current,
          () => lost || closed,
          () => {
            logger.warn('websocket bus connection stopped answering: opening another');
            onLost();
          },
        );
        ready = true;
        retryMs = FIRST_RETRY_MS;
        markReady();
      })
      .catch((error: unknown) => {
        if (!lost) logger.warn({ err: error }, 'websocket bus could not listen');
        onLost();
      });
  }
  connect();

  return {
    maxMessageBytes: MAX_PAYLOAD_BYTES,
    publish(announcement) {
      const current = client;
      if (!current || !ready) {
        logger.debug({ eventId: announcement.eventId }, 'websocket bus down: announcement dropped');
        return;
      }
      const payload = encodeAnnouncement(announcement, MAX_PAYLOAD_BYTES);
      const sending = current
        .query('SELECT pg_notify($1, $2)', [channel, payload])
        .catch((error: unknown) => logger.warn({ err: error }, 'websocket bus NOTIFY failed'))
        .finally(() => inflight.delete(sending));
      inflight.add(sending);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    ready: () => firstReady,
    async close() {
      closed = true;
      await Promise.all(inflight);
      if (timer !== undefined) clearTimeout(timer);
      const current = client;
      client = undefined;
      if (current) await current.end().catch(() => undefined);
    },
  };
}
