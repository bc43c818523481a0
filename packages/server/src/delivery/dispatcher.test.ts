// The dispatcher loop on real SQLite and a receiver: woken by commits, retries by its timer, stops cleanly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Respond, type TestReceiver, startTestReceiver } from '../../test/delivery/receiver.js';
import { loadConfig } from '../config/load.js';
import type { Dispatcher } from '../engine-parts.js';
import { type World, makeWorld, planTo, webhookTo } from '../store/conformance/fixtures.js';
import type { Store } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { createDispatcher } from './dispatcher.js';

// A minute: nothing in these tests may depend on the idle safety poll.
const IDLE_POLL_MS = 60_000;
// What "at once" means here: far below the idle poll, with room for a loaded 2-core CI machine.
const PROMPT_MS = 5_000;

let dir: string;
let store: Store;
let receiver: TestReceiver | undefined;
let dispatcher: Dispatcher | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookster-dispatcher-'));
  store = await openStore(`sqlite:${join(dir, 'hookster.db')}`);
  await store.migrate();
});
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await receiver?.close();
  receiver = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(
  respond: Respond,
  schedule = '300ms',
  through: (store: Store) => Store = (s) => s,
): Promise<World & { hook: TestReceiver }> {
  const hook = await startTestReceiver(respond);
  receiver = hook;
  const world = await makeWorld(store);
  world.system.configuration = {
    ...world.system.configuration,
    webhookUrl: hook.url,
    retrySchedule: schedule,
  };
  await store.updateIntegration(world.system);
  const config = loadConfig({
    env: { HOOKSTER_EGRESS_ALLOW: '127.0.0.1/32', HOOKSTER_DELIVERY_TIMEOUT: '2s' },
  });
  dispatcher = createDispatcher({
    config,
    store: through(store),
    logger: pino({ level: 'silent' }),
    idlePollMs: IDLE_POLL_MS,
  });
  dispatcher.start();
  return { ...world, hook };
}

async function submit(world: World, text: string): Promise<string> {
  const result = await store.submitActivity(
    world.conversation.conversationId,
    planTo([webhookTo(world.system)], { text }),
  );
  return result.deliveryIds[0] ?? '';
}

describe('dispatcher', () => {
  it('is woken by the commit, not by polling', async () => {
    const world = await setUp((_req, res) => res.end('ok'));
    const committed = Date.now();
    await submit(world, 'wake up');
    const [request] = await world.hook.waitFor(1, PROMPT_MS * 2);
    expect((request?.at ?? Infinity) - committed).toBeLessThan(PROMPT_MS);
  });

  it('retries at the scheduled time by its own timer', async () => {
    const world = await setUp((_req, res, index) => res.writeHead(index === 0 ? 500 : 200).end(), '300ms');
    const deliveryId = await submit(world, 'retry');
    const requests = await world.hook.waitFor(2, PROMPT_MS * 2);
    const gap = (requests[1]?.at ?? 0) - (requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(gap).toBeLessThan(300 + PROMPT_MS);
    await dispatcher?.stop();
    const delivery = await store.getDelivery(deliveryId);
    expect(delivery?.status).toBe('delivered');
    expect(delivery?.attempts?.map((a) => a.statusCode)).toEqual([500, 200]);
  });

  it('retries at the scheduled time when a due-time read from before the record answers after it', async () => {
    // The store the dispatcher sees answers in the order PostgreSQL can (the claim queued behind a
    // record runs beside it there): the first record round waits until the empty claim's due-time read
    // has been made — it still sees the delivery leased — and that read answers only after the record's
    // result armed the retry's timer. The stale read must not put the retry off until the lease ends.
    let dueRead: () => void = () => undefined;
    const dueReadNow = new Promise<void>((resolve) => (dueRead = resolve));
    let recorded: () => void = () => undefined;
    const recordedNow = new Promise<void>((resolve) => (recorded = resolve));
    let gated: 'no' | 'waiting' | 'done' = 'no';
    const ordered = (real: Store): Store =>
      new Proxy(real, {
        get(target, property, receiver) {
          if (property === 'recordAttempts' && gated === 'no') {
            return async (...args: Parameters<Store['recordAttempts']>) => {
              gated = 'waiting';
              await dueReadNow;
              const applied = await target.recordAttempts(...args);
              gated = 'done';
              recorded();
              return applied;
            };
          }
          if (property === 'nextDueAt' && gated === 'waiting') {
            return async () => {
              const due = await target.nextDueAt();
              dueRead();
              await recordedNow;
              await new Promise((resolve) => setImmediate(resolve));
              return due;
            };
          }
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
    const world = await setUp(
      (_req, res, index) => res.writeHead(index === 0 ? 500 : 200).end(),
      '300ms',
      ordered,
    );
    await submit(world, 'retry');
    const requests = await world.hook.waitFor(2, PROMPT_MS * 3);
    expect(gated).toBe('done');
    const gap = (requests[1]?.at ?? 0) - (requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(gap).toBeLessThan(300 + PROMPT_MS);
  });

  it('stops only after recording the attempts in flight', async () => {
    const world = await setUp((_req, res) => setTimeout(() => res.end('late'), 300));
    const deliveryId = await submit(world, 'in flight');
    await world.hook.waitFor(1, 2000);
    await dispatcher?.stop();
    const delivery = await store.getDelivery(deliveryId);
    expect(delivery?.status).toBe('delivered');
    expect(delivery?.attempts).toHaveLength(1);
    expect(delivery?.attempts?.[0]).toMatchObject({ statusCode: 200, responseExcerpt: 'late' });
  });
});
