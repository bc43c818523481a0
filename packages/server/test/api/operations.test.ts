// Operations endpoints: liveness, readiness, Prometheus metrics and the OpenAPI docs (no token needed).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createTenantWithToken, eventually, setupHub } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver } from '../support/receiver.js';

let engine: RunningEngine;

beforeAll(async () => {
  engine = await startEngine();
});

afterAll(async () => {
  await engine?.stop();
});

describe('operations endpoints', () => {
  it('answers /healthz and /readyz without a token', async () => {
    const anonymous = apiClient(engine.url, null);
    const health = await anonymous.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await anonymous.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });

  it('counts submitted activities and delivery attempts in /metrics', async () => {
    const receiver = await startReceiver(200);
    const tenant = await createTenantWithToken(engine);
    const hub = await setupHub(tenant.client);
    await hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: `${receiver.url}/metrics`, events: ['message'] },
    });
    const { conversationId } = await hub.openConversation();
    for (let i = 0; i < 3; i++) {
      const sent = await tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: `m${i}` },
      });
      expect(sent.status).toBe(200);
    }
    await receiver.waitFor(1);
    await receiver.close();
    const metrics = await eventually(async () => {
      const response = await apiClient(engine.url, null).get('/metrics');
      return /^hookster_delivery_attempts_total\{outcome="delivered"\} [1-9]/m.test(response.text)
        ? response
        : undefined;
    });
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toMatch(/^hookster_activities_submitted_total 3$/m);
    expect(metrics.text).toContain('hookster_delivery_attempts_total');
    expect(metrics.text).toContain('hookster_process_resident_memory_bytes');
  });

  it('serves the OpenAPI document and a docs page listing every route', async () => {
    const anonymous = apiClient(engine.url, null);
    const document = await anonymous.get('/docs/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/tenants',
      '/api/v1/tenants/{tenantId}/clients/{clientId}',
      '/connect/token',
      '/api/v1/hubs/{hubId}',
      '/api/v1/integrations/hubs/{hubId}',
      '/api/v1/conversations/establish',
      '/inbound/customer/v1/direct/activity/{conversationId}',
      '/inbound/business/v1/direct/activity/{conversationId}',
      '/api/v1/interactions/activities/{conversationId}',
      '/api/v1/deliveries/{deliveryId}/retry',
      '/api/v1/integrations/{integrationId}/recover',
      '/api/v1/notifications',
    ]) {
      expect(Object.keys(document.body.paths)).toContain(path);
    }
    const page = await anonymous.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('/docs/openapi.json');
  });
});
