// Every route of a real engine (the admin API, the inbound submit routes, /connect/token, the gateway's
// negotiate, health, metrics and docs) is sent bad input of every kind: malformed JSON, JSON of the wrong
// type, missing, extra and wrongly typed fields, huge strings, deep nesting, invalid UTF-8 and NUL bytes,
// wrong content types, empty bodies, bad ids and path segments, bad query strings, bad auth headers and
// every method. Never a 5xx; every 4xx in the documented error shape; the engine stays ready and
// delivers afterwards, and a refused submit leaves nothing behind. (bad-input.test.ts covers the single
// cases with their exact answers; this sweeps them across every route.)

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  createTenantWithToken,
  setupHub,
  uniqueName,
  type ApiClient,
  type ApiResponse,
  type Json,
} from '../support/client.js';
import { rawStatusLine } from '../support/raw-http.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

interface Probe {
  method: Method;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Bearer token; null = none (the default is the client's). */
  token?: string | null;
}

let engine: RunningEngine;
let admin: ApiClient;
let tenant: ApiClient;
let tenantToken: string;
let tenantId: string;
let receiver: Receiver;
/** Resources the sweep aims at (a hub of their own: a PUT or DELETE that succeeds harms nothing else). */
const ids: Record<string, string> = {};

const UNKNOWN = '0b4d6f8a-1c3e-4b5d-8f21-017767496800';

beforeAll(async () => {
  receiver = await startReceiver(200);
  engine = await startEngine();
  admin = adminClient(engine);
  const fixture = await createTenantWithToken(engine);
  tenant = fixture.client;
  tenantToken = fixture.token;
  tenantId = fixture.tenantId;
  const hub = await setupHub(tenant);
  ids.hubId = hub.hubId;
  const system = await hub.addIntegration({
    channelId: 'System',
    configuration: { webhookUrl: receiver.url, events: ['message'] },
  });
  ids.systemId = system.integrationId;
  const agent = await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Agent' },
  });
  ids.agentId = agent.integrationId;
  const opened = await hub.openConversation();
  ids.customerId = opened.customer.integrationId;
  ids.conversationId = opened.conversationId;
  // One delivery to aim the retry and delivery routes at.
  const submitted = await tenant.post(`/inbound/customer/v1/direct/activity/${ids.conversationId}`, {
    type: 'message',
    message: { type: 'text', text: 'first' },
  });
  expect(submitted.status).toBe(200);
  const deliveries = await tenant.get(`/api/v1/integrations/${ids.systemId}/deliveries`);
  ids.deliveryId = deliveries.body.results[0].deliveryId;
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  await receiver?.close();
});

/** Sends a probe; a connection the engine closed instead of answering counts as a failure too. */
async function send(client: ApiClient, probe: Probe): Promise<ApiResponse<Json>> {
  return client.raw(probe.path, {
    method: probe.method,
    headers: probe.headers,
    body: probe.body,
    ...(probe.token === undefined ? {} : { token: probe.token }),
  });
}

/** What is wrong with an answer (undefined: nothing): a 5xx, or a 4xx not in the documented shape. */
function problemOf(probe: Probe, response: ApiResponse<Json>): string | undefined {
  if (response.status >= 500) return `${response.status} ${response.text.slice(0, 300)}`;
  if (response.status < 400 || probe.method === 'HEAD') return undefined;
  const body = response.body;
  if (body === undefined || body === null || typeof body !== 'object')
    return `no JSON error body: ${response.text.slice(0, 200)}`;
  if (body.status !== response.status) return `body status ${body.status} for HTTP ${response.status}`;
  if (!Array.isArray(body.errors) || body.errors.length === 0) return 'no errors listed';
  for (const error of body.errors as Json[]) {
    if (typeof error?.code !== 'number' || typeof error?.description !== 'string')
      return `error item not {code, description}: ${JSON.stringify(error)}`;
    if (!/\(code: [A-Z]{3}\d{6}\)$/.test(error.description))
      return `description without its code: ${error.description}`;
  }
  return undefined;
}

/** Sends every probe (a few at a time) and returns each failing one with its answer. */
async function sweep(
  probes: Probe[],
  client: ApiClient = tenant,
): Promise<{ failures: string[]; statuses: Map<number, number> }> {
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const queue = [...probes];
  const worker = async (): Promise<void> => {
    for (let probe = queue.shift(); probe !== undefined; probe = queue.shift()) {
      const what = `${probe.method} ${probe.path.slice(0, 160)} ${JSON.stringify(probe.headers ?? {}).slice(0, 120)} ${String(probe.body ?? '').slice(0, 120)}`;
      let response: ApiResponse<Json>;
      try {
        response = await send(client, probe);
      } catch (error) {
        failures.push(`${what} → no answer: ${String(error)}`);
        continue;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = problemOf(probe, response);
      if (problem !== undefined) failures.push(`${what} → ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { failures, statuses };
}

interface Route {
  method: Method;
  path: () => string;
  /** A valid body (the field mutations start from it); undefined: the route takes none. */
  body?: () => Record<string, unknown>;
  /** Path with each id replaced by `id` (for the bad-id sweep). */
  withId?: (id: string) => string;
  /** Query parameters the route reads. */
  query?: string[];
  admin?: boolean;
}

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: () => '/api/v1/tenants',
    body: () => ({ name: uniqueName('t'), accountHolderEmail: 'a@example.com' }),
    admin: true,
  },
  {
    method: 'GET',
    path: () => `/api/v1/tenants/${tenantId}`,
    withId: (id) => `/api/v1/tenants/${id}`,
    admin: true,
  },
  {
    method: 'PUT',
    path: () => `/api/v1/tenants/${tenantId}`,
    body: () => ({ name: uniqueName('t'), accountHolderEmail: 'a@example.com' }),
    withId: (id) => `/api/v1/tenants/${id}`,
    admin: true,
  },
  {
    method: 'POST',
    path: () => `/api/v1/tenants/${tenantId}/clients`,
    withId: (id) => `/api/v1/tenants/${id}/clients`,
    admin: true,
  },
  {
    method: 'GET',
    path: () => `/api/v1/tenants/${tenantId}/clients`,
    withId: (id) => `/api/v1/tenants/${id}/clients`,
    query: ['pageNumber', 'pageSize'],
    admin: true,
  },
  {
    method: 'DELETE',
    path: () => `/api/v1/tenants/${tenantId}/clients/no-such-client`,
    withId: (id) => `/api/v1/tenants/${id}/clients/${id}`,
    admin: true,
  },
  {
    method: 'POST',
    path: () => '/api/v1/hubs',
    body: () => ({ name: uniqueName('h'), description: 'd', closeDormantConversation: 3 }),
  },
  { method: 'GET', path: () => '/api/v1/hubs', query: ['pageNumber', 'pageSize'] },
  { method: 'GET', path: () => `/api/v1/hubs/${ids.hubId}`, withId: (id) => `/api/v1/hubs/${id}` },
  {
    method: 'PUT',
    path: () => `/api/v1/hubs/${ids.hubId}`,
    body: () => ({ name: uniqueName('h'), description: 'd' }),
    withId: (id) => `/api/v1/hubs/${id}`,
  },
  { method: 'DELETE', path: () => `/api/v1/hubs/${UNKNOWN}`, withId: (id) => `/api/v1/hubs/${id}` },
  {
    method: 'POST',
    path: () => `/api/v1/integrations/hubs/${ids.hubId}`,
    body: () => ({
      channelId: 'System',
      name: uniqueName('i'),
      statusId: 3000,
      configuration: {
        webhookUrl: receiver.url,
        events: ['message:customer'],
        retrySchedule: '1s',
        deliveryTimeout: '1s',
      },
    }),
    withId: (id) => `/api/v1/integrations/hubs/${id}`,
  },
  {
    method: 'GET',
    path: () => `/api/v1/integrations/${ids.systemId}`,
    withId: (id) => `/api/v1/integrations/${id}`,
  },
  {
    method: 'PUT',
    path: () => `/api/v1/integrations/${ids.agentId}`,
    body: () => ({
      name: uniqueName('a'),
      statusId: 3000,
      configuration: { integrationType: 'Agent', echo: false },
    }),
    withId: (id) => `/api/v1/integrations/${id}`,
  },
  {
    method: 'DELETE',
    path: () => `/api/v1/integrations/${UNKNOWN}`,
    withId: (id) => `/api/v1/integrations/${id}`,
  },
  { method: 'GET', path: () => '/api/v1/integrations', query: ['hubId', 'pageNumber', 'pageSize'] },
  {
    method: 'POST',
    path: () => '/api/v1/conversations/establish',
    body: () => ({
      integrationId: ids.customerId,
      binding: uniqueName('b'),
      channelType: 'Direct',
      properties: { a: 'b' },
    }),
  },
  {
    method: 'GET',
    path: () => `/api/v1/conversations/${ids.conversationId}`,
    withId: (id) => `/api/v1/conversations/${id}`,
  },
  {
    method: 'POST',
    path: () => `/inbound/customer/v1/direct/activity/${ids.conversationId}`,
    body: () => ({ type: 'message', externalId: 'e', message: { type: 'text', text: 'hi' } }),
    withId: (id) => `/inbound/customer/v1/direct/activity/${id}`,
  },
  {
    method: 'POST',
    path: () => `/inbound/business/v1/direct/activity/${ids.conversationId}`,
    body: () => ({
      type: 'message',
      sender: { integrationId: ids.agentId },
      message: { type: 'text', text: 'hi' },
    }),
    withId: (id) => `/inbound/business/v1/direct/activity/${id}`,
  },
  {
    method: 'GET',
    path: () => `/api/v1/interactions/activities/${ids.conversationId}`,
    withId: (id) => `/api/v1/interactions/activities/${id}`,
    query: ['type', 'leid'],
  },
  {
    method: 'GET',
    path: () => `/api/v1/integrations/${ids.systemId}/deliveries`,
    withId: (id) => `/api/v1/integrations/${id}/deliveries`,
    query: ['status', 'pageNumber', 'pageSize'],
  },
  {
    method: 'GET',
    path: () => `/api/v1/deliveries/${ids.deliveryId}`,
    withId: (id) => `/api/v1/deliveries/${id}`,
  },
  {
    method: 'POST',
    path: () => `/api/v1/deliveries/${ids.deliveryId}/retry`,
    withId: (id) => `/api/v1/deliveries/${id}/retry`,
  },
  {
    method: 'POST',
    path: () => `/api/v1/integrations/${ids.systemId}/recover`,
    body: () => ({ since: Date.now() + 60_000 }),
    withId: (id) => `/api/v1/integrations/${id}/recover`,
  },
  { method: 'GET', path: () => '/api/v1/notifications', query: ['pageNumber', 'pageSize'] },
  {
    method: 'POST',
    path: () => '/connect/token',
    body: () => ({ grant_type: 'client_credentials', client_id: 'hubster.engine.api.X', client_secret: 's' }),
  },
  {
    method: 'POST',
    path: () => `/engine-chat-hub/negotiate?negotiateVersion=1&iId=${ids.customerId}`,
    query: ['iId', 'cId', 'negotiateVersion', 'access_token'],
  },
  { method: 'GET', path: () => '/healthz' },
  { method: 'GET', path: () => '/readyz' },
  { method: 'GET', path: () => '/metrics' },
  { method: 'GET', path: () => '/docs' },
  { method: 'GET', path: () => '/docs/openapi.json' },
];

const JSON_TYPE = { 'content-type': 'application/json' };

/** Values of every JSON type, plus the awkward ones. */
function oddValues(): unknown[] {
  return [
    null,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    ' ',
    'x'.repeat(200_000),
    'nul\u0000byte',
    '\u202e\ud83d\ude00 ünïcødé',
    '../../etc/passwd',
    '1970-01-01',
    true,
    false,
    [],
    [null],
    {},
    { nested: { deeper: [1, 'two', { three: null }] } },
  ];
}

/** Bodies that are no valid JSON object for the route: malformed, of another type, bytes. */
function badBodies(): { headers: Record<string, string>; body: string | Buffer }[] {
  const deep = 50_000;
  const bodies: (string | Buffer)[] = [
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}}',
    'undefined',
    'NaN',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":01}',
    '{"a":1e999999}',
    '[]',
    '[1,2,3]',
    '"string"',
    'null',
    '0',
    '-1',
    '1e400',
    'true',
    '{}',
    ' ',
    '\u0000',
    '{"a":"\u0000"}',
    '{"a":"\\u0000"}',
    '\ufeff{}',
    `${'['.repeat(deep)}${']'.repeat(deep)}`,
    `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`,
    `{"a":${'['.repeat(deep)}`,
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '{"a":"\\ud800"}',
    `{"${'k'.repeat(100_000)}":1}`,
    `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`,
  ];
  return bodies.map((body) => ({ headers: JSON_TYPE, body }));
}

/** The valid body with one field missing, of another type, or one extra field. */
function mutatedBodies(valid: Record<string, unknown>): string[] {
  const out: string[] = [];
  const paths: string[][] = [];
  const walk = (value: unknown, at: string[]): void => {
    if (at.length > 0) paths.push(at);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      for (const [key, inner] of Object.entries(value)) walk(inner, [...at, key]);
  };
  walk(valid, []);
  const setAt = (path: string[], value: unknown, remove = false): Record<string, unknown> => {
    const copy = structuredClone(valid);
    let node = copy as Record<string, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
    const last = path[path.length - 1] as string;
    if (remove) delete node[last];
    else node[last] = value;
    return copy;
  };
  for (const path of paths) {
    out.push(JSON.stringify(setAt(path, undefined, true)));
    for (const value of oddValues()) out.push(JSON.stringify(setAt(path, value)));
    out.push(
      JSON.stringify(setAt(path, '<deep>')).replace('"<deep>"', `${'['.repeat(5_000)}1${']'.repeat(5_000)}`),
    );
  }
  out.push(JSON.stringify({ ...valid, extra: 1, tenantId: UNKNOWN, hubId: 'x', __hookster: [] }));
  out.push(JSON.stringify({ ...valid, tenantId: tenantId }));
  return out;
}

const CONTENT_TYPES = [
  undefined,
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/json; boundary="',
  'application/vnd.api+json',
  'a/b/c',
  ';;;',
  'application/json, text/plain',
];

const BAD_IDS = [
  'not-a-guid',
  UNKNOWN,
  UNKNOWN.toUpperCase(),
  `{${UNKNOWN}}`,
  UNKNOWN.replace(/-/g, ''),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '%00',
  '%2e%2e',
  '..',
  '%2F',
  '%E0%A4%A',
  '%C3%28',
  '%ZZ',
  '%F0%9F%98%80',
  '😀',
  encodeURIComponent('ünïcødé'),
  '0'.repeat(36),
  'x'.repeat(100),
  'x'.repeat(101),
  'x'.repeat(5_000),
  '-1',
  '1e400',
  'null',
  '__proto__',
  'constructor',
  `${UNKNOWN}%20`,
  `${UNKNOWN}%0a`,
];

const BAD_QUERY_VALUES = [
  '',
  '-1',
  '-0',
  '0',
  '1e400',
  'abc',
  '1.5',
  '999999999999999999999999',
  ' 1',
  '%00',
  '%ZZ',
  '😀',
  'x'.repeat(5_000),
  'Customer',
  'delivered',
  '2026-13-45',
];

const BAD_AUTH = [
  '',
  'Bearer',
  'Bearer ',
  'Bearer    ',
  'bearer x',
  'BEARER x y z',
  'Basic',
  'Basic %%%',
  `Basic ${Buffer.from('a:b').toString('base64')}`,
  'Token abc',
  'Bearer\tabc',
  `Bearer ${'x'.repeat(8_000)}`,
  'Bearer ünïcødé',
  'Bearer \u00ff\u00fe',
  'Digest username="x"',
  ',',
];

function withQuery(path: string, query: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${query}`;
}

describe('fuzzing the whole HTTP API', () => {
  it('answers bad bodies, content types and fields on every route with a 4xx in the error shape, never a 5xx', async () => {
    const probes: Probe[] = [];
    for (const route of ROUTES) {
      const path = route.path();
      const token = route.admin ? engine.adminToken : undefined;
      // Routes without a body get the same bad bodies: they must ignore or refuse them.
      for (const { headers, body } of badBodies())
        probes.push({ method: route.method === 'GET' ? 'POST' : route.method, path, headers, body, token });
      for (const contentType of CONTENT_TYPES) {
        const valid = JSON.stringify(route.body?.() ?? {});
        probes.push({
          method: route.method,
          path,
          headers: contentType ? { 'content-type': contentType } : {},
          body: valid,
          token,
        });
        probes.push({
          method: route.method,
          path,
          headers: { ...(contentType ? { 'content-type': contentType } : {}), 'content-length': '0' },
          body: '',
          token,
        });
      }
      probes.push({
        method: route.method,
        path,
        headers: { ...JSON_TYPE, 'content-length': '0' },
        body: '',
        token,
      });
      if (route.body)
        for (const body of mutatedBodies(route.body()))
          probes.push({ method: route.method, path, headers: JSON_TYPE, body, token });
    }
    const { failures, statuses } = await sweep(probes);
    expect(failures, failures.join('\n')).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
  }, 300_000);

  it('answers the same bad fields sent with the admin token (which names the tenant) without a 5xx', async () => {
    const probes: Probe[] = [];
    const tenantIds = [
      tenantId,
      UNKNOWN,
      'not-a-guid',
      '',
      null,
      42,
      [tenantId],
      { tenantId },
      '00000000-0000-0000-0000-000000000000',
    ];
    for (const route of ROUTES) {
      if (route.body === undefined || route.admin) continue;
      const path = route.path();
      for (const body of mutatedBodies({ ...route.body(), tenantId }))
        probes.push({ method: route.method, path, headers: JSON_TYPE, body });
      for (const value of tenantIds)
        probes.push({
          method: route.method,
          path,
          headers: JSON_TYPE,
          body: JSON.stringify({ ...route.body(), tenantId: value }),
        });
    }
    for (const id of BAD_IDS) probes.push({ method: 'GET', path: `/api/v1/notifications?tenantId=${id}` });
    const { failures } = await sweep(probes, admin);
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('answers bad ids and path segments, bad query strings and every method on every route without a 5xx', async () => {
    const probes: Probe[] = [];
    for (const route of ROUTES) {
      const token = route.admin ? engine.adminToken : undefined;
      const body = route.body ? JSON.stringify(route.body()) : undefined;
      const headers = body ? JSON_TYPE : undefined;
      if (route.withId) {
        for (const id of BAD_IDS)
          probes.push({ method: route.method, path: route.withId(id), headers, body, token });
        probes.push({
          method: route.method,
          path: route.withId(`${UNKNOWN}/../${UNKNOWN}`),
          headers,
          body,
          token,
        });
        probes.push({
          method: route.method,
          path: route.withId(`${UNKNOWN}/extra/segment`),
          headers,
          body,
          token,
        });
        probes.push({ method: route.method, path: `${route.withId(UNKNOWN)}//`, headers, body, token });
      }
      for (const name of route.query ?? []) {
        for (const value of BAD_QUERY_VALUES) {
          const encoded = /^%|😀/.test(value) ? value : encodeURIComponent(value);
          probes.push({
            method: route.method,
            path: withQuery(route.path(), `${name}=${encoded}`),
            headers,
            body,
            token,
          });
        }
        probes.push({
          method: route.method,
          path: withQuery(route.path(), `${name}=1&${name}=2&${name}=-3`),
          headers,
          body,
          token,
        });
        probes.push({
          method: route.method,
          path: withQuery(route.path(), `${name}[]=1&${name}[a]=2`),
          headers,
          body,
          token,
        });
        probes.push({ method: route.method, path: withQuery(route.path(), `${name}`), headers, body, token });
      }
      probes.push({
        method: route.method,
        path: withQuery(route.path(), '&&==&%&?&#x'),
        headers,
        body,
        token,
      });
      probes.push({
        method: route.method,
        path: withQuery(route.path(), `${'q'.repeat(6_000)}=1`),
        headers,
        body,
        token,
      });
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const) {
        if (
          method === route.method ||
          (method === 'DELETE' && route.withId === undefined && !route.path().startsWith('/api/'))
        )
          continue;
        // A DELETE would remove the sweep's own resources: aim it at an unknown id.
        const path = method === 'DELETE' && route.withId ? route.withId(UNKNOWN) : route.path();
        probes.push({ method, path, token });
        probes.push({ method, path, headers: JSON_TYPE, body: '{"a":', token });
      }
    }
    const { failures } = await sweep(probes);
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('answers missing and malformed credentials on every route with 401 (or the public answer), never a 5xx', async () => {
    const probes: Probe[] = [];
    for (const route of ROUTES) {
      const body = route.body ? JSON.stringify(route.body()) : undefined;
      const headers = body ? JSON_TYPE : {};
      probes.push({ method: route.method, path: route.path(), headers, body, token: null });
      for (const authorization of BAD_AUTH)
        probes.push({
          method: route.method,
          path: route.path(),
          headers: { ...headers, authorization },
          body,
          token: null,
        });
      probes.push({ method: route.method, path: route.path(), headers, body, token: `${tenantToken}x` });
      probes.push({
        method: route.method,
        path: route.path(),
        headers,
        body,
        token: tenantToken.slice(0, -1),
      });
    }
    probes.push({
      method: 'POST',
      path: `/engine-chat-hub/negotiate?iId=${ids.customerId}&access_token=%ZZ`,
      token: null,
    });
    probes.push({
      method: 'POST',
      path: `/engine-chat-hub/negotiate?iId=${ids.customerId}&access_token=${'x'.repeat(8_000)}`,
      token: null,
    });
    const { failures, statuses } = await sweep(probes);
    expect(failures, failures.join('\n')).toEqual([]);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(100);
  }, 120_000);

  it('answers malformed credentials sent as raw UTF-8 and control bytes, never a 5xx', async () => {
    const { hostname, port } = new URL(engine.url);
    const send = (authorization: Buffer, path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nAuthorization: `,
          );
          socket.write(authorization);
          socket.write('\r\nConnection: close\r\n\r\n{}');
        });
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
        socket.on('error', reject);
      });
    for (const authorization of [
      Buffer.from('Bearer ünïcødé 😀'),
      Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xc3, 0x28]),
      Buffer.from('Bearer \u0001\u007f'),
    ]) {
      for (const path of [
        '/api/v1/hubs',
        `/inbound/customer/v1/direct/activity/${ids.conversationId}`,
        `/engine-chat-hub/negotiate?iId=${ids.customerId}`,
      ]) {
        expect(await send(authorization, path), `${path} ${authorization.toString('hex')}`).toMatch(
          /^HTTP\/1\.1 4\d\d /,
        );
      }
    }
  });

  it('answers edge values of each field (dates, numbers, URLs, schedules, page and event ids) without a 5xx', async () => {
    const probes: Probe[] = [];
    const post = (path: string, body: unknown, method: Method = 'POST'): void => {
      probes.push({ method, path, headers: JSON_TYPE, body: JSON.stringify(body) });
    };
    const numbers = [
      -1,
      0,
      1,
      2.5,
      -0.5,
      2 ** 31,
      2 ** 31 - 1,
      2 ** 53,
      2 ** 63,
      9.2e18,
      1e21,
      1e300,
      -1e300,
      Number.MIN_VALUE,
    ];
    const dates = [
      '',
      '0',
      '-1',
      '2026-02-30',
      '2026-13-01',
      '2026-01-01T25:00:00Z',
      '+275760-09-13T00:00:00.001Z',
      '-271821-04-20T00:00:00Z',
      '99999-01-01',
      '2026-01-01T00:00:00+99:99',
      '2026-W01',
      'now',
      'Infinity',
      '1e400',
      ' 2026-01-01',
      '2026-01-01T00:00:00.0000000000000001Z',
      '8640000000000001',
    ];
    for (const since of [...dates, ...numbers, 8.64e15, 8.64e15 + 1, -8.64e15 - 1])
      post(`/api/v1/integrations/${ids.systemId}/recover`, { since });
    for (const value of [...numbers, '3', 2000, 2001, 2002, 2003, 3000, 3001, 3002, 3003]) {
      post('/api/v1/hubs', {
        name: uniqueName('n'),
        description: '',
        statusId: value,
        closeDormantConversation: value,
      });
      post(`/api/v1/hubs/${ids.hubId}`, { closeDormantConversation: value }, 'PUT');
      post(
        `/api/v1/integrations/${ids.agentId}`,
        { statusId: value, configuration: { integrationType: 'Agent' } },
        'PUT',
      );
    }
    // Restore the hub and the agent (a statusId above may have paused them).
    const urls = [
      'http://[::1',
      'http://[::1]:8080/',
      'http://127.0.0.1:65536/',
      'http://127.0.0.1:0/',
      'http://xn--nxasmq6b/',
      'http://ünïcødé.example/',
      `http://a.example/${'x'.repeat(3000)}`,
      'http://%zz/',
      'http:///path',
      'http://a b/',
      'http://a.example/\u0000',
      'javascript:alert(1)',
      'http://user:pw@a.example/',
      'HTTP://A.EXAMPLE',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://[fe80::1%25eth0]/',
      '//a.example/',
      'http:a.example',
    ];
    const schedules = [
      '',
      ' ',
      ',',
      '1s,',
      '0s',
      '-1s',
      '1.5s',
      '1e3s',
      '1ms',
      '1d',
      'NaNs',
      '999999999999999999999s',
      Array(51).fill('1s').join(','),
      'none,1s',
      '1 s',
      '１s',
    ];
    for (const webhookUrl of urls)
      post(`/api/v1/integrations/hubs/${ids.hubId}`, {
        channelId: 'System',
        name: uniqueName('u'),
        configuration: { webhookUrl, events: ['message'] },
      });
    for (const retrySchedule of schedules)
      post(`/api/v1/integrations/hubs/${ids.hubId}`, {
        channelId: 'System',
        name: uniqueName('s'),
        configuration: {
          webhookUrl: receiver.url,
          events: ['message'],
          retrySchedule,
          deliveryTimeout: retrySchedule,
        },
      });
    for (const integrationType of [
      'customer',
      'AGENT',
      'bot',
      'System',
      '',
      'Customer ',
      'toString',
      '__proto__',
    ])
      post(`/api/v1/integrations/hubs/${ids.hubId}`, {
        channelId: 'Direct',
        name: uniqueName('d'),
        configuration: { integrationType, Echo: 'yes', WEBHOOKURL: null, regenerateKeys: 'true' },
      });
    for (const channelType of ['direct', 'DIRECT', '', 'System', null])
      post('/api/v1/conversations/establish', {
        integrationId: ids.customerId,
        binding: uniqueName('b'),
        channelType,
      });
    for (const binding of ['', ' ', 'x'.repeat(100_000), 'nul\u0000', 42, null, ['a'], { a: 1 }])
      post('/api/v1/conversations/establish', {
        integrationId: ids.customerId,
        binding,
        channelType: 'Direct',
      });
    for (const integrationId of [ids.systemId, ids.agentId, UNKNOWN, ids.hubId, ids.conversationId])
      post('/api/v1/conversations/establish', {
        integrationId,
        binding: uniqueName('b'),
        channelType: 'Direct',
      });
    for (const leid of [
      '9007199254740991',
      '9007199254740992',
      '9223372036854775807',
      '9223372036854775808',
      '1e15',
      '0x10',
      '+1',
      '00',
      '1.0',
    ])
      probes.push({
        method: 'GET',
        path: `/api/v1/interactions/activities/${ids.conversationId}?leid=${leid}`,
      });
    for (const page of ['9007199254740991', '9007199254740992', '90071992547409', '1e15', '0x10', '+1'])
      for (const path of [
        '/api/v1/hubs',
        '/api/v1/integrations',
        `/api/v1/integrations/${ids.systemId}/deliveries`,
        '/api/v1/notifications',
      ])
        probes.push({ method: 'GET', path: `${path}?pageNumber=${page}&pageSize=100` });
    for (const status of ['PENDING', 'Delivered', 'failed,held', 'toString', '__proto__'])
      probes.push({
        method: 'GET',
        path: `/api/v1/integrations/${ids.systemId}/deliveries?status=${status}`,
      });
    for (const hubId of ['not-a-guid', UNKNOWN, ids.systemId, '', '%00'])
      probes.push({ method: 'GET', path: `/api/v1/integrations?hubId=${hubId}` });
    const activity = (extra: Record<string, unknown>) => ({
      type: 'message',
      message: { type: 'text', text: 'x' },
      ...extra,
    });
    const path = `/inbound/customer/v1/direct/activity/${ids.conversationId}`;
    for (const extra of [
      { externalId: 'x'.repeat(100_000) },
      { externalId: 42 },
      { timestamp: 'yesterday' },
      { timestamp: -1 },
      { timestamp: 1e300 },
      { eventId: 1 },
      { sender: { integrationId: ids.agentId } },
      { recipient: { integrationId: UNKNOWN } },
      { channelData: { a: 1 } },
      { message: { type: 'text', text: 'x', actions: [{ type: 'url', url: 'javascript:x' }] } },
      { message: { type: 'image', url: 'not a url' } },
      { message: { type: 'location', latitude: 1e300, longitude: 'x' } },
      { message: { type: 'carousel', items: Array.from({ length: 5_000 }, () => ({})) } },
      {
        message: {
          type: 'text',
          text: 'x',
          actions: Array.from({ length: 5_000 }, () => ({ type: 'reply', text: 'r' })),
        },
      },
      { message: null, type: 'event', event: { type: 'typing', value: { deep: [[[[[]]]]] } } },
      { message: undefined, type: 'event', event: { type: 'conversation:closed' } },
    ])
      post(path, activity(extra));
    post(
      `/inbound/business/v1/direct/activity/${ids.conversationId}`,
      activity({ sender: { integrationId: ids.customerId } }),
    );
    post(
      `/inbound/business/v1/direct/activity/${ids.conversationId}`,
      activity({ sender: { integrationId: ids.systemId } }),
    );
    post(
      `/inbound/business/v1/direct/activity/${ids.conversationId}`,
      activity({ sender: { integrationId: UNKNOWN, type: 'Agent' } }),
    );
    const { failures } = await sweep(probes);
    // Put the fixtures back as they were for the other tests.
    await tenant.put(`/api/v1/hubs/${ids.hubId}`, { statusId: 2000 });
    await tenant.put(`/api/v1/integrations/${ids.agentId}`, {
      statusId: 3000,
      configuration: { integrationType: 'Agent' },
    });
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('answers racing creates of the same name or binding with one outcome each, never a 5xx', async () => {
    const race = async (count: number, make: () => Promise<ApiResponse<Json>>): Promise<number[]> =>
      (await Promise.all(Array.from({ length: count }, make))).map((response) => {
        expect(response.status, response.text).toBeLessThan(500);
        return response.status;
      });
    const hubName = uniqueName('race');
    const hubs = await race(10, () => tenant.post('/api/v1/hubs', { name: hubName, description: '' }));
    expect(hubs.filter((status) => status === 200)).toHaveLength(1);
    const integrationName = uniqueName('race');
    const integrations = await race(10, () =>
      tenant.post(`/api/v1/integrations/hubs/${ids.hubId}`, {
        channelId: 'Direct',
        name: integrationName,
        configuration: { integrationType: 'Bot' },
      }),
    );
    expect(integrations.filter((status) => status === 200)).toHaveLength(1);
    const binding = uniqueName('race');
    const established = await Promise.all(
      Array.from({ length: 10 }, () =>
        tenant.post('/api/v1/conversations/establish', {
          integrationId: ids.customerId,
          binding,
          channelType: 'Direct',
        }),
      ),
    );
    for (const response of established) expect(response.status, response.text).toBe(200);
    expect(new Set(established.map((response) => response.body.conversationId)).size).toBe(1);
    expect(established.filter((response) => response.body.isNew === true)).toHaveLength(1);
    const tenantName = uniqueName('race');
    await race(6, () =>
      admin.post('/api/v1/tenants', { name: tenantName, accountHolderEmail: 'a@example.com' }),
    );
    const renamed = uniqueName('race');
    const two = await setupHub(tenant);
    await race(2, () => tenant.put(`/api/v1/hubs/${two.hubId}`, { name: renamed }));
    await race(2, () => tenant.put(`/api/v1/hubs/${ids.hubId}`, { name: renamed }));
    await race(4, () => tenant.delete(`/api/v1/hubs/${two.hubId}`));
  }, 120_000);

  it('answers broken framing (encodings, chunking, lengths, expectations) on raw sockets with a 4xx, never a 5xx', async () => {
    const { hostname, port } = new URL(engine.url);
    const send = (request: Buffer | string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end(request));
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
    const auth = `Authorization: Bearer ${tenantToken}\r\n`;
    const path = `/inbound/customer/v1/direct/activity/${ids.conversationId}`;
    const requests: string[] = [];
    for (const target of [
      path,
      '/api/v1/hubs',
      '/connect/token',
      `/engine-chat-hub/negotiate?iId=${ids.customerId}`,
    ]) {
      const head = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n`;
      requests.push(
        `${head}Content-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd`,
        `${head}Content-Encoding: br, identity, x\r\nContent-Length: 2\r\n\r\n{}`,
        `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        `${head}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n`,
        `${head}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
        `${head}Content-Length: 50\r\n\r\n{}`,
        `${head}Content-Length: -1\r\n\r\n{}`,
        `${head}Content-Length: 99999999999999999999\r\n\r\n{}`,
        `${head}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        `${head}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`,
        `${head}Expect: teapot\r\nContent-Length: 2\r\n\r\n{}`,
        `${head}Content-Length: 2\r\nContent-Type: text/plain\r\n\r\n{}`,
      );
    }
    for (const request of requests) {
      const answer = await send(request);
      // Node may close a connection on framing it cannot read without answering; never a 5xx.
      expect(answer, request).not.toMatch(/^HTTP\/1\.1 5/);
      if (answer !== '') expect(answer.split('\r\n')[0], request).toMatch(/^HTTP\/1\.1 (1|2|4)\d\d /);
      // A final 4xx (after any 100 Continue) is in the error shape too.
      const final = answer.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const status = /^HTTP\/1\.1 (4\d\d) /.exec(final)?.[1];
      if (status !== undefined) {
        const text = final.slice(final.indexOf('\r\n\r\n') + 4);
        let body: Json;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const problem = problemOf(
          { method: 'POST', path: '' },
          { status: Number(status), headers: {}, text, body },
        );
        expect(problem, request).toBeUndefined();
      }
    }
  });

  it('refuses websocket upgrades with bad ids, tokens and headers with a 4xx, never a 5xx', async () => {
    const send = (request: Buffer | string) => rawStatusLine(engine.url, request);
    const upgrade = (target: string, extra = `Authorization: Bearer ${tenantToken}\r\n`, version = '13') =>
      `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: ${version}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
    const hub = '/engine-chat-hub';
    const targets = [
      hub,
      `${hub}?iId=`,
      ...BAD_IDS.map((id) => `${hub}?iId=${id}`),
      `${hub}?iId=${ids.systemId}`,
      `${hub}?iId=${ids.systemId}&iId=${ids.customerId}`,
      `${hub}?iId=${ids.customerId}&cId=not-a-guid`,
      `${hub}?iId=${ids.customerId}&cId=${UNKNOWN}`,
      `${hub}?iId=${ids.customerId}&cId=%ZZ`,
      `${hub}/negotiate?iId=${ids.customerId}`,
      `${hub}/../api/v1/hubs`,
    ];
    const requests = targets.map((target) => upgrade(target));
    for (const extra of [
      '',
      'Authorization: Bearer nope\r\n',
      'Authorization: Basic abc\r\n',
      'Authorization: Bearer\r\n',
    ])
      requests.push(upgrade(`${hub}?iId=${ids.customerId}`, extra));
    // The header goes first; without one, a bad access_token is refused too.
    requests.push(upgrade(`${hub}?iId=${ids.customerId}&access_token=${'x'.repeat(5_000)}`, ''));
    requests.push(upgrade(`${hub}?iId=${ids.customerId}&access_token=%ZZ`, ''));
    requests.push(upgrade(`${hub}?iId=${ids.customerId}`, undefined, '99'));
    requests.push(upgrade(`${hub}?iId=${ids.customerId}`, undefined, 'x'));
    for (const request of requests) expect(await send(request), request).toMatch(/^HTTP\/1\.1 4\d\d /);
  });

  it('answers creates racing the delete of their parent with a 200 or a 404, never a 5xx', async () => {
    const failures: string[] = [];
    const check = (what: string, response: ApiResponse<Json>): void => {
      if (response.status >= 500) failures.push(`${what} → ${response.status} ${response.text}`);
    };
    for (let round = 0; round < 6; round++) {
      const hub = await setupHub(tenant);
      const { customer, conversationId } = await hub.openConversation();
      const agent = await hub.addIntegration({
        channelId: 'Direct',
        configuration: { integrationType: 'Agent', webhookUrl: receiver.url },
      });
      const work: Promise<void>[] = [];
      for (let i = 0; i < 6; i++) {
        work.push(
          tenant
            .post(`/api/v1/integrations/hubs/${hub.hubId}`, {
              channelId: 'System',
              name: uniqueName('r'),
              configuration: { webhookUrl: receiver.url, events: ['message'] },
            })
            .then((response) => check('create integration', response)),
          tenant
            .post('/api/v1/conversations/establish', {
              integrationId: customer.integrationId,
              binding: uniqueName('b'),
              channelType: 'Direct',
            })
            .then((response) => check('establish', response)),
          tenant
            .post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
              type: 'message',
              message: { type: 'text', text: 'race' },
            })
            .then((response) => check('submit', response)),
          tenant
            .post(`/inbound/business/v1/direct/activity/${conversationId}`, {
              type: 'message',
              sender: { integrationId: agent.integrationId },
              message: { type: 'text', text: 'race' },
            })
            .then((response) => check('business submit', response)),
          tenant
            .put(`/api/v1/integrations/${agent.integrationId}`, {
              name: uniqueName('a'),
              configuration: { integrationType: 'Agent', webhookUrl: receiver.url },
            })
            .then((response) => check('update integration', response)),
          tenant
            .put(`/api/v1/hubs/${hub.hubId}`, { description: uniqueName('d') })
            .then((response) => check('update hub', response)),
        );
        if (i === round % 6) {
          work.push(
            tenant
              .delete(`/api/v1/integrations/${customer.integrationId}`)
              .then((response) => check('delete customer', response)),
          );
          work.push(
            tenant.delete(`/api/v1/hubs/${hub.hubId}`).then((response) => check('delete hub', response)),
          );
        }
      }
      await Promise.all(work);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);

  it('keeps nothing of a refused submit: no activity, no delivery', async () => {
    const hub = await setupHub(tenant);
    const watcher = await startReceiver(200);
    try {
      const system = await hub.addIntegration({
        channelId: 'System',
        configuration: { webhookUrl: watcher.url, events: ['message'] },
      });
      const agent = await hub.addIntegration({
        channelId: 'Direct',
        configuration: { integrationType: 'Agent', webhookUrl: watcher.url },
      });
      const { conversationId } = await hub.openConversation({ webhookUrl: watcher.url, echo: true });
      const probes: Probe[] = [];
      for (const side of ['customer', 'business'] as const) {
        const path = `/inbound/${side}/v1/direct/activity/${conversationId}`;
        const sender = side === 'business' ? { sender: { integrationId: agent.integrationId } } : {};
        for (const { headers, body } of badBodies())
          if (
            body.toString() !== '{}' &&
            !body.toString().startsWith('{"a":"\\u0000') &&
            !body.toString().startsWith('{"a":"\u0000')
          )
            probes.push({ method: 'POST', path, headers, body });
        for (const contentType of CONTENT_TYPES.filter(
          (type) => type === undefined || !/^application\/json(;|$)/.test(type),
        )) {
          probes.push({
            method: 'POST',
            path,
            headers: contentType ? { 'content-type': contentType } : {},
            body: JSON.stringify({ ...sender, type: 'message', message: { type: 'text', text: 'x' } }),
          });
        }
        for (const body of [
          { ...sender, type: 'message' },
          { ...sender, type: 'message', message: { type: 'text', text: 'x' }, event: { type: 'typing' } },
          { ...sender, type: 'wrong', message: { type: 'text', text: 'x' } },
          { ...sender, type: 'event', event: { type: 'no-such-event' } },
          { ...sender, type: 'message', message: { type: 'text', text: 42 } },
          { ...sender, type: 'message', message: { type: 'text', text: '\ud800' } },
          { ...sender, type: 'message', message: 'text' },
          { ...sender, type: 'message', message: { type: 'text', text: 'x' }, externalId: {} },
          { type: 'message', message: { type: 'text', text: 'x' }, sender: { integrationId: 'not-a-guid' } },
          { type: 'message', message: { type: 'text', text: 'x' }, sender: { integrationId: UNKNOWN } },
          { ...sender, type: 'message', message: { type: 'text', text: 'x'.repeat(2 * 1024 * 1024) } },
        ]) {
          probes.push({ method: 'POST', path, headers: JSON_TYPE, body: JSON.stringify(body) });
        }
        probes.push({
          method: 'POST',
          path,
          headers: JSON_TYPE,
          body: JSON.stringify({ ...sender, type: 'message', message: { type: 'text', text: 'x' } }),
          token: null,
        });
        probes.push({
          method: 'POST',
          path,
          headers: JSON_TYPE,
          body: JSON.stringify({ ...sender, type: 'message', message: { type: 'text', text: 'x' } }),
          token: 'nope',
        });
      }
      const refused: string[] = [];
      for (const probe of probes) {
        let response: ApiResponse<Json>;
        try {
          response = await send(tenant, probe);
        } catch (error) {
          // A body far over the limit (1 MiB): the engine answers 413 and closes before the upload ends,
          // so the client's write may fail (EPIPE, ECONNRESET) before it reads the answer. Nothing can
          // have been stored; that is checked below.
          const oversized = String(probe.body ?? '').length > 1024 * 1024;
          if (oversized && /EPIPE|ECONNRESET/.test(String(error))) continue;
          throw error;
        }
        if (response.status < 400 || response.status >= 500)
          refused.push(
            `${response.status} ${String(probe.body).slice(0, 120)} ${response.text.slice(0, 200)}`,
          );
      }
      expect(refused, refused.join('\n')).toEqual([]);
      const activities = await tenant.get(`/api/v1/interactions/activities/${conversationId}`);
      expect(activities.status).toBe(200);
      expect(activities.body).toEqual([]);
      for (const integrationId of [system.integrationId, agent.integrationId]) {
        const deliveries = await tenant.get(`/api/v1/integrations/${integrationId}/deliveries`);
        expect(deliveries.body.total, integrationId).toBe(0);
      }
      expect(watcher.requests.length).toBe(0);
    } finally {
      await watcher.close();
    }
  }, 120_000);

  it('is ready afterwards and still delivers a normal submit', async () => {
    expect((await tenant.get('/readyz')).status).toBe(200);
    expect((await tenant.get('/healthz')).status).toBe(200);
    const hub = await setupHub(tenant);
    const after = await startReceiver(200);
    try {
      await hub.addIntegration({
        channelId: 'System',
        configuration: { webhookUrl: after.url, events: ['message'] },
      });
      const { conversationId } = await hub.openConversation();
      const submitted = await tenant.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: 'still delivering' },
      });
      expect(submitted.status).toBe(200);
      await after.waitFor(1, 10_000);
      expect(after.requests).toHaveLength(1);
      expect(after.requests[0]?.text).toContain('still delivering');
    } finally {
      await after.close();
    }
    // The admin client, unaffected by the tenant's sweep, still reads the hub.
    expect((await admin.get(`/api/v1/hubs/${hub.hubId}`)).status).toBe(200);
    // No internal fault was logged on the way (a fault answered with a 4xx would hide here).
    const faults = engine
      .output()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    expect(faults, faults.join('\n').slice(0, 4000)).toEqual([]);
  });
});
