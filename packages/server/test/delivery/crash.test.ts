// Engine e2e: kill -9 during deliveries loses nothing committed; duplicates bounded by what was in flight.
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

const CONVERSATIONS = 50;
const PER_CONVERSATION = 100;
const TOTAL = CONVERSATIONS * PER_CONVERSATION;
const CONCURRENCY = 64;
const RESPONSE_DELAY_MS = 10;

let world: DeliveryWorld;
let hook: TestReceiver;
/** conversationId/eventId (eventIds are unique per conversation only) → accepted requests carrying it. */
const arrivals = new Map<string, number>();
let open = 0;

beforeAll(async () => {
  hook = await startTestReceiver((req, res) => {
    open++;
    setTimeout(() => {
      open--;
      const body = JSON.parse(req.body.toString('utf8')) as WebhookBody;
      for (const activity of body.activities) {
        const key = `${body.conversationId}/${activity.eventId}`;
        arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
      }
      res.end('ok');
    }, RESPONSE_DELAY_MS);
  });
  world = await startWorld({
    // One activity per delivery, so 5,000 activities are 5,000 deliveries.
    HOOKSTER_BATCH_MAX_ACTIVITIES: '1',
    HOOKSTER_CONCURRENCY: String(CONCURRENCY),
    HOOKSTER_PER_INTEGRATION_CONCURRENCY: String(CONCURRENCY),
    // The lease (timeout + 5 s margin) bounds how long a killed process's claims stay taken.
    HOOKSTER_DELIVERY_TIMEOUT: '1s',
  });
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

describe('crash safety', () => {
  it('delivers every committed delivery after kill -9 and a restart, duplicates bounded by what was in flight', async () => {
    const system = await addSystem(world, hook.url);
    const { name } = (
      await world.client.get<{ name: string }>(`/api/v1/integrations/${system.integrationId}`)
    ).body;
    // Held while they are submitted, so the kill lands in the middle of a 5,000-delivery run.
    await world.client.put(`/api/v1/integrations/${system.integrationId}`, { name, statusId: 3002 });
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++)
      conversations.push((await world.hub.openConversation()).conversationId);
    const committed: string[] = [];
    await Promise.all(
      conversations.map(async (conversationId) => {
        for (let n = 0; n < PER_CONVERSATION; n++) {
          committed.push(`${conversationId}/${await submitText(world.client, conversationId, `#${n}`)}`);
        }
      }),
    );
    expect(committed).toHaveLength(TOTAL);

    await world.client.put(`/api/v1/integrations/${system.integrationId}`, { name, statusId: 3000 });
    await eventually(async () => (arrivals.size >= TOTAL / 3 ? true : undefined), 30_000);
    const openAtKill = open;
    const arrivedAtKill = arrivals.size;
    await world.engine.kill('SIGKILL');

    await world.engine.restart();
    await eventually(async () => (arrivals.size >= TOTAL ? true : undefined), 60_000);
    const missing = committed.filter((key) => !arrivals.has(key));
    expect(missing).toEqual([]);
    const duplicates = [...arrivals.values()].reduce((sum, n) => sum + n - 1, 0);
    console.log(
      `crash: killed after ${arrivedAtKill}/${TOTAL} arrived, ${openAtKill} requests unanswered at the receiver at the kill, ` +
        `concurrency ${CONCURRENCY}; after restart all ${TOTAL} arrived with ${duplicates} duplicates`,
    );
    // In flight at the kill = leased and not yet recorded. Only a lane's head is ever leased, so with
    // 50 conversations (lanes) at most 50 deliveries were in flight, each resent once at most.
    expect(duplicates).toBeLessThanOrEqual(Math.min(CONVERSATIONS, CONCURRENCY));
    const delivered = await eventually(async () => {
      const list = await listDeliveries(world, system.integrationId, 'delivered');
      return list.total >= TOTAL ? list : undefined;
    }, 30_000);
    expect(delivered.total).toBe(TOTAL);
  });
});
