// Engine e2e: what an integration update does to the deliveries it has waiting (DESIGN §2.1, §3).
import { verifyHubsterSignature } from '@hookster/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { closedAfterAll } from './closed-after-all.js';
import { type DeliveryWorld, type WebhookBody, submitText } from './harness.js';
import type { TestReceiver } from './receiver.js';

const use = closedAfterAll();
let world: DeliveryWorld;
let failing: TestReceiver;

beforeAll(async () => {
  failing = await use.receiver((_req, res) => {
    res.statusCode = 500;
    res.end('down');
  });
  world = await use.world({});
});

describe('a Direct integration that moves from webhook to websocket', () => {
  it('cancels its waiting webhook deliveries instead of failing them against an empty URL', async () => {
    const agent = (await world.hub.addIntegration({
      channelId: 'Direct',
      configuration: {
        integrationType: 'Agent',
        webhookUrl: failing.url,
        retrySchedule: '300ms,300ms,300ms',
      },
    })) as { integrationId: string };
    const { conversationId } = await world.hub.openConversation();
    const submitted = await world.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
      type: 'message',
      message: { type: 'text', text: 'anyone there?' },
    });
    expect(submitted.status).toBe(200);
    await failing.waitFor(1);

    const updated = await world.client.put(`/api/v1/integrations/${agent.integrationId}`, {
      configuration: { integrationType: 'Agent' },
    });
    expect(updated.status).toBe(200);

    const delivery = await eventually(
      async () => {
        const page = await world.client.get<{ results: { deliveryId: string; status: string }[] }>(
          `/api/v1/integrations/${agent.integrationId}/deliveries`,
        );
        const only = page.body.results[0];
        return only !== undefined && only.status !== 'pending' ? only : undefined;
      },
      10_000,
      'the waiting delivery to leave pending',
    );
    expect(delivery.status).toBe('cancelled');
    const view = await world.client.get<{ attempts: { error?: string }[] }>(
      `/api/v1/deliveries/${delivery.deliveryId}`,
    );
    expect(view.body.attempts.every((a) => !String(a.error).includes('invalid webhook URL'))).toBe(true);
    const notifications = await world.client.get<{ results: { integrationId: string }[] }>(
      '/api/v1/notifications',
    );
    expect(notifications.body.results.filter((n) => n.integrationId === agent.integrationId)).toEqual([]);
  });
});

describe('a System integration whose webhookUrl and keys change while a delivery waits for a retry', () => {
  it('sends the next attempt to the new URL, signed with the new keys', async () => {
    const old = await use.receiver((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const fresh = await use.receiver((_req, res) => res.end());
    const system = (await world.hub.addIntegration({
      channelId: 'System',
      configuration: { webhookUrl: old.url, events: ['message'], retrySchedule: '2s' },
    })) as { integrationId: string; configuration: { privateSigningKey: string } };
    const { conversationId } = await world.hub.openConversation();
    const eventId = await submitText(world.client, conversationId, 'first try fails');
    // The retry waits 2 s, far longer than the update takes.
    await old.waitFor(1);

    const updated = await world.client.put<{ configuration: Record<string, string> }>(
      `/api/v1/integrations/${system.integrationId}`,
      {
        configuration: {
          webhookUrl: fresh.url,
          events: ['message'],
          retrySchedule: '2s',
          regenerateKeys: true,
        },
      },
    );
    expect(updated.status).toBe(200);
    const keys = updated.body.configuration;
    expect(keys.privateSigningKey).not.toBe(system.configuration.privateSigningKey);

    const [request] = await fresh.waitFor(1);
    if (!request) throw new Error('no request');
    expect(old.requests).toHaveLength(1);
    expect(request.headers['x-hubster-public-key']).toBe(keys.publicSigningKey);
    expect(
      verifyHubsterSignature(
        request.body,
        String(request.headers['x-hubster-signature']),
        String(keys.privateSigningKey),
      ),
    ).toBe(true);
    const body = JSON.parse(request.body.toString('utf8')) as WebhookBody;
    expect(body.activities.map((a) => a.eventId)).toEqual([eventId]);
  });
});

describe('a paused websocket Direct integration given a webhookUrl', () => {
  it('delivers the activities held during the pause to the webhook once resumed', async () => {
    const hook = await use.receiver((_req, res) => res.end());
    const agent = (await world.hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent' },
    })) as { integrationId: string };
    const { customer, conversationId } = await world.hub.openConversation();
    const customerId = String(customer.integrationId);
    const paused = await world.client.put(`/api/v1/integrations/${customerId}`, { statusId: 3002 });
    expect(paused.status).toBe(200);
    const first = await submitText(world.client, conversationId, 'held while paused', agent.integrationId);
    const second = await submitText(world.client, conversationId, 'and this one too', agent.integrationId);
    const held = await world.client.get<{ results: { status: string }[] }>(
      `/api/v1/integrations/${customerId}/deliveries`,
    );
    expect(held.body.results.map((d) => d.status)).toEqual(['held', 'held']);

    const moved = await world.client.put(`/api/v1/integrations/${customerId}`, {
      configuration: { integrationType: 'Customer', webhookUrl: hook.url },
    });
    expect(moved.status).toBe(200);
    const resumed = await world.client.put(`/api/v1/integrations/${customerId}`, { statusId: 3000 });
    expect(resumed.status).toBe(200);

    const requests = await hook.waitFor(2);
    const eventIds = requests.map(
      (r) => (JSON.parse(r.body.toString('utf8')) as { activity: { eventId: number } }).activity.eventId,
    );
    expect(eventIds).toEqual([first, second]);
    for (const request of requests) {
      expect(
        verifyHubsterSignature(
          request.body,
          String(request.headers['x-hubster-signature']),
          String(moved.body.configuration.privateSigningKey),
        ),
      ).toBe(true);
    }
  });
});
