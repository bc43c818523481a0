// The gateway under load on one process: a thousand concurrent connections each get exactly their
// own activities, and a consumer that stops reading is cut off while the others keep receiving.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  setupHub,
  submitText,
  type HubFixture,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub, type RawHubClient } from './raw-hub-client.js';

const CONNECTIONS = 1_000;
const PARALLEL = 50;

let engine: InProcessEngine;
let tenant: TenantFixture;
let hub: HubFixture;
let agent: Json;

beforeAll(async () => {
  engine = await startInProcessEngine({ gateway: { maxBufferedBytes: 256 * 1024 } });
  tenant = await createTenantWithToken(engine);
  hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
});

afterAll(async () => {
  await engine?.stop();
});

/** Runs `task` over `items` with at most `limit` in flight. */
async function inBatches<T, R>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function agentSays(conversationId: string, text: string): Promise<number> {
  return submitText(tenant.client, conversationId, text, agent.integrationId as string);
}

/** Resolves once every frame queued before it on this connection has been read by the client. */
async function barrier(client: RawHubClient, id: string): Promise<void> {
  client.send(`{"type":1,"invocationId":"${id}","target":"Barrier","arguments":[]}\x1e`);
  await client.waitFor(
    () => client.messages.some((m) => m.type === 3 && m.invocationId === id),
    15_000,
    'the barrier',
  );
}

describe('websocket gateway under load', () => {
  it('delivers to 1,000 concurrent connections exactly their own activities', async () => {
    const first = await hub.openConversation();
    const customerId = first.customer.integrationId as string;
    const bindings = Array.from({ length: CONNECTIONS }, (_, i) => `load-${i}`);
    const conversations = await inBatches(bindings, PARALLEL, async (binding) => {
      const response = await tenant.client.post('/api/v1/conversations/establish', {
        integrationId: customerId,
        binding,
        channelType: 'Direct',
      });
      expect(response.status, response.text).toBe(200);
      return response.body.conversationId as string;
    });

    const clients = await inBatches(conversations, PARALLEL, (cId) =>
      connectRawHub(engine.url, { token: tenant.token, iId: customerId, cId }),
    );
    expect(engine.gateway.connectionCount()).toBe(CONNECTIONS);

    const started = Date.now();
    const eventIds = await inBatches(conversations, PARALLEL, async (cId) => {
      const one = await agentSays(cId, `one for ${cId}`);
      const two = await agentSays(cId, `two for ${cId}`);
      return [one, two];
    });
    await inBatches(clients, PARALLEL, (client, i) => barrier(client, `b${i}`));
    const elapsed = Date.now() - started;

    clients.forEach((client, i) => {
      const cId = conversations[i];
      expect(client.activities.map((a) => (a.message as Json).text)).toEqual([
        `one for ${cId}`,
        `two for ${cId}`,
      ]);
      expect(client.activities.map((a) => a.eventId)).toEqual(eventIds[i]);
    });
    expect(elapsed).toBeLessThan(45_000);

    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => client.closed));
  });

  it('disconnects a consumer that stops reading while the others keep receiving', async () => {
    const { customer, conversationId } = await hub.openConversation();
    const iId = customer.integrationId as string;
    const healthy = await connectRawHub(engine.url, { token: tenant.token, iId });
    const stalled = await connectRawHub(engine.url, { token: tenant.token, iId });
    const baseline = engine.gateway.connectionCount();
    // Stops reading from the socket: the kernel buffers fill, then the gateway's send buffer.
    stalled.ws.pause();

    const text = 'x'.repeat(100 * 1024);
    const sent: number[] = [];
    while (engine.gateway.connectionCount() === baseline) {
      if (sent.length >= 400) throw new Error('the stalled consumer was never disconnected');
      sent.push(await agentSays(conversationId, text));
    }
    expect(engine.gateway.connectionCount()).toBe(baseline - 1);

    sent.push(await agentSays(conversationId, 'after the drop'));
    await healthy.waitFor(() => healthy.activities.length === sent.length, 20_000, 'every activity');
    expect(healthy.activities.map((a) => a.eventId)).toEqual(sent);

    const metrics = await tenant.client.get('/metrics', engine.adminToken);
    expect(metrics.text).toMatch(/^hookster_websocket_slow_consumer_drops_total 1$/m);
    expect(metrics.text).toContain(`\nhookster_websocket_connections ${baseline - 1}\n`);

    stalled.ws.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(1006);
    expect(stalled.activities.length).toBeLessThan(sent.length);
    healthy.close();
    await healthy.closed;
  });
});
