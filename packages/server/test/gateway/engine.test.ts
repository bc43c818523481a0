// Black-box: the real `hookster serve` process and the official SignalR client. The client connects,
// receives in order, and reconnects by itself after a graceful restart and after a crash.

import { HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import {
  createTenantWithToken,
  setupHub,
  submitText,
  until,
  type Json,
  type TenantFixture,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { stablePort } from '../support/stable-port.js';
import { connectRawHub } from './raw-hub-client.js';

let engine: RunningEngine;
let tenant: TenantFixture;
let agent: Json;
let conversationId: string;

beforeAll(async () => {
  engine = await startEngine({ args: ['--port', String(await stablePort())] });
  tenant = await createTenantWithToken(engine);
  const hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
  ({ conversationId } = await hub.openConversation());
});

afterAll(async () => {
  await engine?.stop();
});

function customerSays(text: string): Promise<number> {
  return submitText(tenant.client, conversationId, text);
}

/** Resolves on the next `onreconnected` (bounded). */
function nextReconnect(connection: HubConnection, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reconnect')), timeoutMs);
    connection.onreconnected(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('the engine process with the official SignalR client', () => {
  it('refuses a missing token at the handshake with 401', async () => {
    await expect(connectRawHub(engine.url, { iId: agent.integrationId })).rejects.toMatchObject({
      status: 401,
    });
  });

  it('receives in order and reconnects after a graceful restart and after a crash', async () => {
    const connection = new HubConnectionBuilder()
      .withUrl(`${engine.url}/engine-chat-hub?iId=${agent.integrationId}`, {
        accessTokenFactory: () => tenant.token,
      })
      // Retries every 250 ms for up to 60 s: long enough for a slow restart on a loaded machine.
      .withAutomaticReconnect({
        nextRetryDelayInMilliseconds: (retry) => (retry.elapsedMilliseconds < 60_000 ? 250 : null),
      })
      .configureLogging(LogLevel.None)
      .build();
    const received: Json[] = [];
    connection.on('ReceiveDirectActivities', (activity: Json) => received.push(activity));
    await connection.start();

    const sent: number[] = [];
    for (let i = 0; i < 10; i++) sent.push(await customerSays(`before ${i}`));
    await until('activities before the restart', () => received.length >= 10, 15_000);

    let reconnected = nextReconnect(connection);
    await engine.restart();
    await reconnected;
    sent.push(await customerSays('after the graceful restart'));
    await until('the activity after the restart', () => received.length >= 11, 15_000);

    reconnected = nextReconnect(connection);
    await engine.kill('SIGKILL');
    await engine.restart();
    await reconnected;
    sent.push(await customerSays('after the crash'));
    await until('the activity after the crash', () => received.length >= 12, 15_000);

    expect(received.map((a: Json) => a.eventId)).toEqual(sent);
    expect(connection.state).toBe(HubConnectionState.Connected);
    await connection.stop();
  }, 150_000);
});

const postgres = await postgresAvailable();

describe.runIf(postgres)('two engine processes on one PostgreSQL database', () => {
  const { url, schema } = freshSchemaUrl('gwe');
  let first: RunningEngine;
  let second: RunningEngine;

  beforeAll(async () => {
    first = await startEngine({ databaseUrl: url });
    second = await startEngine({ databaseUrl: url, adminToken: first.adminToken });
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await dropSchemas([schema]);
  });

  it('pushes an activity submitted on one process to a client connected to the other', async () => {
    const owner = await createTenantWithToken(first);
    const hub = await setupHub(owner.client);
    const receiver = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    });
    const { conversationId: conversation } = await hub.openConversation();
    const client = await connectRawHub(second.url, { token: owner.token, iId: receiver.integrationId });
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await owner.client.post(`/inbound/customer/v1/direct/activity/${conversation}`, {
        type: 'message',
        message: { type: 'text', text: `from the first process ${i}` },
      });
      expect(response.status, response.text).toBe(200);
      sent.push(response.body.eventId as number);
    }
    await client.waitFor(() => client.activities.length === sent.length, 15_000, 'the pushes');
    expect(client.activities.map((a) => a.eventId)).toEqual(sent);
    client.close();
    await client.closed;
  });
});
