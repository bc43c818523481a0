// Engine e2e: a worker-only process delivers what an API-only process committed to the same database.
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../support/engine.js';
import { createTenantWithToken, setupHub } from '../support/client.js';
import { submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const running: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const part of running.reverse()) await part.stop();
});

describe('hookster serve --role worker', () => {
  it('delivers what an API-only process committed to the same database', async () => {
    const hook: TestReceiver = await startTestReceiver((_req, res) => res.end('ok'));
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
    await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: hook.url, events: ['message'] },
    });
    const { conversationId } = await hub.openConversation();
    const eventId = await submitText(tenant.client, conversationId, 'from the api process');
    // The worker is another process: on SQLite it finds the work by its idle poll (1 s), on PostgreSQL
    // by LISTEN/NOTIFY, well inside the bound.
    const [request] = await hook.waitFor(1, 10_000);
    const body = JSON.parse(request?.body.toString('utf8') ?? '{}') as { activities: { eventId: number }[] };
    expect(body.activities.map((a) => a.eventId)).toEqual([eventId]);
  });
});
