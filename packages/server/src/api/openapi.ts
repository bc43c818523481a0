// The hand-written OpenAPI 3.1 document of the HTTP API (DESIGN §5), served at /docs/openapi.json.

type Op = Record<string, unknown>;

const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': { description: 'Bad input: every problem listed', ...json(ref('Error')) },
  '401': { description: 'No, bad or expired token', ...json(ref('Error')) },
  '404': { description: 'Unknown id, or a resource of another tenant', ...json(ref('Error')) },
  '413': { description: 'Body over the limit', ...json(ref('Error')) },
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
const body = (schema: unknown = { type: 'object' }) => ({ required: true, ...json(schema) });
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
    '/api/v1/tenants': { post: op('tenants', 'Create a tenant (admin)', { requestBody: body() }) },
    '/api/v1/tenants/{tenantId}': {
      get: op('tenants', 'Read a tenant', { parameters: [path('tenantId')] }),
      put: op('tenants', 'Change name or accountHolderEmail (admin)', {
        parameters: [path('tenantId')],
        requestBody: body({
          type: 'object',
          properties: { name: { type: 'string' }, accountHolderEmail: { type: 'string', format: 'email' } },
        }),
      }),
    },
    '/api/v1/tenants/{tenantId}/clients': {
      post: op('tenants', 'Create client credentials (admin; the secret is shown once)', {
        parameters: [path('tenantId')],
      }),
    },
    '/connect/token': {
      post: {
        tags: ['auth'],
        summary: 'Client credentials → bearer token (30 days)',
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: { type: 'object' } },
            'application/json': { schema: { type: 'object' } },
          },
        },
        responses: ok('A token', ref('Token')),
      },
    },
    '/api/v1/hubs': {
      post: op('hubs', 'Create a hub', { requestBody: body() }),
      get: op('hubs', 'List hubs', { parameters: paging, responses: ok('Hubs', ref('Page')) }),
    },
    '/api/v1/hubs/{hubId}': {
      get: op('hubs', 'Read a hub', { parameters: [path('hubId')] }),
      put: op('hubs', 'Update a hub (2002 pauses, 2000 resumes)', {
        parameters: [path('hubId')],
        requestBody: body(),
      }),
      delete: op('hubs', 'Delete a hub and its integrations', { parameters: [path('hubId')] }),
    },
    '/api/v1/integrations/hubs/{hubId}': {
      post: op('integrations', 'Create an integration in a hub (or update one: Hubster alias)', {
        parameters: [path('hubId')],
        requestBody: body(),
      }),
    },
    '/api/v1/integrations': {
      get: op('integrations', 'List integrations', {
        parameters: [query('hubId'), ...paging],
        responses: ok('Integrations', ref('Page')),
      }),
    },
    '/api/v1/integrations/{integrationId}': {
      get: op('integrations', 'Read an integration (with signing keys)', {
        parameters: [path('integrationId')],
      }),
      put: op('integrations', 'Update (configuration replaced whole; regenerateKeys)', {
        parameters: [path('integrationId')],
        requestBody: body(),
      }),
      delete: op('integrations', 'Delete (cancels pending deliveries)', {
        parameters: [path('integrationId')],
      }),
    },
    '/api/v1/conversations/establish': {
      post: op('conversations', 'Establish or resume a conversation (isNew)', { requestBody: body() }),
    },
    '/api/v1/conversations/{conversationId}': {
      get: op('conversations', 'Read a conversation', { parameters: [path('conversationId')] }),
    },
    '/inbound/customer/v1/direct/activity/{conversationId}': {
      post: op('activities', 'Submit an activity as the conversation customer', {
        parameters: [path('conversationId')],
        requestBody: body(),
        responses: ok('Committed', ref('SubmitResponse')),
      }),
    },
    '/inbound/business/v1/direct/activity/{conversationId}': {
      post: op('activities', 'Submit an activity as an agent or bot (sender.integrationId)', {
        parameters: [path('conversationId')],
        requestBody: body(),
        responses: ok('Committed', ref('SubmitResponse')),
      }),
    },
    '/api/v1/interactions/activities/{conversationId}': {
      get: op('activities', 'Activities of a conversation from an event id on (plain array)', {
        parameters: [path('conversationId'), query('type'), query('leid', { type: 'integer' })],
        responses: ok('Activities', { type: 'array', items: { type: 'object' } }),
      }),
    },
    '/api/v1/integrations/{integrationId}/deliveries': {
      get: op('deliveries', 'Delivery log of an integration', {
        parameters: [path('integrationId'), query('status'), ...paging],
        responses: ok('Deliveries', ref('Page')),
      }),
    },
    '/api/v1/deliveries/{deliveryId}': {
      get: op('deliveries', 'One delivery with its attempts', { parameters: [path('deliveryId')] }),
    },
    '/api/v1/deliveries/{deliveryId}/retry': {
      post: op('deliveries', 'Resend a failed or delivered delivery now', {
        parameters: [path('deliveryId')],
      }),
    },
    '/api/v1/integrations/{integrationId}/recover': {
      post: op('deliveries', 'Resend every failed delivery since a time ({since})', {
        parameters: [path('integrationId')],
        requestBody: body(),
      }),
    },
    '/api/v1/notifications': {
      get: op('notifications', "The tenant's notifications", {
        parameters: paging,
        responses: ok('Notifications', ref('Page')),
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
        summary: 'Readiness (the store answers)',
        security: [],
        responses: { '200': { description: 'Ready' }, '503': { description: 'Store unreachable' } },
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
