// Engine e2e: System batching of a backlog, and deliveries held while an integration or hub is paused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, setupHub } from '../support/client.js';
import {
  type DeliveryWorld,
  type WebhookBody,
  addSystem,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type ReceivedRequest, type TestReceiver, startTestReceiver } from './receiver.js';

const EXTENSIONS = { retrySchedule: Array(20).fill('100ms').join(','), deliveryTimeout: '1s' };

let world: DeliveryWorld;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.engine.stop();
  for (const receiver of receivers) await receiver.close();
});

/** A receiver that answers 503 while `down()` is true and records the requests it accepted. */
async function switchableReceiver(down: () => boolean) {
  const accepted: ReceivedRequest[] = [];
  const receiver = await startTestReceiver((req, res) => {
    if (down()) {
      res.writeHead(503).end('down');
      return;
    }
    accepted.push(req);
    res.end('ok');
  });
  receivers.push(receiver);
  return { receiver, accepted };
}

const eventIdsOf = (request: ReceivedRequest) =>
  (JSON.parse(request.body.toString('utf8')) as WebhookBody).activities.map((a) => a.eventId);

describe('System batching', () => {
  it('sends the activities that piled up while the endpoint was down in one array, in order', async () => {
    let down = true;
    const { receiver, accepted } = await switchableReceiver(() => down);
    await addSystem(world, receiver.url, EXTENSIONS);
    const { conversationId } = await world.hub.openConversation();
    const first = await submitText(world.client, conversationId, 'first');
    await receiver.waitFor(1);
    const piled: number[] = [];
    for (let n = 0; n < 9; n++) piled.push(await submitText(world.client, conversationId, `piled #${n}`));
    const failedSoFar = receiver.requests.length;
    down = false;
    await receiver.waitFor(failedSoFar + 2);
    // The head is resent byte-identical with its one activity; the pile follows as one body.
    expect(accepted.map(eventIdsOf)).toEqual([[first], piled]);
    const firstBodies = new Set(
      receiver.requests.filter((r) => eventIdsOf(r)[0] === first).map((r) => r.body.toString('base64')),
    );
    expect(firstBodies.size).toBe(1);
  });
});

describe('pause and resume', () => {
  it('holds a paused integration’s deliveries until it is resumed, then delivers them all in order', async () => {
    const paused = await switchableReceiver(() => false);
    const control = await switchableReceiver(() => false);
    const system = await addSystem(world, paused.receiver.url, EXTENSIONS);
    const current = await world.client.get<{ name: string }>(`/api/v1/integrations/${system.integrationId}`);
    const name = current.body.name;
    const pause = await world.client.put(`/api/v1/integrations/${system.integrationId}`, {
      name,
      statusId: 3002,
    });
    expect(pause.status).toBe(200);

    const { conversationId } = await world.hub.openConversation();
    const submitted: number[] = [];
    for (let n = 0; n < 15; n++) submitted.push(await submitText(world.client, conversationId, `held #${n}`));
    // A control integration added afterwards gets a later activity: the dispatcher ran past the held ones.
    await addSystem(world, control.receiver.url, EXTENSIONS);
    const last = await submitText(world.client, conversationId, 'after the control was added');
    await control.receiver.waitFor(1);
    expect(control.accepted.flatMap(eventIdsOf)).toEqual([last]);
    expect(paused.receiver.requests).toHaveLength(0);
    const held = await listDeliveries(world, system.integrationId, 'held');
    expect(held.total).toBeGreaterThan(0);

    const resume = await world.client.put(`/api/v1/integrations/${system.integrationId}`, {
      name,
      statusId: 3000,
    });
    expect(resume.status).toBe(200);
    const all = [...submitted, last];
    await eventually(async () =>
      paused.accepted.flatMap(eventIdsOf).length >= all.length ? true : undefined,
    );
    expect(paused.accepted.flatMap(eventIdsOf)).toEqual(all);
    expect(paused.receiver.requests.length).toBe(paused.accepted.length);
  });

  it('holds every integration of a paused hub until the hub is resumed', async () => {
    const receiver = await switchableReceiver(() => false);
    const hub = await setupHub(world.client);
    const paused = { ...world, hub };
    await addSystem(paused, receiver.receiver.url, EXTENSIONS);
    const current = (await world.client.get<Record<string, unknown>>(`/api/v1/hubs/${hub.hubId}`)).body;
    const put = (statusId: number) =>
      world.client.put(`/api/v1/hubs/${hub.hubId}`, {
        name: current.name,
        description: current.description,
        statusId,
      });
    expect((await put(2002)).status).toBe(200);
    const { conversationId } = await hub.openConversation();
    const submitted: number[] = [];
    for (let n = 0; n < 5; n++)
      submitted.push(await submitText(world.client, conversationId, `hub held #${n}`));
    // The same activity's copy to the active hub's control integration shows the dispatcher ran.
    const control = await switchableReceiver(() => false);
    await addSystem(world, control.receiver.url, EXTENSIONS);
    const { conversationId: other } = await world.hub.openConversation();
    await submitText(world.client, other, 'control');
    await control.receiver.waitFor(1);
    expect(receiver.receiver.requests).toHaveLength(0);
    expect((await put(2000)).status).toBe(200);
    await eventually(async () =>
      receiver.accepted.flatMap(eventIdsOf).length >= submitted.length ? true : undefined,
    );
    expect(receiver.accepted.flatMap(eventIdsOf)).toEqual(submitted);
  });
});
