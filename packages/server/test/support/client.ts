// A small HTTP client for black-box tests (undici) plus fixtures: a tenant with a token, a hub,
// integrations and an established conversation, all created through the real API.

import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { Store } from '../../src/store/contract.js';

/** Loosely typed JSON for test assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body (undefined when the body is not JSON). */
  body: T;
}

export interface RawRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Bearer token; null = no Authorization header. Defaults to the client's token. */
  token?: string | null;
}

export interface ApiClient {
  readonly baseUrl: () => string;
  readonly token: string | null;
  get<T = Json>(path: string, token?: string | null): Promise<ApiResponse<T>>;
  post<T = Json>(path: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  put<T = Json>(path: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  delete<T = Json>(path: string, token?: string | null): Promise<ApiResponse<T>>;
  raw<T = Json>(path: string, init: RawRequest): Promise<ApiResponse<T>>;
  /** The same client with another bearer token. */
  as(token: string | null): ApiClient;
}

/** `baseUrl` may be a function so a client follows an engine across restarts. */
export function apiClient(baseUrl: string | (() => string), token: string | null): ApiClient {
  const base = typeof baseUrl === 'function' ? baseUrl : () => baseUrl;
  async function raw<T>(path: string, init: RawRequest): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const bearer = init.token === undefined ? token : init.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const response = await request(base() + path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, body: body as T };
  }
  function json<T>(method: RawRequest['method'], path: string, body: unknown, bearer?: string | null) {
    return raw<T>(path, {
      method,
      token: bearer,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  return {
    baseUrl: base,
    token,
    get: (path, bearer) => raw(path, { method: 'GET', token: bearer }),
    post: (path, body, bearer) => json('POST', path, body, bearer),
    put: (path, body, bearer) => json('PUT', path, body, bearer),
    delete: (path, bearer) => raw(path, { method: 'DELETE', token: bearer }),
    raw,
    as: (other) => apiClient(base, other),
  };
}

/** An admin client for a running engine (follows it across restarts). */
export function adminClient(engine: { url: string; adminToken: string }): ApiClient {
  return apiClient(() => engine.url, engine.adminToken);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

function expectStatus(response: ApiResponse, status: number, what: string): void {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text}`);
  }
}

export interface TenantFixture {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  token: string;
  /** A client authenticated with the tenant token. */
  client: ApiClient;
}

/** Creates a tenant (admin), client credentials and a tenant token through POST /connect/token. */
export async function createTenantWithToken(
  engine: { url: string; adminToken: string },
  fields: { name?: string; accountHolderEmail?: string } = {},
): Promise<TenantFixture> {
  const admin = adminClient(engine);
  const tenant = await admin.post<{ tenantId: string }>('/api/v1/tenants', {
    name: fields.name ?? uniqueName('tenant'),
    accountHolderEmail: fields.accountHolderEmail ?? 'owner@example.com',
  });
  expectStatus(tenant, 200, 'create tenant');
  const credentials = await createClientCredentials(engine, tenant.body.tenantId);
  const token = await admin.raw<{ access_token: string }>('/connect/token', {
    method: 'POST',
    token: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }).toString(),
  });
  expectStatus(token, 200, 'token');
  return {
    tenantId: tenant.body.tenantId,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    token: token.body.access_token,
    client: apiClient(() => engine.url, token.body.access_token),
  };
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Another client of the tenant (admin `POST …/clients`). */
export async function createClientCredentials(
  engine: { url: string; adminToken: string },
  tenantId: string,
): Promise<ClientCredentials> {
  const created = await adminClient(engine).post<ClientCredentials>(
    `/api/v1/tenants/${tenantId}/clients`,
    {},
  );
  expectStatus(created, 200, 'create client');
  return created.body;
}

/** `POST /connect/token` (JSON) with the credentials: its status, and the token when one was issued. */
export async function requestToken(
  baseUrl: string,
  credentials: ClientCredentials,
): Promise<{ status: number; token?: string }> {
  const response = await apiClient(baseUrl, null).post<{ access_token: string }>('/connect/token', {
    grant_type: 'client_credentials',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
  });
  return { status: response.status, token: response.body?.access_token };
}

export interface IntegrationBody {
  channelId: string;
  name?: string;
  statusId?: number;
  configuration: Record<string, unknown>;
}

export interface HubFixture {
  hubId: string;
  client: ApiClient;
  /** Creates an integration in the hub and returns the response body. */
  addIntegration(body: IntegrationBody): Promise<Json>;
  /** A Direct customer integration (websocket mode unless webhookUrl is given) plus a conversation. */
  openConversation(options?: { webhookUrl?: string; echo?: boolean; binding?: string }): Promise<{
    customer: Json;
    conversationId: string;
  }>;
}

/** Creates a hub with `client` (a tenant client, or admin with tenantId). */
export async function setupHub(client: ApiClient, tenantId?: string): Promise<HubFixture> {
  const hub = await client.post<{ hubId: string }>('/api/v1/hubs', {
    name: uniqueName('hub'),
    description: 'test hub',
    ...(tenantId ? { tenantId } : {}),
  });
  expectStatus(hub, 200, 'create hub');
  const hubId = hub.body.hubId;
  async function addIntegration(body: IntegrationBody): Promise<Json> {
    const created = await client.post(`/api/v1/integrations/hubs/${hubId}`, {
      name: uniqueName(body.channelId.toLowerCase()),
      ...body,
    });
    expectStatus(created, 200, 'create integration');
    return created.body;
  }
  return {
    hubId,
    client,
    addIntegration,
    async openConversation(options = {}) {
      const customer = await addIntegration({
        channelId: 'Direct',
        configuration: {
          integrationType: 'Customer',
          ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
          ...(options.echo !== undefined ? { echo: options.echo } : {}),
        },
      });
      const established = await client.post<{ conversationId: string }>('/api/v1/conversations/establish', {
        integrationId: customer.integrationId,
        binding: options.binding ?? uniqueName('user'),
        channelType: 'Direct',
      });
      expectStatus(established, 200, 'establish');
      return { customer, conversationId: established.body.conversationId };
    },
  };
}

/**
 * Submits a text message to a Direct conversation, as the customer or (with `agentId`) as that business
 * integration; resolves with its eventId once committed (200).
 */
export async function submitText(
  client: ApiClient,
  conversationId: string,
  text: string,
  agentId?: string,
): Promise<number> {
  const side = agentId === undefined ? 'customer' : 'business';
  const response = await client.post<{ eventId: number }>(
    `/inbound/${side}/v1/direct/activity/${conversationId}`,
    {
      type: 'message',
      ...(agentId === undefined ? {} : { sender: { integrationId: agentId } }),
      message: { type: 'text', text },
    },
  );
  if (response.status !== 200) throw new Error(`submit: ${response.status} ${response.text}`);
  return response.body.eventId;
}

/** Polls `check` until it returns a value (not undefined) or the bound passes; `what` names it in the error. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls a synchronous `condition` (e.g. on what a test server recorded) until it holds or the bound passes. */
export async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (condition() ? true : undefined), timeoutMs, what);
}

/**
 * Stores a token of the tenant's client that expires `expiresAt` (epoch ms) straight in the store, as
 * `POST /connect/token` would (which only issues 30-day ones); returns the token.
 */
export async function storeTenantToken(
  store: Pick<Store, 'createToken'>,
  tenant: TenantFixture,
  expiresAt: number,
): Promise<string> {
  const token = `test-token-${randomBytes(16).toString('hex')}`;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const issued = await store.createToken(
    {
      tokenHash: sha256(token),
      tenantId: tenant.tenantId,
      clientId: tenant.clientId,
      scope: 'hubster-engine-api',
      expiresAt,
    },
    sha256(tenant.clientSecret),
  );
  if (!issued) throw new Error(`the client ${tenant.clientId} was not found to issue a token`);
  return token;
}
