// Engine e2e: signed webhook deliveries that verify with the SDK (Hubster, Standard Webhooks), Direct echo.
import { Buffer } from 'node:buffer';
import { verifyHubsterSignature } from '@hookster/sdk';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { type DeliveryWorld, type WebhookBody, addSystem, startWorld, submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

let world: DeliveryWorld;
let hook: TestReceiver;

beforeAll(async () => {
  hook = await startTestReceiver((_req, res) => res.end('thanks'));
  world = await startWorld();
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

describe('signed webhook delivery', () => {
  it('posts a committed activity with Hubster and Standard Webhooks headers that verify', async () => {
    const system = await addSystem(world, `${hook.url}?source=hookster`);
    const { conversationId } = await world.hub.openConversation();
    const eventId = await submitText(
      world.client,
      conversationId,
      'Hi, I need help with my order #4471 — Zoë',
    );
    const [request] = await hook.waitFor(1);
    if (!request) throw new Error('no request');

    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook?source=hookster');
    const h = request.headers;
    expect(h['content-type']).toBe('application/json; charset=utf-8');
    expect(h['content-length']).toBe(String(request.body.length));
    expect(h['x-source-system']).toBe('engine.hubster.io');
    expect(h['x-hub-id']).toBe(world.hub.hubId);
    expect(h['x-integration-id']).toBe(system.integrationId);
    expect(h['x-conversation-id']).toBe(conversationId);
    expect(h['x-hubster-public-key']).toBe(system.publicSigningKey);
    expect(
      verifyHubsterSignature(request.body, String(h['x-hubster-signature']), system.privateSigningKey),
    ).toBe(true);

    const body = JSON.parse(request.body.toString('utf8')) as WebhookBody;
    expect(Object.keys(body)).toEqual([
      'hubId',
      'tenantId',
      'integrationId',
      'conversationId',
      'conversationProperties',
      'activities',
    ]);
    expect(body).toMatchObject({
      hubId: world.hub.hubId,
      tenantId: world.tenantId,
      integrationId: system.integrationId,
    });
    expect(body.activities.map((a) => a.eventId)).toEqual([eventId]);
    expect(body.activities[0]?.message?.text).toBe('Hi, I need help with my order #4471 — Zoë');

    const secret = 'whsec_' + Buffer.from(system.privateSigningKey, 'utf8').toString('base64');
    const verified = new Webhook(secret).verify(request.body.toString('utf8'), {
      'webhook-id': String(h['webhook-id']),
      'webhook-timestamp': String(h['webhook-timestamp']),
      'webhook-signature': String(h['webhook-signature']),
    });
    expect(verified).toEqual(body);
    expect(Math.abs(Number(h['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);

    const deliveryId = String(h['webhook-id']);
    const delivery = await eventually(async () => {
      const response = await world.client.get<{ status: string; attempts: { statusCode?: number }[] }>(
        `/api/v1/deliveries/${deliveryId}`,
      );
      return response.body.status === 'delivered' ? response.body : undefined;
    });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({
      attemptNumber: 1,
      statusCode: 200,
      responseExcerpt: 'thanks',
    });

    // The dispatch thread forwards its metrics to the main registry every 100 ms: wait for them.
    const delivered = /hookster_delivery_attempts_total\{outcome="delivered"\} [1-9]/;
    const metrics = await eventually(
      async () => {
        const response = await world.client.raw('/metrics', {
          method: 'GET',
          token: world.engine.adminToken,
        });
        return delivered.test(response.text) ? response.text : undefined;
      },
      10_000,
      'the delivered attempt in /metrics',
    );
    expect(metrics).toMatch(/hookster_delivery_attempt_seconds_count\{outcome="delivered"\} [1-9]/);
  });
});

describe('Direct webhook delivery', () => {
  it('sends the echo copy to a Direct customer with echo on, as a single activity with isEcho true', async () => {
    const direct = await startTestReceiver((_req, res) => res.end());
    try {
      const { customer, conversationId } = await world.hub.openConversation({
        webhookUrl: direct.url,
        echo: true,
      });
      const read = await world.client.get<{ configuration: Record<string, string> }>(
        `/api/v1/integrations/${String(customer.integrationId)}`,
      );
      const privateKey = String(read.body.configuration.privateSigningKey);
      const eventId = await submitText(world.client, conversationId, 'echo me');
      const [request] = await direct.waitFor(1);
      if (!request) throw new Error('no request');
      const body = JSON.parse(request.body.toString('utf8')) as {
        integrationId: string;
        activity: { eventId: number; isEcho: boolean };
        activities?: unknown;
      };
      expect(body.integrationId).toBe(customer.integrationId);
      expect(body.activities).toBeUndefined();
      expect(body.activity).toMatchObject({ eventId, isEcho: true });
      expect(request.headers['x-integration-id']).toBe(customer.integrationId);
      expect(
        verifyHubsterSignature(request.body, String(request.headers['x-hubster-signature']), privateKey),
      ).toBe(true);
    } finally {
      await direct.close();
    }
  });
});
