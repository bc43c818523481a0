// Black-box, the real `hookster serve` process: a paused websocket integration (or one of a paused hub)
// holds its deliveries; resuming pushes them in order to the connected client and records their
// outcomes; deleting the integration while they are held cancels them. Runs on SQLite, and on
// PostgreSQL with HOOKSTER_TEST_DATABASE_URL.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  eventually,
  submitText,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { agentScene, type AgentScene as Scene } from './agent-scene.js';
import { connectRawHub, type RawHubClient } from './raw-hub-client.js';

let engine: RunningEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startEngine();
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
});

const scene = (): Promise<Scene> => agentScene(tenant.client);

function customerSays(s: Scene, text: string): Promise<number> {
  return submitText(tenant.client, s.conversationId, text);
}

async function deliveries(integrationId: string, status?: string): Promise<Json[]> {
  const query = status ? `&status=${status}` : '';
  const response = await tenant.client.get(
    `/api/v1/integrations/${integrationId}/deliveries?pageSize=100${query}`,
  );
  expect(response.status, response.text).toBe(200);
  return response.body.results as Json[];
}

async function put(path: string, body: Json): Promise<void> {
  const response = await tenant.client.put(path, body);
  expect(response.status, response.text).toBe(200);
}

/**
 * A round trip on the connection: the hub answers an invocation with a completion on the same socket,
 * after every frame it wrote before. So once it is back, anything pushed earlier has been received.
 */
let barriers = 0;
async function barrier(client: RawHubClient): Promise<void> {
  const invocationId = `barrier-${++barriers}`;
  client.send(JSON.stringify({ type: 1, invocationId, target: 'Barrier', arguments: [] }) + '\x1e');
  await client.waitFor(
    () => client.messages.some((m) => m.type === 3 && m.invocationId === invocationId),
    10_000,
    'the barrier completion',
  );
}

async function settled(integrationId: string, count: number): Promise<Json[]> {
  return eventually(async () => {
    const all = await deliveries(integrationId);
    return all.length === count && all.every((d) => d.status !== 'pending' && d.status !== 'held')
      ? all
      : undefined;
  });
}

describe('websocket deliveries of paused integrations and hubs', () => {
  it('holds while the integration is paused and pushes the held activities in order on resume', async () => {
    const s = await scene();
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: s.agent.integrationId });
    try {
      const before = await customerSays(s, 'before the pause');
      await client.waitFor(() => client.activities.length === 1, 10_000, 'the first push');
      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3002 });
      const held: number[] = [];
      for (const text of ['one', 'two', 'three']) held.push(await customerSays(s, text));
      await barrier(client);
      expect(client.activities.map((a) => a.eventId)).toEqual([before]);
      expect(await deliveries(s.agent.integrationId, 'held')).toHaveLength(3);

      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3000 });
      await client.waitFor(() => client.activities.length === 4, 10_000, 'the released pushes');
      expect(client.activities.map((a) => a.eventId)).toEqual([before, ...held]);
      expect(client.activities.slice(1).map((a) => (a.message as Json).text)).toEqual([
        'one',
        'two',
        'three',
      ]);
      const log = await settled(s.agent.integrationId, 4);
      expect(log.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
      // Released once: another resume pushes nothing again.
      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3002 });
      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3000 });
      const after = await customerSays(s, 'after');
      await client.waitFor(() => client.activities.length === 5, 10_000, 'the next push');
      await barrier(client);
      expect(client.activities.map((a) => a.eventId)).toEqual([before, ...held, after]);
    } finally {
      client.close();
      await client.closed;
    }
  });

  it('holds while the hub is paused and pushes on the hub’s resume, only once the integration is active too', async () => {
    const s = await scene();
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: s.agent.integrationId });
    try {
      await put(`/api/v1/hubs/${s.hub.hubId}`, { statusId: 2002 });
      const held: number[] = [];
      for (const text of ['one', 'two', 'three']) held.push(await customerSays(s, text));
      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3002 });
      // The integration resumes first: its hub is still paused, so nothing is released yet.
      await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3000 });
      await barrier(client);
      expect(client.activities).toHaveLength(0);
      expect(await deliveries(s.agent.integrationId, 'held')).toHaveLength(3);

      await put(`/api/v1/hubs/${s.hub.hubId}`, { statusId: 2000 });
      await client.waitFor(() => client.activities.length === 3, 10_000, 'the released pushes');
      expect(client.activities.map((a) => a.eventId)).toEqual(held);
      const log = await settled(s.agent.integrationId, 3);
      expect(log.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    } finally {
      client.close();
      await client.closed;
    }
  });

  it('records "no connection" for held activities released while no client is connected', async () => {
    const s = await scene();
    await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3002 });
    await customerSays(s, 'nobody listens');
    await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3000 });
    const [delivery] = await settled(s.agent.integrationId, 1);
    expect(delivery.status).toBe('failed');
    const detail = await tenant.client.get(`/api/v1/deliveries/${delivery.deliveryId}`);
    expect(detail.status, detail.text).toBe(200);
    expect(detail.body.attempts).toHaveLength(1);
    expect(detail.body.attempts[0].error).toBe('no connection');
  });

  it('cancels the held websocket deliveries when the paused integration is deleted', async () => {
    const s = await scene();
    await put(`/api/v1/integrations/${s.agent.integrationId}`, { statusId: 3002 });
    await customerSays(s, 'one');
    await customerSays(s, 'two');
    const held = await deliveries(s.agent.integrationId, 'held');
    expect(held).toHaveLength(2);
    const deleted = await tenant.client.delete(`/api/v1/integrations/${s.agent.integrationId}`);
    expect(deleted.status, deleted.text).toBe(200);
    for (const d of held) {
      const detail = await tenant.client.get(`/api/v1/deliveries/${d.deliveryId}`);
      expect(detail.status, detail.text).toBe(200);
      expect(detail.body.status).toBe('cancelled');
    }
  });
});
