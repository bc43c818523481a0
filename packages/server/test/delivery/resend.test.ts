// Engine e2e: resending one failed delivery and recovering failed deliveries since a time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import {
  type DeliveryWorld,
  addSystem,
  getDelivery,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const FAST = { retrySchedule: '30ms,30ms', deliveryTimeout: '500ms' };

let world: DeliveryWorld;
let healthy = false;
let hook: TestReceiver;

beforeAll(async () => {
  hook = await startTestReceiver((_req, res) => res.writeHead(healthy ? 200 : 500).end());
  world = await startWorld();
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

async function failedDeliveries(integrationId: string, count: number) {
  return eventually(async () => {
    const list = await listDeliveries(world, integrationId, 'failed');
    return list.total >= count ? list.results : undefined;
  });
}

describe('manual resend', () => {
  it('resends a failed delivery on demand with a fresh attempt budget, same body', async () => {
    healthy = false;
    const system = await addSystem(world, hook.url, FAST);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'resend me');
    const [failed] = await failedDeliveries(system.integrationId, 1);
    if (!failed) throw new Error('no failed delivery');
    const before = hook.requests.length;
    healthy = true;
    const retried = await world.client.post(`/api/v1/deliveries/${failed.deliveryId}/retry`, {});
    expect(retried.status).toBe(200);
    const delivered = await eventually(async () => {
      const d = await getDelivery(world, failed.deliveryId);
      return d.status === 'delivered' ? d : undefined;
    });
    expect(delivered.attempts.map((a) => a.statusCode)).toEqual([500, 500, 500, 200]);
    // The count goes on across the manual retry (its schedule starts again).
    expect(delivered.attempts.map((a) => a.attemptNumber)).toEqual([1, 2, 3, 4]);
    const resent = hook.requests.slice(before);
    expect(resent).toHaveLength(1);
    expect(resent[0]?.body.equals(hook.requests[before - 1]?.body ?? Buffer.alloc(0))).toBe(true);
    expect(resent[0]?.headers['webhook-id']).toBe(failed.deliveryId);
  });

  it('says a failed delivery of a deleted integration cannot be resent, and why', async () => {
    healthy = false;
    const system = await addSystem(world, hook.url, FAST);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'orphan');
    const [failed] = await failedDeliveries(system.integrationId, 1);
    if (!failed) throw new Error('no failed delivery');
    expect((await world.client.delete(`/api/v1/integrations/${system.integrationId}`)).status).toBe(200);
    const retried = await world.client.post(`/api/v1/deliveries/${failed.deliveryId}/retry`, {});
    expect(retried.status).toBe(400);
    expect(retried.text).toMatch(/integration was deleted/);
  });

  it('recovers every failed delivery of an integration since a time, in order per conversation', async () => {
    healthy = false;
    const since = new Date().toISOString();
    const system = await addSystem(world, hook.url, FAST);
    const conversations = [await world.hub.openConversation(), await world.hub.openConversation()];
    for (const { conversationId } of conversations)
      await submitText(world.client, conversationId, 'recover me');
    await failedDeliveries(system.integrationId, 2);
    healthy = true;
    const recovered = await world.client.post(`/api/v1/integrations/${system.integrationId}/recover`, {
      since,
    });
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ recovered: 2 });
    await eventually(async () => {
      const list = await listDeliveries(world, system.integrationId, 'delivered');
      return list.total === 2 ? list : undefined;
    });
    expect((await listDeliveries(world, system.integrationId, 'failed')).total).toBe(0);
  });
});
