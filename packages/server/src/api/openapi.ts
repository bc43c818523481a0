// The OpenAPI 3.1 document of the HTTP API (DESIGN §5), served at /docs/openapi.json. Request bodies are
// the JSON Schemas the validators check (domain/*), so the document cannot drift from what is accepted;
// answers are described here by hand.

import { activitySchemas } from '../domain/activity-input.js';
import { inputSchemas } from '../domain/inputs.js';
import { integrationSchemas } from '../domain/integration-config.js';

type Op = Record<string, unknown>;

const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': { description: 'Bad input: every problem listed', ...json(ref('Error')) },
  '401': { description: 'No, bad or expired token', ...json(ref('Error')) },
  '404': { description: 'Unknown id, or a resource of another tenant', ...json(ref('Error')) },
  '403': { description: 'An admin-only route called with a tenant token', ...json(ref('Error')) },
  '413': { description: 'Body over the limit', ...json(ref('Error')) },
  '415': { description: 'A body that is not application/json', ...json(ref('Error')) },
  '503': {
    description: 'Shutting down, or SQLite busy past busy_timeout (with Retry-After)',
    ...json(ref('Error')),
  },
};
/** An update that kept losing to concurrent updates of the same resource (it changed nothing). */
const conflict = {
  '409': {
    description: 'Kept losing to concurrent updates of the same resource; nothing changed: send it again',
    ...json(ref('Error')),
  },
};
const ok = (description: string, schema: unknown = { type: 'object' }) => ({
  '200': { description, ...json(schema) },
  ...errors,
});
const path = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
});
const query = (name: string, schema: unknown = { type: 'string' }) => ({ name, in: 'query', schema });
const paging = [
  query('pageNumber', { type: 'integer', minimum: 0 }),
  query('pageSize', { type: 'integer', minimum: 1, maximum: 100 }),
];
/** The websocket hub's query: the receiving integration, an optional conversation, the token for browsers. */
const hubParameters = [
  { name: 'iId', in: 'query', required: true, schema: { type: 'string', format: 'uuid' } },
  query('cId', { type: 'string', format: 'uuid' }),
  query('access_token', { type: 'string' }),
];
const body = (schema: unknown) => ({ required: true, ...json(schema) });
/** A page of `item`s (the Page envelope with typed results). */
const pageOf = (item: string) => ({
  allOf: [ref('Page'), { type: 'object', properties: { results: { type: 'array', items: ref(item) } } }],
});
const str = { type: 'string' };
const int = { type: 'integer' };
const guid = { type: 'string', format: 'uuid' };
const time = { type: 'string', format: 'date-time' };
const object = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
});

/** Answers, as the routes build them. */
const answerSchemas = {
  Tenant: object({
    tenantId: guid,
    name: str,
    accountHolderEmail: str,
    statusId: { enum: [1000, 1001, 1002] },
    created: time,
    modified: time,
  }),
  ClientCredentials: object({ clientId: str, clientSecret: { type: 'string', description: 'shown once' } }, [
    'clientId',
    'clientSecret',
  ]),
  Client: object({ clientId: str, tenantId: guid, scope: str, created: time }, [
    'clientId',
    'tenantId',
    'scope',
    'created',
  ]),
  RevokedClient: object(
    {
      clientId: str,
      tenantId: guid,
      scope: str,
      created: time,
      revokedTokens: { type: 'integer', description: 'tokens of the client deleted with it' },
    },
    ['clientId', 'tenantId', 'scope', 'created', 'revokedTokens'],
  ),
  Hub: object({
    hubId: guid,
    tenantId: guid,
    name: str,
    description: str,
    statusId: { enum: [2000, 2002], description: '2000 active, 2002 paused' },
    closeDormantConversation: int,
    created: time,
    modified: time,
  }),
  Integration: object({
    integrationId: guid,
    hubId: guid,
    integrationTypeId: { type: 'string', description: 'System, or the Direct integrationType' },
    channelId: { enum: ['System', 'Direct'] },
    name: str,
    statusId: { enum: [3000, 3002], description: '3000 active, 3002 paused' },
    configuration: {
      oneOf: [ref('SystemConfiguration'), ref('DirectConfiguration')],
      description: 'with publicSigningKey and privateSigningKey when a webhookUrl is set',
    },
    created: time,
    modified: time,
  }),
  Conversation: object({
    tenantId: guid,
    hubId: guid,
    integrationId: guid,
    conversationId: guid,
    binding: str,
    tokenId: str,
    openedDateTime: time,
    closedDateTime: time,
    businessIntegrationId: guid,
    properties: { type: 'object' },
    isNew: { type: 'boolean', description: 'establish only' },
  }),
  Attempt: object({
    attemptNumber: int,
    startedAt: time,
    durationMs: int,
    statusCode: int,
    error: str,
    responseExcerpt: { type: 'string', description: 'at most 4 KiB' },
  }),
  Delivery: object({
    deliveryId: guid,
    integrationId: guid,
    conversationId: guid,
    hubId: guid,
    tenantId: guid,
    status: { enum: ['pending', 'held', 'delivered', 'failed', 'cancelled'] },
    activityCount: int,
    createdAt: time,
    nextAttemptAt: time,
    attemptCount: int,
    attempts: { type: 'array', items: ref('Attempt'), description: 'one delivery only' },
  }),
  Notification: object({
    notificationId: guid,
    tenantId: guid,
    hubId: guid,
    integrationId: guid,
    deliveryId: guid,
    code: { type: 'integer', description: '7512: unreachable endpoint' },
    caption: str,
    details: str,
    createdAt: time,
  }),
  Activity: {
    type: 'object',
    description: 'An activity as stored and delivered (hubster-wire §2)',
    properties: {
      type: { enum: ['message', 'event'] },
      eventTrigger: str,
      eventId: int,
      externalId: str,
      isEcho: { type: 'boolean' },
      interactionId: str,
      flowProcess: str,
      sender: { type: 'object' },
      recipient: { type: 'object' },
      message: { type: 'object' },
      event: { type: 'object' },
    },
  },
};

/** Request bodies: the validators' own schemas. */
const requestSchemas = {
  ...inputSchemas,
  ...integrationSchemas,
  ActivityEnvelope: activitySchemas.ActivityEnvelope,
  ActivityEvent: activitySchemas.ActivityEvent,
  Recover: object(
    {
      since: {
        oneOf: [time, int],
        description: 'ISO 8601 date or date-time (UTC unless it carries an offset) or epoch milliseconds',
      },
    },
    ['since'],
  ),
  TokenRequest: object(
    {
      grant_type: { const: 'client_credentials' },
      client_id: str,
      client_secret: str,
      scope: str,
    },
    ['grant_type'],
  ),
};
/** JSON Schema only (TypeBox's symbol keys do not survive JSON; this drops them here too). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const op = (tag: string, summary: string, extra: Op = {}): Op => ({
  tags: [tag],
  summary,
  responses: ok(summary),
  ...extra,
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Hookster API',
    version: '0.1.0',
    description:
      'Management and submission API of the Hookster webhook engine (Hubster wire format). Every route ' +
      'except /connect/token, /healthz, /readyz, /metrics and /docs needs `Authorization: Bearer <token>`.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      ...plain(answerSchemas),
      ...plain(requestSchemas),
      Error: {
        type: 'object',
        properties: {
          status: { type: 'integer' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              properties: { code: { type: 'integer' }, description: { type: 'string' } },
            },
          },
        },
      },
      Page: {
        type: 'object',
        properties: {
          pageNumber: { type: 'integer' },
          pageSize: { type: 'integer' },
          total: { type: 'integer' },
          results: { type: 'array', items: {} },
        },
      },
      SubmitResponse: {
        type: 'object',
        properties: {
          status: { const: 200 },
          eventId: { type: 'integer' },
          externalId: { type: 'string' },
          hubId: { type: 'string' },
          conversationId: { type: 'string' },
          integrationId: { type: 'string' },
          interactionId: { type: 'string' },
        },
      },
      Negotiate: {
        type: 'object',
        properties: {
          negotiateVersion: { type: 'integer' },
          connectionId: { type: 'string' },
          connectionToken: { type: 'string', description: 'negotiateVersion 1 only' },
          availableTransports: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                transport: { const: 'WebSockets' },
                transferFormats: { type: 'array', items: { const: 'Text' } },
              },
            },
          },
        },
      },
      Token: {
        type: 'object',
        properties: {
          access_token: { type: 'string' },
          expires_in: { const: 2592000 },
          token_type: { const: 'Bearer' },
          scope: { type: 'string' },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/tenants': {
      post: op('tenants', 'Create a tenant (admin)', {
        requestBody: body(ref('TenantCreate')),
        responses: ok('The tenant', ref('Tenant')),
      }),
    },
    '/api/v1/tenants/{tenantId}': {
      get: op('tenants', 'Read a tenant', {
        parameters: [path('tenantId')],
        responses: ok('The tenant', ref('Tenant')),
      }),
      put: op('tenants', 'Change name or accountHolderEmail (admin)', {
        parameters: [path('tenantId')],
        requestBody: body(ref('TenantUpdate')),
        responses: ok('The tenant', ref('Tenant')),
      }),
    },
    '/api/v1/tenants/{tenantId}/clients': {
      post: op('tenants', 'Create client credentials (admin; the secret is shown once)', {
        parameters: [path('tenantId')],
        responses: ok('Client credentials', ref('ClientCredentials')),
      }),
      get: op('tenants', "List the tenant's clients, oldest first, without secrets (admin)", {
        parameters: [path('tenantId'), ...paging],
        responses: ok('Clients', pageOf('Client')),
      }),
    },
    '/api/v1/tenants/{tenantId}/clients/{clientId}': {
      delete: op(
        'tenants',
        'Revoke a client (admin): it and every token issued to it are deleted; its websocket connections are closed',
        {
          parameters: [path('tenantId'), { name: 'clientId', in: 'path', required: true, schema: str }],
          responses: ok('The revoked client', ref('RevokedClient')),
        },
      ),
    },
    '/connect/token': {
      post: {
        tags: ['auth'],
        summary: 'Client credentials → bearer token (30 days)',
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: ref('TokenRequest') },
            'application/json': { schema: ref('TokenRequest') },
          },
        },
        responses: ok('A token', ref('Token')),
      },
    },
    '/api/v1/hubs': {
      post: op('hubs', 'Create a hub', {
        requestBody: body(ref('HubCreate')),
        responses: ok('The hub', ref('Hub')),
      }),
      get: op('hubs', 'List hubs', { parameters: paging, responses: ok('Hubs', pageOf('Hub')) }),
    },
    '/api/v1/hubs/{hubId}': {
      get: op('hubs', 'Read a hub', { parameters: [path('hubId')], responses: ok('The hub', ref('Hub')) }),
      put: op('hubs', 'Update a hub (2002 pauses, 2000 resumes)', {
        parameters: [path('hubId')],
        requestBody: body(ref('HubUpdate')),
        responses: { ...ok('The hub', ref('Hub')), ...conflict },
      }),
      delete: op('hubs', 'Delete a hub and its integrations', {
        parameters: [path('hubId')],
        responses: ok('The deleted hub', ref('Hub')),
      }),
    },
    '/api/v1/integrations/hubs/{hubId}': {
      post: op('integrations', 'Create an integration in a hub (or update one: Hubster alias)', {
        parameters: [path('hubId')],
        description:
          '`configuration` is a SystemConfiguration for channelId System, a DirectConfiguration for Direct.',
        requestBody: body(ref('IntegrationCreate')),
        responses: { ...ok('The integration', ref('Integration')), ...conflict },
      }),
    },
    '/api/v1/integrations/hubs/{hubId}/{channelType}': {
      get: op('integrations', "A hub's integrations of one channel type (a plain array)", {
        parameters: [
          path('hubId'),
          { name: 'channelType', in: 'path', required: true, schema: { type: 'string' } },
        ],
        description: 'channelType as a name (any case) or a number, e.g. `System`, `Direct`, `1`.',
        responses: ok('Integrations', { type: 'array', items: ref('Integration') }),
      }),
    },
    '/api/v1/integrations': {
      get: op('integrations', 'List integrations', {
        parameters: [query('hubId'), ...paging],
        responses: ok('Integrations', pageOf('Integration')),
      }),
    },
    '/api/v1/integrations/{integrationId}': {
      get: op('integrations', 'Read an integration (with signing keys)', {
        parameters: [path('integrationId')],
        responses: ok('The integration', ref('Integration')),
      }),
      put: op('integrations', 'Update (configuration replaced whole; regenerateKeys)', {
        parameters: [path('integrationId')],
        requestBody: body(ref('IntegrationUpdate')),
        responses: { ...ok('The integration', ref('Integration')), ...conflict },
      }),
      delete: op('integrations', 'Delete (cancels pending deliveries)', {
        parameters: [path('integrationId')],
        responses: ok('The deleted integration', ref('Integration')),
      }),
    },
    '/api/v1/conversations/establish': {
      post: op('conversations', 'Establish or resume a conversation (isNew)', {
        requestBody: body(ref('Establish')),
        responses: ok('The conversation', ref('Conversation')),
      }),
    },
    '/api/v1/conversations/{conversationId}': {
      get: op('conversations', 'Read a conversation', {
        parameters: [path('conversationId')],
        responses: ok('The conversation', ref('Conversation')),
      }),
    },
    '/inbound/customer/v1/direct/activity/{conversationId}': {
      post: op('activities', 'Submit an activity as the conversation customer', {
        parameters: [path('conversationId')],
        description:
          'An ActivityEnvelope with a `message` (text, items, card, … — hubster-wire §2.4; unknown types are ' +
          'kept as `{type}`) or an ActivityEvent in `event`.',
        requestBody: body(ref('ActivityEnvelope')),
        responses: ok('Committed', ref('SubmitResponse')),
      }),
    },
    '/inbound/business/v1/direct/activity/{conversationId}': {
      post: op('activities', 'Submit an activity as an agent or bot (sender.integrationId)', {
        parameters: [path('conversationId')],
        description:
          'An ActivityEnvelope with a `message` (text, items, card, … — hubster-wire §2.4; unknown types are ' +
          'kept as `{type}`) or an ActivityEvent in `event`.',
        requestBody: body(ref('ActivityEnvelope')),
        responses: ok('Committed', ref('SubmitResponse')),
      }),
    },
    '/api/v1/interactions/activities/{conversationId}': {
      get: op('activities', 'Activities of a conversation from an event id on (plain array)', {
        description:
          'At most 1,000 activities or 8 MiB per answer, always at least one: ask again with `leid` = the ' +
          'last eventId + 1 until the array comes back empty.',
        parameters: [path('conversationId'), query('type'), query('leid', { type: 'integer' })],
        responses: ok('Activities', { type: 'array', items: ref('Activity') }),
      }),
    },
    '/api/v1/integrations/{integrationId}/deliveries': {
      get: op('deliveries', 'Delivery log of an integration', {
        parameters: [path('integrationId'), query('status'), ...paging],
        responses: ok('Deliveries', pageOf('Delivery')),
      }),
    },
    '/api/v1/deliveries/{deliveryId}': {
      get: op('deliveries', 'One delivery with its attempts', {
        parameters: [path('deliveryId')],
        responses: ok('The delivery', ref('Delivery')),
      }),
    },
    '/api/v1/deliveries/{deliveryId}/retry': {
      post: op('deliveries', 'Resend a failed or delivered delivery now', {
        parameters: [path('deliveryId')],
        responses: ok('The delivery, pending again', ref('Delivery')),
      }),
    },
    '/api/v1/integrations/{integrationId}/recover': {
      post: op('deliveries', 'Resend every failed delivery since a time ({since})', {
        parameters: [path('integrationId')],
        requestBody: body(ref('Recover')),
        responses: ok(
          'How many were resent',
          object({ status: { const: 200 }, recovered: int }, ['recovered']),
        ),
      }),
    },
    '/api/v1/notifications': {
      get: op('notifications', "The tenant's notifications", {
        parameters: paging,
        responses: ok('Notifications', pageOf('Notification')),
      }),
    },
    '/engine-chat-hub/negotiate': {
      post: {
        tags: ['websocket'],
        summary: 'SignalR negotiate for the websocket hub (docs/websocket.md)',
        description:
          'Stateless: the websocket upgrade is authorised again on its own. The token may also be sent as ' +
          '`access_token` in the query (browsers).',
        parameters: [...hubParameters, query('negotiateVersion', { type: 'integer', enum: [0, 1] })],
        responses: {
          '200': {
            description: 'The only transport is WebSockets with the Text format',
            ...json(ref('Negotiate')),
          },
          '400': errors['400'],
          '401': errors['401'],
          '404': errors['404'],
          '503': { description: 'The engine is shutting down', ...json(ref('Error')) },
        },
      },
    },
    '/engine-chat-hub': {
      get: {
        tags: ['websocket'],
        summary:
          'Websocket hub (SignalR JSON hub protocol): live activities of a Direct integration without webhookUrl',
        description:
          'Send `Upgrade: websocket`. After the handshake `{"protocol":"json","version":1}\u001e` the server ' +
          'invokes `ReceiveDirectActivities` with each activity (fire-and-forget, in eventId order per ' +
          'conversation); it pings every HOOKSTER_WS_PING_INTERVAL and closes a connection silent for ' +
          'HOOKSTER_WS_CLIENT_TIMEOUT. Refusals are plain HTTP answers to the upgrade request.',
        parameters: [
          ...hubParameters,
          query('id', { type: 'string', description: 'connectionToken from negotiate (optional)' }),
        ],
        responses: {
          '101': { description: 'Switching Protocols: the websocket is open' },
          '426': { description: 'A request without `Upgrade: websocket`', ...json(ref('Error')) },
          '400': errors['400'],
          '401': errors['401'],
          '404': errors['404'],
          '503': { description: 'The engine is shutting down', ...json(ref('Error')) },
        },
      },
    },
    '/healthz': {
      get: {
        tags: ['operations'],
        summary: 'Liveness',
        security: [],
        responses: { '200': { description: 'Alive' } },
      },
    },
    '/readyz': {
      get: {
        tags: ['operations'],
        summary: 'Readiness (the store answers; in roles all and worker, the dispatcher takes work)',
        security: [],
        responses: {
          '200': { description: 'Ready' },
          '503': { description: 'Store unreachable, or the dispatcher down (`dispatcher` says why)' },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        security: [],
        responses: { '200': { description: 'Metrics' } },
      },
    },
  },
};
