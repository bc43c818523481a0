// Connection time-outs of the gateway: no handshake in time, and a client that goes silent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithToken, setupHub, type Json, type TenantFixture } from '../support/client.js';
import { startInProcessEngine, type InProcessEngine } from './harness.js';
import { connectRawHub } from './raw-hub-client.js';

let engine: InProcessEngine;
let tenant: TenantFixture;
let agent: Json;

beforeAll(async () => {
  // Time-outs with room for a stalled event loop on a loaded CI machine (client and engine share this
  // process): a connecting client's handshake is in time, and a pinging client (20 pings) stays open.
  engine = await startInProcessEngine({
    gateway: { pingIntervalMs: 100, handshakeTimeoutMs: 1_000, clientTimeoutMs: 2_000 },
  });
  tenant = await createTenantWithToken(engine);
  const hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
});

afterAll(async () => {
  await engine?.stop();
});

describe('websocket gateway time-outs', () => {
  it('closes a connection that sends no handshake in time', async () => {
    const client = await connectRawHub(engine.url, {
      token: tenant.token,
      iId: agent.integrationId,
      handshake: null,
    });
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1008, reason: 'Handshake was not received in time.' });
    expect(client.messages).toEqual([]);
  });

  it('closes a silent client with a close message naming the time-out, and keeps a pinging one', async () => {
    const silent = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    const talking = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    const pinger = setInterval(() => talking.send('{"type":6}\x1e'), 100);
    try {
      const closed = await silent.closed;
      expect(closed.code).toBe(1008);
      expect(silent.messages.at(-1)).toEqual({
        type: 7,
        error: 'Server timeout elapsed without receiving a message from the client.',
      });
      expect(talking.ws.readyState).toBe(talking.ws.OPEN);
    } finally {
      clearInterval(pinger);
    }
    talking.close();
    await talking.closed;
  });
});
