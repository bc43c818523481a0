// Typed client for the Hookster HTTP API (DESIGN §5) over the global fetch: Node 20+, Deno, Bun, Workers.
import type * as T from './types.js';

export interface HooksterClientOptions {
  /** Base URL of the engine, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Bearer token: the admin token or a tenant token from `POST /connect/token`. */
  token?: string;
  /** Another fetch (tests, proxies). Defaults to the global one. */
  fetch?: typeof fetch;
  /** Per-request timeout in ms. Default 30 s. */
  timeoutMs?: number;
}

/** A non-2xx answer, with Hubster's error list when the body carried one. */
export class HooksterApiError extends Error {
  readonly code = 'HOOKSTER_API_ERROR' as const;
  readonly status: number;
  readonly errors: T.ApiErrorBody['errors'];
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, status: number, body: unknown) {
    const errors = isErrorBody(body) ? body.errors : [];
    const detail = errors.map((e) => e.description).join('; ');
    super(`${method} ${path} answered ${status}${detail === '' ? '' : `: ${detail}`}`);
    this.name = 'HooksterApiError';
    this.status = status;
    this.errors = errors;
    this.method = method;
    this.path = path;
  }
}

function isErrorBody(body: unknown): body is T.ApiErrorBody {
  return typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors);
}

const id = (value: string) => encodeURIComponent(value);

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export class HooksterClient {
  readonly url: string;
  readonly bearer: string | undefined;
  private readonly fetcher: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: HooksterClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.bearer = options.token;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** A client with another bearer token (e.g. a tenant token after `token()`). */
  withToken(token: string): HooksterClient {
    return new HooksterClient({ url: this.url, token, fetch: this.fetcher, timeoutMs: this.timeoutMs });
  }

  /** Sends one request and returns the parsed JSON body; throws HooksterApiError on a non-2xx answer. */
  async request<R>(method: string, path: string, body?: unknown, form?: Record<string, string>): Promise<R> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.bearer !== undefined) headers.authorization = `Bearer ${this.bearer}`;
    let payload: string | undefined;
    if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(form).toString();
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await this.fetcher(this.url + path, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw new HooksterApiError(method, path, response.status, parsed);
    return parsed as R;
  }

  // Tenants and credentials (admin)
  createTenant(body: T.CreateTenant): Promise<T.Tenant> {
    return this.request('POST', '/api/v1/tenants', body);
  }
  getTenant(tenantId: string): Promise<T.Tenant> {
    return this.request('GET', `/api/v1/tenants/${id(tenantId)}`);
  }
  /** Changes the name or the account holder e-mail (where exhaustion e-mails go). */
  updateTenant(tenantId: string, body: T.UpdateTenant): Promise<T.Tenant> {
    return this.request('PUT', `/api/v1/tenants/${id(tenantId)}`, body);
  }
  createClientCredentials(tenantId: string): Promise<T.ClientCredentials> {
    return this.request('POST', `/api/v1/tenants/${id(tenantId)}/clients`, {});
  }
  /** `POST /connect/token` with client credentials. */
  requestToken(credentials: T.ClientCredentials): Promise<T.TokenResponse> {
    return this.request('POST', '/connect/token', undefined, {
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    });
  }

  // Hubs
  createHub(body: T.CreateHub): Promise<T.Hub> {
    return this.request('POST', '/api/v1/hubs', body);
  }
  listHubs(page: T.PageQuery = {}): Promise<T.Page<T.Hub>> {
    return this.request('GET', `/api/v1/hubs${query({ ...page })}`);
  }
  getHub(hubId: string): Promise<T.Hub> {
    return this.request('GET', `/api/v1/hubs/${id(hubId)}`);
  }
  updateHub(hubId: string, body: T.UpdateHub): Promise<T.Hub> {
    return this.request('PUT', `/api/v1/hubs/${id(hubId)}`, body);
  }
  /** Deletes the hub and its integrations; answers with the deleted hub. */
  deleteHub(hubId: string): Promise<T.Hub> {
    return this.request('DELETE', `/api/v1/hubs/${id(hubId)}`);
  }

  // Integrations
  createIntegration(hubId: string, body: T.CreateIntegration): Promise<T.Integration> {
    return this.request('POST', `/api/v1/integrations/hubs/${id(hubId)}`, body);
  }
  getIntegration(integrationId: string): Promise<T.Integration> {
    return this.request('GET', `/api/v1/integrations/${id(integrationId)}`);
  }
  /** The configuration is replaced whole; `configuration.regenerateKeys: true` rotates the keys. */
  updateIntegration(integrationId: string, body: T.UpdateIntegration): Promise<T.Integration> {
    return this.request('PUT', `/api/v1/integrations/${id(integrationId)}`, body);
  }
  /** Deletes the integration (its pending deliveries are cancelled); answers with the deleted integration. */
  deleteIntegration(integrationId: string): Promise<T.Integration> {
    return this.request('DELETE', `/api/v1/integrations/${id(integrationId)}`);
  }
  /** Integrations visible to the token, optionally of one hub. */
  listIntegrations(hubId?: string, page: T.PageQuery = {}): Promise<T.Page<T.Integration>> {
    return this.request('GET', `/api/v1/integrations${query({ hubId, ...page })}`);
  }

  // Conversations and activities
  establishConversation(body: T.EstablishConversation): Promise<T.Conversation> {
    return this.request('POST', '/api/v1/conversations/establish', { channelType: 'Direct', ...body });
  }
  getConversation(conversationId: string): Promise<T.Conversation> {
    return this.request('GET', `/api/v1/conversations/${id(conversationId)}`);
  }
  /** A customer integration submits an activity to its conversation. */
  submitCustomerActivity(conversationId: string, activity: T.InboundActivity): Promise<T.SubmitResponse> {
    return this.request('POST', `/inbound/customer/v1/direct/activity/${id(conversationId)}`, activity);
  }
  /** An agent or bot submits an activity (`sender.integrationId` required). */
  submitBusinessActivity(conversationId: string, activity: T.InboundActivity): Promise<T.SubmitResponse> {
    return this.request('POST', `/inbound/business/v1/direct/activity/${id(conversationId)}`, activity);
  }
  /**
   * Activities from `leid` on, in eventId order. One answer holds at most 1,000 activities (or 8 MiB):
   * ask again with `leid` = the last eventId + 1 until an empty array comes back.
   */
  listActivities(conversationId: string, filter: T.ActivityQuery = {}): Promise<T.Activity[]> {
    return this.request(
      'GET',
      `/api/v1/interactions/activities/${id(conversationId)}${query({ ...filter })}`,
    );
  }

  // Deliveries and notifications
  listDeliveries(
    integrationId: string,
    filter: T.PageQuery & { status?: T.DeliveryStatus } = {},
  ): Promise<T.Page<T.DeliveryRecord>> {
    return this.request('GET', `/api/v1/integrations/${id(integrationId)}/deliveries${query({ ...filter })}`);
  }
  getDelivery(deliveryId: string): Promise<T.DeliveryRecord> {
    return this.request('GET', `/api/v1/deliveries/${id(deliveryId)}`);
  }
  /** Resends a failed or delivered delivery; answers with the delivery as it is now. */
  retryDelivery(deliveryId: string): Promise<T.DeliveryRecord> {
    return this.request('POST', `/api/v1/deliveries/${id(deliveryId)}/retry`, {});
  }
  /** Resends every failed delivery of the integration since `since` (ISO date-time or epoch ms). */
  recoverIntegration(integrationId: string, since: string | number): Promise<T.RecoverResponse> {
    return this.request('POST', `/api/v1/integrations/${id(integrationId)}/recover`, { since });
  }
  listNotifications(page: T.PageQuery = {}): Promise<T.Page<T.Notification>> {
    return this.request('GET', `/api/v1/notifications${query({ ...page })}`);
  }

  // Operations
  health(): Promise<{ status: string }> {
    return this.request('GET', '/healthz');
  }
}
