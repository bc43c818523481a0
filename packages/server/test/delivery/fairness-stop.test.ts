// Engine e2e: a hanging endpoint does not starve a healthy one; a graceful stop records what is in flight.
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { type DeliveryWorld, addSystem, listDeliveries, submitText } from './harness.js';
import { closedAfterAll } from './closed-after-all.js';

const { receiver, world } = closedAfterAll();

async function conversations(w: DeliveryWorld, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await w.hub.openConversation()).conversationId);
  return ids;
}

describe('fairness between integrations', () => {
  it('keeps delivering to a healthy endpoint while a hanging one uses up its share', async () => {
    const w = await world({ HOOKSTER_CONCURRENCY: '8', HOOKSTER_PER_INTEGRATION_CONCURRENCY: '4' });
    const hanging = await receiver(() => undefined);
    const healthy = await receiver((_req, res) => res.end('ok'));
    // Each activity goes to both System integrations; the hanging one holds its 4 slots for 30 s each
    // (long, so a loaded CI machine has room: a healthy run takes a few seconds).
    await addSystem(w, hanging.url, { deliveryTimeout: '30s', retrySchedule: '10s' });
    await addSystem(w, healthy.url);
    const ids = await conversations(w, 20);
    const started = Date.now();
    for (const id of ids) await submitText(w.client, id, 'hello');
    await healthy.waitFor(ids.length, 25_000);
    // All 20 arrived before the hanging endpoint's first attempts could even time out.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(hanging.requests.length).toBeLessThanOrEqual(4);
  });
});

describe('graceful stop', () => {
  it('waits for the attempts in flight and records them, so a restart sends nothing twice', async () => {
    const w = await world({ HOOKSTER_DELIVERY_TIMEOUT: '5s' });
    const slow = await receiver((_req, res) => setTimeout(() => res.end('ok'), 400));
    const system = await addSystem(w, slow.url);
    const ids = await conversations(w, 5);
    for (const id of ids) await submitText(w.client, id, 'in flight at the stop');
    await slow.waitFor(ids.length);
    await w.engine.restart(); // SIGTERM while the 5 requests are being answered, then a fresh process
    const delivered = await eventually(async () => {
      const list = await listDeliveries(w, system.integrationId, 'delivered');
      return list.total === ids.length ? list : undefined;
    });
    expect(delivered.results.every((d) => d.attemptCount === 1)).toBe(true);
    expect(slow.requests).toHaveLength(ids.length);
  });
});
