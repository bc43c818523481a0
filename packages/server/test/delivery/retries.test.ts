// Engine e2e: retries at the scheduled offsets for each failure mode, Retry-After on 429, 410 stops at once.
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import {
  type DeliveryWorld,
  addSystem,
  finalDelivery,
  gapsAfterFailures,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type Respond, type TestReceiver, startTestReceiver } from './receiver.js';

// Waits before attempts 2..6 and the attempt timeout, per integration (a Hookster extension).
const SCHEDULE = [200, 400, 600, 800, 1000];
// The attempt timeout: long enough that a loaded machine's answer on loopback is never cut (a cut
// answer was recorded as a timeout instead of its status, or failed the final attempt), except for
// the failure mode that is a timeout.
const EXTENSIONS = { retrySchedule: SCHEDULE.map((ms) => `${ms}ms`).join(','), deliveryTimeout: '5s' };
const TIMEOUT_MODE_TIMEOUT = '1s';
// Tolerance on each retry offset: never early (1 ms of rounding), at most this late on a busy 2-core box.
const LATE_MS = 300;
const FAILURES = 2;

let world: DeliveryWorld;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.engine.stop();
  for (const receiver of receivers) await receiver.close();
});

async function failingReceiver(fail: Respond): Promise<TestReceiver> {
  const receiver = await startTestReceiver((req, res, index) => {
    if (index < FAILURES) fail(req, res, index);
    else res.end('ok');
  });
  receivers.push(receiver);
  return receiver;
}

const lateness: number[] = [];
afterAll(() => {
  lateness.sort((a, b) => a - b);
  console.log(
    `retry offsets: ${lateness.length} gaps, late by ${lateness[0]}..${lateness.at(-1)} ms (tolerance +${LATE_MS})`,
  );
});

function expectScheduledOffsets(gaps: number[], schedule = SCHEDULE): void {
  gaps.forEach((gap, i) => {
    lateness.push(gap - (schedule[i] ?? 0));
    const wait = schedule[i] ?? 0;
    expect(gap, `gap before attempt ${i + 2}`).toBeGreaterThanOrEqual(wait - 1);
    expect(gap, `gap before attempt ${i + 2}`).toBeLessThanOrEqual(wait + LATE_MS);
  });
}

async function deliverAfterFailures(
  url: string,
  deliveryTimeout = EXTENSIONS.deliveryTimeout,
  retrySchedule = EXTENSIONS.retrySchedule,
) {
  const system = await addSystem(world, url, { ...EXTENSIONS, deliveryTimeout, retrySchedule });
  const { conversationId } = await world.hub.openConversation();
  await submitText(world.client, conversationId, 'retry me');
  return system;
}

const failureModes: [
  name: string,
  fail: Respond,
  expected: { statusCode?: number; error?: RegExp; deliveryTimeout?: string },
][] = [
  ['500', (_req, res) => res.writeHead(500).end('boom'), { statusCode: 500 }],
  ['302', (_req, res) => res.writeHead(302, { location: '/elsewhere' }).end(), { statusCode: 302 }],
  ['a timeout', () => undefined, { error: /^timeout after 1000 ms$/, deliveryTimeout: TIMEOUT_MODE_TIMEOUT }],
  ['a connection reset', (_req, res) => res.socket?.destroy(), { error: /connection (reset|closed)/ }],
];

describe('retries by the schedule', () => {
  for (const [name, fail, expected] of failureModes) {
    it(`delivers at attempt ${FAILURES + 1} after ${FAILURES} × ${name}, at the scheduled offsets`, async () => {
      const receiver = await failingReceiver(fail);
      const system = await deliverAfterFailures(`${receiver.url}`, expected.deliveryTimeout);
      const delivery = await finalDelivery(world, system.integrationId);
      expect(delivery.status).toBe('delivered');
      expect(delivery.attempts.map((a) => a.attemptNumber)).toEqual([1, 2, 3]);
      for (const attempt of delivery.attempts.slice(0, FAILURES)) {
        if (expected.statusCode !== undefined) expect(attempt.statusCode).toBe(expected.statusCode);
        if (expected.error !== undefined) expect(attempt.error).toMatch(expected.error);
      }
      expect(delivery.attempts[FAILURES]).toMatchObject({ statusCode: 200, responseExcerpt: 'ok' });
      expect(receiver.requests).toHaveLength(FAILURES + 1);
      // Every retry sends the byte-identical body.
      const bodies = new Set(receiver.requests.map((r) => r.body.toString('base64')));
      expect(bodies.size).toBe(1);
      expect(receiver.requests.every((r) => r.url === '/hook')).toBe(true);
      expectScheduledOffsets(gapsAfterFailures(delivery.attempts));
    });
  }

  it(`delivers at attempt ${FAILURES + 1} after ${FAILURES} refused connections, at the scheduled offsets`, async () => {
    const reserve = createServer();
    reserve.listen(0, '127.0.0.1');
    await once(reserve, 'listening');
    const port = (reserve.address() as AddressInfo).port;
    reserve.close();
    await once(reserve, 'close');
    // The receiver starts once the second refusal is in the log: the third attempt waits 3 s (not
    // 400 ms) so that it never starts before the receiver listens on a loaded machine.
    const schedule = [200, 3_000, ...SCHEDULE.slice(2)];
    const system = await deliverAfterFailures(
      `http://127.0.0.1:${port}/hook`,
      undefined,
      schedule.map((ms) => `${ms}ms`).join(','),
    );
    await eventually(async () => {
      const [delivery] = (await listDeliveries(world, system.integrationId)).results;
      return delivery && delivery.attemptCount >= FAILURES ? delivery : undefined;
    });
    const receiver = await startTestReceiver((_req, res) => res.end('ok'), '127.0.0.1', port);
    receivers.push(receiver);
    const delivery = await finalDelivery(world, system.integrationId);
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts.map((a) => a.error ?? a.statusCode)).toEqual([
      'connection refused (ECONNREFUSED)',
      'connection refused (ECONNREFUSED)',
      200,
    ]);
    expectScheduledOffsets(gapsAfterFailures(delivery.attempts), schedule);
  });

  it('waits longer when a 429 asks to, within twice the scheduled wait', async () => {
    const receiver = await startTestReceiver((_req, res, index) => {
      if (index === 0) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.end('ok');
    });
    receivers.push(receiver);
    const system = await deliverAfterFailures(receiver.url);
    const delivery = await finalDelivery(world, system.integrationId);
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([429, 200]);
    const [gap = 0] = gapsAfterFailures(delivery.attempts);
    // Retry-After 1 s, clamped to [200 ms, 400 ms].
    expect(gap).toBeGreaterThanOrEqual(399);
    expect(gap).toBeLessThanOrEqual(400 + LATE_MS);
  });

  it('stops at once on 410 Gone', async () => {
    const receiver = await startTestReceiver((_req, res) => res.writeHead(410).end('gone'));
    receivers.push(receiver);
    const system = await deliverAfterFailures(receiver.url);
    const delivery = await finalDelivery(world, system.integrationId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe("an integration's own attempt timeout above the deployment's", () => {
  let short: DeliveryWorld;
  beforeAll(async () => {
    // Deployment timeout 300 ms; the integration allows 5 s. Its first attempt used to be cut at 300 ms,
    // as the lease of the claim was taken before the override was known.
    short = await startWorld({ HOOKSTER_DELIVERY_TIMEOUT: '300ms' });
  });
  afterAll(async () => {
    await short?.engine.stop();
  });

  it('lets the first attempt run for the integration’s timeout (a receiver answering after 1 s)', async () => {
    const receiver = await startTestReceiver((_req, res) => {
      setTimeout(() => res.end('slow ok'), 1_000);
    });
    receivers.push(receiver);
    const system = await addSystem(short, receiver.url, { retrySchedule: '200ms', deliveryTimeout: '5s' });
    const { conversationId } = await short.hub.openConversation();
    await submitText(short.client, conversationId, 'take your time');
    const delivery = await finalDelivery(short, system.integrationId);
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 200, responseExcerpt: 'slow ok' });
    expect(delivery.attempts[0]?.durationMs).toBeGreaterThanOrEqual(990);
    expect(delivery.status).toBe('delivered');
  });
});
