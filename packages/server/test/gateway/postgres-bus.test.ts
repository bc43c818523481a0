// The PostgreSQL bus of the gateway: announcements between two connections, size limit, and
// listening again after the server terminated the listening connection.

import pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayBus, PushAnnouncement } from '../../src/gateway/bus.js';
import { createPostgresBus, websocketChannel } from '../../src/gateway/postgres-bus.js';
import {
  TEST_POSTGRES_URL,
  freshSchemaUrl,
  postgresAvailable,
  startProxy,
  throughProxy,
} from '../../src/store/postgres/test-database.js';

const available = await postgresAvailable();
const logger = pino({ level: 'silent' });
const buses: GatewayBus[] = [];

afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
});

function announcement(origin: string, eventId: number, activityJson?: string): PushAnnouncement {
  return {
    origin,
    conversationId: '0b4d6f8a-1c3e-4b5d-8f21-017767496800',
    eventId,
    deliveries: [
      { deliveryId: `d${eventId}`, integrationId: 'e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0', echo: false },
    ],
    ...(activityJson === undefined ? {} : { activityJson }),
  };
}

function inbox(bus: GatewayBus): {
  received: PushAnnouncement[];
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
} {
  const received: PushAnnouncement[] = [];
  const waiters = new Set<() => void>();
  bus.subscribe((a) => {
    received.push(a);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    received,
    until(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`got ${received.length} announcements`)), timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

describe.runIf(available)('gateway bus on PostgreSQL LISTEN/NOTIFY', () => {
  const { url, schema } = freshSchemaUrl('bus');

  it('carries announcements in order to the other process only, without the activity when too large', async () => {
    const a = createPostgresBus(url, 'process-a', logger);
    const b = createPostgresBus(url, 'process-b', logger);
    buses.push(a, b);
    const atA = inbox(a);
    const atB = inbox(b);
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 1; i <= 20; i++) a.publish(announcement('process-a', i, `{"eventId":${i}}`));
    a.publish(announcement('process-a', 21, JSON.stringify({ text: 'x'.repeat(10_000) })));
    await atB.until(() => atB.received.length === 21);
    expect(atB.received.map((x) => x.eventId)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(atB.received[0]?.activityJson).toBe('{"eventId":1}');
    expect(atB.received[20]?.activityJson).toBeUndefined();
    expect(atA.received).toEqual([]);
  });

  it('listens again after the server terminates its connection', async () => {
    const a = createPostgresBus(url, 'process-c', logger);
    const b = createPostgresBus(url, 'process-d', logger);
    buses.push(a, b);
    const atB = inbox(b);
    await Promise.all([a.ready(), b.ready()]);
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
        [`LISTEN "${websocketChannel(schema)}"`],
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.end();
    }
    // Announce until the re-opened listener hears one (bounded by the inbox's 10 s).
    let eventId = 100;
    const heard = atB.until(() => atB.received.length > 0);
    const sender = setInterval(() => a.publish(announcement('process-c', eventId++)), 50);
    try {
      await heard;
    } finally {
      clearInterval(sender);
    }
    expect(atB.received[0]?.origin).toBe('process-c');
  });
  it('listens again after the network under its connection went silent', async () => {
    const proxy = await startProxy();
    try {
      const a = createPostgresBus(url, 'process-e', logger);
      const b = createPostgresBus(throughProxy(url, proxy.port), 'process-f', logger);
      buses.push(a, b);
      const atB = inbox(b);
      await Promise.all([a.ready(), b.ready()]);
      // No FIN, no RST: b's connection looks open to both ends, and announcements stop arriving.
      proxy.freeze();
      let eventId = 200;
      const heard = atB.until(() => atB.received.length > 0, 20_000);
      const sender = setInterval(() => a.publish(announcement('process-e', eventId++)), 100);
      try {
        await heard;
      } finally {
        clearInterval(sender);
      }
      expect(atB.received[0]?.origin).toBe('process-e');
    } finally {
      await proxy.close();
    }
  }, 40_000);
});
