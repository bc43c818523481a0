// Engine e2e: kill -9 while fresh deliveries are out as flights (sent before they have delivery rows,
// store/sqlite/handoff.ts). After a restart every delivery arrives, each conversation's in eventId order
// (a resent flight still goes before the later activities of its lane), duplicates bounded by what was
// in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import {
  type DeliveryWorld,
  type WebhookBody,
  addSystem,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const CONVERSATIONS = 20;
const PER_CONVERSATION = 60;
const TOTAL = CONVERSATIONS * PER_CONVERSATION;
const CONCURRENCY = 32;
const RESPONSE_DELAY_MS = 15;

let world: DeliveryWorld;
let hook: TestReceiver;
/** conversationId → eventIds in the order their requests arrived (with resends). */
const arrived = new Map<string, number[]>();
let received = 0;
let open = 0;
/** `${conversationId}/${eventId}` → resolves once the receiver answered that delivery. */
const answered = new Map<string, () => void>();
const whenAnswered = (key: string) => new Promise<void>((resolve) => answered.set(key, resolve));

beforeAll(async () => {
  hook = await startTestReceiver((req, res) => {
    const body = JSON.parse(req.body.toString('utf8')) as WebhookBody;
    const list = arrived.get(body.conversationId) ?? [];
    arrived.set(body.conversationId, list);
    for (const activity of body.activities) list.push(activity.eventId);
    received++;
    open++;
    setTimeout(() => {
      open--;
      res.end('ok');
      for (const activity of body.activities) answered.get(`${body.conversationId}/${activity.eventId}`)?.();
    }, RESPONSE_DELAY_MS);
  });
  world = await startWorld({
    HOOKSTER_BATCH_MAX_ACTIVITIES: '1',
    HOOKSTER_CONCURRENCY: String(CONCURRENCY),
    HOOKSTER_PER_INTEGRATION_CONCURRENCY: String(CONCURRENCY),
    // The lease (timeout + 5 s margin) bounds how long the killed process's leased rows stay taken.
    HOOKSTER_DELIVERY_TIMEOUT: '1s',
  });
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

describe('crash safety of flights', () => {
  it('after kill -9 with flights out, delivers everything in order per conversation, duplicates bounded', async () => {
    const { integrationId } = await addSystem(world, hook.url);
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++)
      conversations.push((await world.hub.openConversation()).conversationId);
    // Each conversation submits two activities back to back, then waits for the second's answer: its
    // lane is usually empty when the first is claimed (a flight), and the second waits behind it as a
    // row — the case a restart must keep in order.
    const committed = new Map<string, number[]>();
    let killed = false;
    let onKill = () => undefined as void;
    const kill = new Promise<void>((resolve) => (onKill = resolve));
    const submitting = Promise.allSettled(
      conversations.map(async (conversationId) => {
        const ids: number[] = [];
        committed.set(conversationId, ids);
        for (let n = 0; n < PER_CONVERSATION && !killed; n += 2) {
          ids.push(await submitText(world.client, conversationId, `#${n}`));
          const id = await submitText(world.client, conversationId, `#${n + 1}`);
          ids.push(id);
          await Promise.race([whenAnswered(`${conversationId}/${id}`), kill]);
        }
      }),
    );
    await eventually(async () => (received >= TOTAL / 3 ? true : undefined), 30_000);
    killed = true;
    onKill();
    const openAtKill = open;
    await world.engine.kill('SIGKILL');
    // Submissions in progress at the kill fail (not counted, committed or not); the rest are committed.
    await submitting;
    await world.engine.restart();
    const total = [...committed.values()].reduce((sum, ids) => sum + ids.length, 0);
    expect(total).toBeGreaterThan(TOTAL / 4);

    await eventually(async () => {
      for (const [conversationId, ids] of committed) {
        const seen = new Set(arrived.get(conversationId));
        if (!ids.every((id) => seen.has(id))) return undefined;
      }
      return true;
    }, 30_000);
    // Every delivery is final once the restarted engine resent what was out at the kill.
    await eventually(async () => {
      const list = await listDeliveries(world, integrationId, 'delivered');
      return list.total >= total ? true : undefined;
    }, 30_000);
    let duplicates = 0;
    for (const [conversationId, ids] of committed) {
      const list = arrived.get(conversationId) ?? [];
      // First arrivals, in arrival order, are the committed eventIds in order.
      const first = list.filter((id, k) => list.indexOf(id) === k);
      expect(first.slice(0, ids.length)).toEqual(ids);
      duplicates += list.length - first.length;
    }
    console.log(
      `handoff crash: ${total} committed, ${openAtKill} requests unanswered at the kill, ${duplicates} duplicates after restart`,
    );
    // Only a lane's head is ever out (flight or leased row): at most one resend per conversation.
    expect(duplicates).toBeLessThanOrEqual(Math.min(CONVERSATIONS, CONCURRENCY));
  });
});
