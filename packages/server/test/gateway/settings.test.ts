// Black-box: the gateway's settings (HOOKSTER_WS_*) reach the running engine's gateway.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithToken, setupHub, type Json, type TenantFixture } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { connectRawHub } from './raw-hub-client.js';

let engine: RunningEngine;
let tenant: TenantFixture;
let agent: Json;

beforeAll(async () => {
  engine = await startEngine({
    env: { HOOKSTER_WS_PING_INTERVAL: '100ms', HOOKSTER_WS_CLIENT_TIMEOUT: '1500ms' },
  });
  tenant = await createTenantWithToken(engine);
  const hub = await setupHub(tenant.client);
  agent = await hub.addIntegration({ channelId: 'Direct', configuration: { integrationType: 'Agent' } });
});

afterAll(async () => {
  await engine?.stop();
});

describe('gateway settings from the environment', () => {
  it('pings at HOOKSTER_WS_PING_INTERVAL and closes a silent client after HOOKSTER_WS_CLIENT_TIMEOUT', async () => {
    const client = await connectRawHub(engine.url, { token: tenant.token, iId: agent.integrationId });
    const opened = Date.now();
    // The defaults (15 s ping, 30 s time-out) would not produce either within these bounds.
    await client.waitFor(() => client.messages.filter((m) => m.type === 6).length >= 3, 5_000, 'three pings');
    await client.waitFor(() => client.messages.some((m) => m.type === 7), 10_000, 'the close message');
    const close = client.messages.find((m) => m.type === 7);
    expect(close?.error).toMatch(/time/i);
    // Never before the configured time-out.
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1_400);
    await client.closed;
  });
});
