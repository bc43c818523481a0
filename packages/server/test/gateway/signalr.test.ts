// The official @microsoft/signalr client against the gateway, unchanged: negotiate + websocket,
// activities in order, refusal of a bad token, automatic reconnect after the engine restarts.

import {
  HttpTransportType,
  HubConnectionBuilder,
  HubConnectionState,
  LogLevel,
  type HubConnection,
} from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenantWithToken,
  setupHub,
  submitText,
  type HubFixture,
  type Json,
  type TenantFixture,
  storeTenantToken,
} from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';

let engine: InProcessEngine;
let tenant: TenantFixture;
let hub: HubFixture;
let agent: Json;
let conversationId: string;

beforeAll(async () => {
  engine = await startInProcessEngine();
  tenant = await createTenantWithToken(engine);
  hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
  ({ conversationId } = await hub.openConversation());
});

afterAll(async () => {
  await engine?.stop();
});

function hubConnection(
  token: string,
  options: { skipNegotiation?: boolean; reconnect?: number[] } = {},
): HubConnection {
  let builder = new HubConnectionBuilder()
    .withUrl(`${engine.url}/engine-chat-hub?iId=${agent.integrationId}`, {
      accessTokenFactory: () => token,
      ...(options.skipNegotiation ? { skipNegotiation: true, transport: HttpTransportType.WebSockets } : {}),
    })
    .configureLogging(LogLevel.None);
  if (options.reconnect) builder = builder.withAutomaticReconnect(options.reconnect);
  return builder.build();
}

/** Collects ReceiveDirectActivities arguments and resolves when `count` have arrived (bounded). */
function collect(connection: HubConnection): {
  activities: Json[];
  until(count: number, timeoutMs?: number): Promise<void>;
} {
  const activities: Json[] = [];
  const waiters = new Set<() => void>();
  connection.on('ReceiveDirectActivities', (activity: Json) => {
    activities.push(activity);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    activities,
    until(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (activities.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`received ${activities.length} of ${count} activities in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

function customerSays(text: string): Promise<number> {
  return submitText(tenant.client, conversationId, text);
}

describe('the official SignalR client', () => {
  it('negotiates, connects with accessTokenFactory and receives activities in order', async () => {
    const connection = hubConnection(tenant.token);
    const inbox = collect(connection);
    await connection.start();
    expect(connection.state).toBe(HubConnectionState.Connected);
    const sent: number[] = [];
    for (let i = 0; i < 20; i++) sent.push(await customerSays(`message ${i}`));
    await inbox.until(20);
    expect(inbox.activities.map((a: Json) => a.eventId)).toEqual(sent);
    expect(inbox.activities.map((a: Json) => a.message.text)).toEqual(sent.map((_, i) => `message ${i}`));
    await connection.stop();
  });

  it('connects without negotiation straight over the websocket', async () => {
    const connection = hubConnection(tenant.token, { skipNegotiation: true });
    const inbox = collect(connection);
    await connection.start();
    const eventId = await customerSays('no negotiate');
    await inbox.until(1);
    expect(inbox.activities[0]).toMatchObject({ eventId, isEcho: false });
    await connection.stop();
  });

  it('fails to start with a bad token (401)', async () => {
    await expect(hubConnection('bad-token').start()).rejects.toThrow(/401/);
    await expect(hubConnection('bad-token', { skipNegotiation: true }).start()).rejects.toThrow();
  });

  it('reconnects by itself after the engine restarts and keeps receiving', async () => {
    const connection = hubConnection(tenant.token, {
      reconnect: [0, 100, 200, 300, 500, 500, 1000, 1000, 1000, 2000, 2000],
    });
    const inbox = collect(connection);
    const reconnecting = new Promise<void>((resolve) => connection.onreconnecting(() => resolve()));
    const reconnected = new Promise<void>((resolve) => connection.onreconnected(() => resolve()));
    await connection.start();
    await customerSays('before restart');
    await inbox.until(1);

    await engine.restart();
    await reconnecting;
    await reconnected;
    expect(connection.state).toBe(HubConnectionState.Connected);
    const eventId = await customerSays('after restart');
    await inbox.until(2);
    expect(inbox.activities[1]).toMatchObject({ eventId, message: { text: 'after restart' } });
    await connection.stop();
  });

  it('is closed when its token expires and reconnects with the fresh token its factory gives', async () => {
    // A tenant token that expires in 3 s; once the connection is lost, the tenant's 30-day one (as a
    // client that refreshes its token would give).
    const expiresAt = Date.now() + 3_000;
    const shortLived = await storeTenantToken(engine.store, tenant, expiresAt);
    let lost: Error | undefined;
    let lostAt = 0;
    const connection = new HubConnectionBuilder()
      .withUrl(`${engine.url}/engine-chat-hub?iId=${agent.integrationId}`, {
        accessTokenFactory: () => (lostAt === 0 ? shortLived : tenant.token),
      })
      .withAutomaticReconnect([0, 100, 200, 500, 1000])
      .configureLogging(LogLevel.None)
      .build();
    const inbox = collect(connection);
    connection.onreconnecting((error) => {
      lost = error;
      lostAt = Date.now();
    });
    const reconnected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not reconnected within 15 s')), 15_000);
      connection.onreconnected(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await connection.start();
    await customerSays('before expiry');
    await inbox.until(1);

    await reconnected;
    expect(lostAt).toBeGreaterThanOrEqual(expiresAt);
    expect(lost?.message).toMatch(/token has expired/);
    expect(connection.state).toBe(HubConnectionState.Connected);
    const eventId = await customerSays('after expiry');
    await inbox.until(2);
    expect(inbox.activities[1]).toMatchObject({ eventId, message: { text: 'after expiry' } });
    await connection.stop();
  });
});
