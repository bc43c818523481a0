// The outcome of the push that overflows a stalled consumer's send buffer: the gateway cuts that
// connection off at once (its socket destroyed, the frame still queued in it), so that activity never
// reached it and must not be recorded delivered. Runs on SQLite, and on PostgreSQL with
// HOOKSTER_TEST_DATABASE_URL.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  eventually,
  setupHub,
  submitText,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { dropIsolatedSchema, isolatedTestDatabaseUrl } from '../support/engine.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const databaseUrl = isolatedTestDatabaseUrl();
let engine: InProcessEngine;
let tenant: TenantFixture;

beforeAll(async () => {
  engine = await startInProcessEngine({ databaseUrl, gateway: { maxBufferedBytes: 64 * 1024 } });
  tenant = await createTenantWithToken(engine);
});

afterAll(async () => {
  await engine?.stop();
  if (databaseUrl !== undefined) await dropIsolatedSchema(databaseUrl);
});

describe('a consumer dropped for reading too slowly', () => {
  it('records the push that overflowed its send buffer as not delivered', async () => {
    const hub = await setupHub(tenant.client);
    const agent = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { customer, conversationId } = await hub.openConversation();
    const iId = customer.integrationId as string;
    const stalled = await connectRawHub(engine.url, { token: tenant.token, iId });
    const baseline = engine.gateway.connectionCount();
    // Stops reading: the kernel buffers fill, then the gateway's send buffer overflows.
    stalled.ws.pause();

    const text = 'x'.repeat(100 * 1024);
    const sent: number[] = [];
    while (engine.gateway.connectionCount() === baseline) {
      if (sent.length >= 400) throw new Error('the stalled consumer was never disconnected');
      sent.push(await submitText(tenant.client, conversationId, text, agent.integrationId as string));
    }
    const last = sent[sent.length - 1];

    stalled.ws.resume();
    expect((await stalled.closed).code).toBe(1006);
    // The premise: the activity whose push dropped the connection never reached it.
    expect(stalled.activities.map((a) => a.eventId)).not.toContain(last);

    const deliveries = await eventually(
      async () => {
        const response = await tenant.client.get(`/api/v1/integrations/${iId}/deliveries?pageSize=100`);
        expect(response.status, response.text).toBe(200);
        const results = response.body.results as Json[];
        return results.length === sent.length && results.every((d) => d.status !== 'pending')
          ? results
          : undefined;
      },
      10_000,
      'every delivery settled',
    );
    // Newest first: the first is the delivery of the activity whose push overflowed the buffer.
    expect(deliveries[0]?.status).toBe('failed');
  });
});
