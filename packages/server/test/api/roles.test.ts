// Roles: an api process takes submissions while a separate worker process on the same database
// delivers them; the worker serves only health and metrics.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createTenantWithToken, setupHub } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let api: RunningEngine;
let worker: RunningEngine | undefined;
let receiver: Receiver;

beforeAll(async () => {
  api = await startEngine({ role: 'api' });
  receiver = await startReceiver(200);
});

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await api?.stop();
});

describe('roles', () => {
  it('delivers what the api role committed once a worker process runs', async () => {
    const tenant = await createTenantWithToken(api);
    const hub = await setupHub(tenant.client);
    const system = await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: `${receiver.url}/split`, events: ['message'] },
    });
    const { conversationId } = await hub.openConversation();
    const sent = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'split roles' },
    });
    expect(sent.status).toBe(200);
    // On a private SQLite file nothing delivers before the worker starts (on a shared PostgreSQL
    // database other test engines' workers may deliver it as well).
    if (api.dbPath) {
      const pending = await tenant.client.get(
        `/api/v1/integrations/${system.integrationId}/deliveries?status=pending`,
      );
      expect(pending.body.total).toBe(1);
      expect(receiver.requests).toHaveLength(0);
    }

    worker = await startEngine({
      role: 'worker',
      databaseUrl: api.databaseUrl,
      adminToken: api.adminToken,
    });
    const [request] = await receiver.waitFor(1, 15_000);
    expect(request?.headers['x-integration-id']).toBe(system.integrationId);
    expect(request?.json<{ activities: { message: { text: string } }[] }>().activities[0]?.message.text).toBe(
      'split roles',
    );

    const workerClient = apiClient(worker.url, worker.adminToken);
    expect((await workerClient.get('/healthz')).status).toBe(200);
    expect((await workerClient.get('/readyz')).status).toBe(200);
    const api404 = await workerClient.get('/api/v1/hubs');
    expect(api404.status).toBe(404);
    expect(api404.text).toMatch(/runs the webhook dispatcher only \(--role worker\)/);
  });
});
