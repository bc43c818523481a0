// Engine e2e: per-conversation delivery order, and the next activity going once a head is exhausted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeliveryWorld,
  type WebhookBody,
  addSystem,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type ReceivedRequest, type TestReceiver, startTestReceiver } from './receiver.js';

const CONVERSATIONS = 10;
const PER_CONVERSATION = 20;
// Every conversation's first requests fail, then it recovers; the stuck one fails until released.
const FAILURES_PER_CONVERSATION = 3;
// Enough attempts that the stuck conversation is never exhausted while the others drain: quick retries
// first, then half-second ones, 20 s in all (room for a loaded CI machine; at most 50 steps).
const EXTENSIONS = {
  retrySchedule: [...Array<string>(10).fill('50ms'), ...Array<string>(40).fill('500ms')].join(','),
  deliveryTimeout: '1s',
};

let world: DeliveryWorld;
let hook: TestReceiver;
let stuckConversation = '';
let released = false;
const accepted: ReceivedRequest[] = [];

beforeAll(async () => {
  const failuresSeen = new Map<string, number>();
  hook = await startTestReceiver((req, res) => {
    const conversationId = String(req.headers['x-conversation-id']);
    const seen = failuresSeen.get(conversationId) ?? 0;
    if ((conversationId === stuckConversation && !released) || seen < FAILURES_PER_CONVERSATION) {
      failuresSeen.set(conversationId, seen + 1);
      res.writeHead(503).end('not now');
      return;
    }
    accepted.push(req);
    res.end('ok');
  });
  world = await startWorld();
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

function acceptedEventIds(conversationId: string): number[] {
  return accepted
    .filter((r) => r.headers['x-conversation-id'] === conversationId)
    .flatMap((r) => (JSON.parse(r.body.toString('utf8')) as WebhookBody).activities.map((a) => a.eventId));
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await hook.waitFor(hook.requests.length + 1, Math.max(1, deadline - Date.now())).catch(() => undefined);
  }
}

describe('per-conversation order', () => {
  it('delivers 200 activities of 10 conversations in eventId order, none missing or duplicated, past a stuck one', async () => {
    await addSystem(world, hook.url, EXTENSIONS);
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++)
      conversations.push((await world.hub.openConversation()).conversationId);
    stuckConversation = conversations[0] ?? '';
    const submitted = new Map<string, number[]>(conversations.map((c) => [c, []]));
    // Conversations in parallel, each one's activities in sequence (eventIds increase per conversation).
    await Promise.all(
      conversations.map(async (conversationId) => {
        for (let n = 0; n < PER_CONVERSATION; n++) {
          submitted.get(conversationId)?.push(await submitText(world.client, conversationId, `#${n}`));
        }
      }),
    );

    const others = conversations.slice(1);
    const total = (ids: string[]) => ids.reduce((sum, c) => sum + acceptedEventIds(c).length, 0);
    await waitUntil(
      () => total(others) >= others.length * PER_CONVERSATION,
      30_000,
      'the other conversations drained',
    );
    // The stuck conversation held only itself: the nine others are complete while it has nothing.
    expect(acceptedEventIds(stuckConversation)).toEqual([]);
    released = true;
    await waitUntil(
      () => total(conversations) >= CONVERSATIONS * PER_CONVERSATION,
      30_000,
      'everything delivered',
    );

    for (const conversationId of conversations) {
      const expected = submitted.get(conversationId) ?? [];
      expect(expected).toHaveLength(PER_CONVERSATION);
      expect(acceptedEventIds(conversationId), conversationId).toEqual(expected);
    }
    const batches = accepted.length;
    console.log(
      `order: ${CONVERSATIONS * PER_CONVERSATION} activities arrived in ${batches} accepted requests`,
    );
  });

  it('lets the next activity of a conversation go once its head is exhausted (skip and notify)', async () => {
    const poisonHook = await startTestReceiver((req, res) => {
      const failing = req.body.toString('utf8').includes('poison');
      res.writeHead(failing ? 500 : 200).end(failing ? 'cannot take this one' : 'ok');
    });
    try {
      const system = await addSystem(world, poisonHook.url, {
        retrySchedule: '50ms,50ms',
        deliveryTimeout: '1s',
      });
      const { conversationId } = await world.hub.openConversation();
      await submitText(world.client, conversationId, 'poison');
      // Submitted after the head's first attempt, so it is not batched with it and waits behind it.
      await poisonHook.waitFor(1);
      const next = await submitText(world.client, conversationId, 'fine');
      const requests = await poisonHook.waitFor(4);
      const texts = requests.map((r) =>
        (JSON.parse(r.body.toString('utf8')) as WebhookBody).activities.map((a) => a.message?.text ?? ''),
      );
      expect(texts).toEqual([['poison'], ['poison'], ['poison'], ['fine']]);
      const last = JSON.parse(requests[3]?.body.toString('utf8') ?? '{}') as WebhookBody;
      expect(last.activities[0]?.eventId).toBe(next);
      const failed = await listDeliveries(world, system.integrationId, 'failed');
      expect(failed.total).toBe(1);
    } finally {
      await poisonHook.close();
    }
  });
});
