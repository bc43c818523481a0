// A running engine (real child process on SQLite) delivers to each adapter in its real framework; a tampered
// replay of the engine's request and a delivery signed with keys the receiver does not know both get 403.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import { createReceiver, HooksterClient, type Delivery, type HeaderSource } from '../src/index.js';
import { createReceiver as createWebReceiver } from '../src/webcrypto.js';
import { hooksterNodeHandler } from '../src/node.js';
import { hooksterFastify } from '../src/fastify.js';
import { hooksterWebHandler } from '../src/web.js';
import { until } from '../../server/test/support/client.js';
import { startEngine, type RunningEngine } from '../../server/test/support/engine.js';

/** What an adapter saw: each verified delivery with the request headers, and every answer it gave. */
interface Seen {
  deliveries: { delivery: Delivery; headers: Record<string, string> }[];
  statuses: number[];
}

interface AdapterTarget {
  name: string;
  url: string;
  seen: Seen;
  close(): Promise<void>;
}

// Why a shared map behind an async lookup: the keys exist only once the engine created the integrations,
// and the test later rotates one pair without telling the receiver.
const knownKeys = new Map<string, string>();
const lookup = async (publicKey: string) => knownKeys.get(publicKey);

function plainHeaders(headers: HeaderSource | http.IncomingHttpHeaders | Headers): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, key) => (out[key] = value));
    return out;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') out[key.toLowerCase()] = value;
  }
  return out;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function counting(server: http.Server, seen: Seen): void {
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.once('finish', () => seen.statuses.push(res.statusCode));
  });
}

async function nodeTarget(): Promise<AdapterTarget> {
  const seen: Seen = { deliveries: [], statuses: [] };
  const server = http.createServer(
    hooksterNodeHandler({
      receiver: createReceiver({ keys: lookup }),
      onDelivery: (delivery, req) =>
        void seen.deliveries.push({ delivery, headers: plainHeaders(req.headers) }),
    }),
  );
  counting(server, seen);
  return {
    name: 'node:http',
    url: `${await listen(server)}/`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function expressTarget(): Promise<AdapterTarget> {
  const seen: Seen = { deliveries: [], statuses: [] };
  const app = express();
  app.post(
    '/hooks',
    hooksterNodeHandler({
      receiver: createReceiver({ keys: lookup }),
      onDelivery: (delivery, req) =>
        void seen.deliveries.push({ delivery, headers: plainHeaders(req.headers) }),
    }),
  );
  const server = http.createServer(app);
  counting(server, seen);
  return {
    name: 'Express',
    url: `${await listen(server)}/hooks`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function fastifyTarget(): Promise<AdapterTarget> {
  const seen: Seen = { deliveries: [], statuses: [] };
  const app = Fastify();
  app.addHook('onResponse', async (_request, reply) => void seen.statuses.push(reply.statusCode));
  await app.register(hooksterFastify, {
    prefix: '/hooks',
    receiver: createReceiver({ keys: lookup }),
    onDelivery: (delivery, request) =>
      void seen.deliveries.push({ delivery, headers: plainHeaders(request.headers) }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { name: 'Fastify', url: `${url}/hooks`, seen, close: () => app.close() };
}

async function honoTarget(): Promise<AdapterTarget> {
  const seen: Seen = { deliveries: [], statuses: [] };
  const app = new Hono();
  const handle = hooksterWebHandler({
    receiver: createWebReceiver({ keys: lookup }),
    onDelivery: (delivery, request) =>
      void seen.deliveries.push({ delivery, headers: plainHeaders(request.headers) }),
  });
  app.post('/hooks', async (c) => {
    const response = await handle(c.req.raw);
    seen.statuses.push(response.status);
    return response;
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    name: 'Hono',
    url: `http://127.0.0.1:${port}/hooks`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('engine → adapters', () => {
  let engine: RunningEngine;
  let targets: AdapterTarget[];
  let api: HooksterClient;
  let conversationId: string;
  let agent: AdapterTarget;
  let agentIntegrationId: string;
  const integrationOf = new Map<string, string>();

  beforeAll(async () => {
    [engine, agent, ...targets] = await Promise.all([
      startEngine(),
      expressTarget(),
      nodeTarget(),
      expressTarget(),
      fastifyTarget(),
      honoTarget(),
    ]);
    const admin = new HooksterClient({ url: engine.url, token: engine.adminToken });
    const tenant = await admin.createTenant({
      name: `sdk-${Date.now()}`,
      accountHolderEmail: 'sdk@example.com',
    });
    api = admin.withToken(
      (await admin.requestToken(await admin.createClientCredentials(tenant.tenantId))).access_token,
    );
    const hub = await api.createHub({ name: 'sdk adapters', description: 'engine to adapters' });
    for (const target of targets) {
      const integration = await api.createIntegration(hub.hubId, {
        channelId: 'System',
        name: `system-${target.name}`,
        configuration: {
          webhookUrl: target.url,
          events: ['message'],
          retrySchedule: '100ms,100ms',
          deliveryTimeout: '2s',
        },
      });
      const { publicSigningKey, privateSigningKey } = integration.configuration;
      expect(publicSigningKey).toMatch(/^[0-9A-F]{32}$/);
      knownKeys.set(publicSigningKey!, privateSigningKey!);
      integrationOf.set(target.name, integration.integrationId);
    }
    // A Direct agent with a webhook: the customer's messages go to it as a Direct payload (single activity).
    const direct = await api.createIntegration(hub.hubId, {
      channelId: 'Direct',
      name: 'agent',
      configuration: { integrationType: 'Agent', webhookUrl: agent.url },
    });
    knownKeys.set(direct.configuration.publicSigningKey!, direct.configuration.privateSigningKey!);
    agentIntegrationId = direct.integrationId;
    const customer = await api.createIntegration(hub.hubId, {
      channelId: 'Direct',
      name: 'customer',
      configuration: { integrationType: 'Customer' },
    });
    conversationId = (
      await api.establishConversation({ integrationId: customer.integrationId, binding: 'user-1' })
    ).conversationId;
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...(targets ?? []).map((t) => t.close()), agent?.close(), engine?.stop()]);
  });

  it('delivers a customer message that every adapter verifies, parses and answers 200', async () => {
    const submitted = await api.submitCustomerActivity(conversationId, {
      type: 'message',
      message: { type: 'text', text: 'Bonjour ☕ from the engine' },
    });
    await until('a delivery at every adapter', () => targets.every((t) => t.seen.deliveries.length >= 1));
    for (const target of targets) {
      const [{ delivery }] = target.seen.deliveries as [Seen['deliveries'][number]];
      expect(delivery.payload.integrationId, target.name).toBe(integrationOf.get(target.name));
      expect(delivery.integrationId).toBe(integrationOf.get(target.name));
      expect(delivery.webhookId).toBeTruthy();
      const [activity] = delivery.activities;
      expect(activity).toMatchObject({
        type: 'message',
        eventId: submitted.eventId,
        eventTrigger: 'message:customer',
      });
      expect(activity?.type === 'message' && activity.message.type === 'text' && activity.message.text).toBe(
        'Bonjour ☕ from the engine',
      );
      expect(target.seen.statuses, target.name).toContain(200);
    }
  });

  it('delivers the same message to the Direct agent as a Direct payload with one activity', async () => {
    await until('the Direct delivery', () => agent.seen.deliveries.length >= 1);
    const { delivery } = agent.seen.deliveries[0]!;
    expect('activity' in delivery.payload).toBe(true);
    expect(delivery.payload.integrationId).toBe(agentIntegrationId);
    expect(delivery.activities).toHaveLength(1);
    expect(delivery.activities[0]).toMatchObject({
      eventTrigger: 'message:customer',
      recipient: { integrationId: agentIntegrationId, integrationType: 'Agent' },
    });
  });

  it('answers 403 to a tampered replay of the engine request at every adapter', async () => {
    for (const target of targets) {
      const { delivery, headers } = target.seen.deliveries[0]!;
      const forged = JSON.stringify({
        ...delivery.payload,
        tenantId: '00000000-0000-0000-0000-000000000000',
      });
      const { 'content-length': _length, host: _host, ...replayed } = headers;
      const response = await fetch(target.url, {
        method: 'POST',
        headers: replayed,
        body: forged,
        signal: AbortSignal.timeout(10_000),
      });
      expect({ adapter: target.name, status: response.status }).toEqual({
        adapter: target.name,
        status: 403,
      });
      expect(await response.json()).toMatchObject({ error: 'bad_signature' });
    }
  });

  it('answers 403 when the engine signs with rotated keys the receiver does not know yet', async () => {
    const target = targets[0]!;
    const integrationId = integrationOf.get(target.name)!;
    const current = await api.getIntegration(integrationId);
    await api.updateIntegration(integrationId, {
      channelId: 'System',
      name: current.name,
      // Why 1 s between attempts: time enough to learn the new pair after the first 403, on a busy machine.
      configuration: {
        webhookUrl: target.url,
        events: ['message'],
        retrySchedule: '1s,1s,1s,1s,1s',
        deliveryTimeout: '2s',
        regenerateKeys: true,
      },
    });
    const before = target.seen.statuses.filter((s) => s === 403).length;
    await api.submitCustomerActivity(conversationId, {
      type: 'message',
      message: { type: 'text', text: 'after rotation' },
    });
    await until(
      'a 403 for the rotated key',
      () => target.seen.statuses.filter((s) => s === 403).length > before,
    );
    expect(target.seen.deliveries).toHaveLength(1);
    // Once the receiver learns the new pair (rotation without downtime: both pairs known), the retry verifies.
    const rotated = await api.getIntegration(integrationId);
    expect(rotated.configuration.publicSigningKey).not.toBe(current.configuration.publicSigningKey);
    knownKeys.set(rotated.configuration.publicSigningKey!, rotated.configuration.privateSigningKey!);
    await until('the retried delivery to verify', () => target.seen.deliveries.length >= 2);
    const retried = target.seen.deliveries[1]!.delivery.activities[0]!;
    expect(retried.type === 'message' && retried.message.type === 'text' && retried.message.text).toBe(
      'after rotation',
    );
  });
});
