// Engine e2e: a worker-only process delivers what an API-only process committed to the same database.
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../support/engine.js';
import { createTenantWithToken, eventually, setupHub } from '../support/client.js';
import { submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const running: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const part of running.reverse()) await part.stop();
});

/** An API-only and a worker-only process on one database, a tenant, a hub and a System integration. */
async function apiAndWorker(answer: Parameters<typeof startTestReceiver>[0]) {
  const hook: TestReceiver = await startTestReceiver(answer);
  running.push({ stop: () => hook.close() });
  const api: RunningEngine = await startEngine({ role: 'api' });
  running.push(api);
  const worker = await startEngine({
    role: 'worker',
    databaseUrl: api.databaseUrl,
    adminToken: api.adminToken,
  });
  running.push(worker);
  const tenant = await createTenantWithToken(api);
  const hub = await setupHub(tenant.client);
  const system = await hub.addIntegration({
    channelId: 'System',
    configuration: { webhookUrl: hook.url, events: ['message'] },
  });
  return { hook, tenant, hub, system };
}

describe('hookster serve --role worker', () => {
  it('delivers what an API-only process committed to the same database', async () => {
    const { hook, tenant, hub, system } = await apiAndWorker((_req, res) => res.end('ok'));
    const { conversationId } = await hub.openConversation();
    const eventId = await submitText(tenant.client, conversationId, 'from the api process');
    const [request] = await hook.waitFor(1, 10_000);
    const body = JSON.parse(request?.body.toString('utf8') ?? '{}') as { activities: { eventId: number }[] };
    expect(body.activities.map((a) => a.eventId)).toEqual([eventId]);

    // Woken by the other process's commit (SQLite: the file's change; PostgreSQL: NOTIFY), not found by
    // the worker's 1 s idle poll: one at a time, the median submit → received is far below the poll.
    const latencies: number[] = [];
    for (let n = 2; n <= 11; n++) {
      // The worker has recorded the previous delivery (and looked for more): it is idle now.
      await eventually(async () => {
        const page = await tenant.client.get(
          `/api/v1/integrations/${String(system.integrationId)}/deliveries?status=delivered`,
        );
        return page.body.total === n - 1 ? true : undefined;
      });
      const sentAt = performance.now();
      await submitText(tenant.client, conversationId, `message ${n}`);
      await hook.waitFor(n, 10_000);
      latencies.push(performance.now() - sentAt);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[5], `latencies ${latencies.map(Math.round).join(', ')} ms`).toBeLessThan(250);
  });

  it('sends each activity once when the API process reads the delivery log while they are in flight', async () => {
    // Before: the worker's dispatch thread took fresh deliveries as flights (kept in its memory only).
    // A read of the delivery log in the API process, which cannot see them, wrote their fanouts as
    // pending rows, and the worker sent them again.
    const { hook, tenant, hub, system } = await apiAndWorker((_req, res) =>
      setTimeout(() => res.end('ok'), 400),
    );
    const conversations: string[] = [];
    for (let i = 0; i < 10; i++) conversations.push((await hub.openConversation()).conversationId);
    const log = `/api/v1/integrations/${String(system.integrationId)}/deliveries`;
    await Promise.all(conversations.map((id) => submitText(tenant.client, id, 'first')));
    // All ten are being answered (400 ms each): the log is read while they are in flight.
    await hook.waitFor(conversations.length, 10_000);
    expect((await tenant.client.get(log)).status).toBe(200);
    await eventually(async () => {
      const delivered = await tenant.client.get(`${log}?status=delivered`);
      const all = await tenant.client.get(log);
      return all.body.total === conversations.length && delivered.body.total === all.body.total
        ? true
        : undefined;
    }, 20_000);
    // A row sent twice is delivered only once its second sending is answered: both are in by now.
    expect(hook.requests).toHaveLength(conversations.length);
  });
});
