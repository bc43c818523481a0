// Two engines on one PostgreSQL schema (each with its own pool, bus connection, HTTP server and
// gateway): an activity submitted on one reaches a websocket client connected to the other.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import {
  apiClient,
  createTenantWithToken,
  eventually,
  setupHub,
  submitText,
  type HubFixture,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

const available = await postgresAvailable();
const { url, schema } = freshSchemaUrl('gw');

let submitter: InProcessEngine;
let pusher: InProcessEngine;
let tenant: TenantFixture;
let hub: HubFixture;
let agent: Json;
let conversationId: string;

describe.runIf(available)('websocket pushes across engine processes (PostgreSQL)', () => {
  beforeAll(async () => {
    // The default grace (1 s) for the other process's "delivered": a shorter one let the submitting
    // process's "no connection" land first when the pushing process was slow to record its outcome.
    submitter = await startInProcessEngine({ databaseUrl: url });
    pusher = await startInProcessEngine({
      databaseUrl: url,
      adminToken: submitter.adminToken,
      migrate: false,
    });
    await pusher.gateway.ready();
    tenant = await createTenantWithToken(submitter);
    hub = await setupHub(tenant.client);
    agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
    ({ conversationId } = await hub.openConversation());
  });

  afterAll(async () => {
    await submitter?.stop();
    await pusher?.stop();
    await dropSchemas([schema]);
  });

  function customerSays(text: string): Promise<number> {
    return submitText(tenant.client, conversationId, text);
  }

  async function deliveries(): Promise<Json[]> {
    // Read through the other engine: both see the same database.
    const other = apiClient(pusher.url, tenant.token);
    const response = await other.get(`/api/v1/integrations/${agent.integrationId}/deliveries?pageSize=100`);
    expect(response.status, response.text).toBe(200);
    return response.body.results as Json[];
  }

  it('pushes, in order, activities committed by another process, large ones included', async () => {
    const client = await connectRawHub(pusher.url, { token: tenant.token, iId: agent.integrationId });
    const sent: number[] = [];
    for (let i = 0; i < 10; i++) sent.push(await customerSays(`cross ${i}`));
    // Too large for a NOTIFY payload: the receiving process loads it from the store.
    const large = 'L'.repeat(20_000);
    sent.push(await customerSays(large));
    sent.push(await customerSays('after the large one'));
    await client.waitFor(() => client.activities.length === sent.length, 15_000, 'every activity');
    expect(client.activities.map((a) => a.eventId)).toEqual(sent);
    expect((client.activities[10]?.message as Json).text).toBe(large);
    client.close();
    await client.closed;
  });

  it('records delivered when only the other process had a connection, and no connection when none had', async () => {
    const client = await connectRawHub(pusher.url, { token: tenant.token, iId: agent.integrationId });
    const heard = await customerSays('heard elsewhere');
    await client.waitFor(() => client.activities.some((a) => a.eventId === heard), 15_000, 'the push');
    // The pushing process records "delivered" after the push, on its own connection: wait for it, as
    // closing the submitting gateway below writes its held-back "no connection" at once.
    // 12 pushes of the previous test and "heard elsewhere" were delivered by the other process.
    await eventually(
      async () =>
        (await deliveries()).filter((d: Json) => d.status === 'delivered').length === 13 ? true : undefined,
      15_000,
      'the other process recorded its pushes',
    );
    client.close();
    await client.closed;
    const unheard = await customerSays('heard nowhere');
    // Closing the submitting engine's gateway writes its held-back "no connection" outcomes now.
    await submitter.gateway.close();
    const statuses = (await deliveries()).map((d: Json) => d.status as string);
    expect(statuses.filter((s) => s === 'delivered')).toHaveLength(13);
    expect(statuses.filter((s) => s === 'failed')).toHaveLength(1);
    expect(statuses).toHaveLength(14);
    expect(unheard).toBeGreaterThan(heard);
  });
});
