// The Fastify application: body parsing, auth, the error mapping and one route module per resource.
// Fastify's schema validation is not used: the domain validators report every problem at once.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HooksterConfig } from '../config/types.js';
import type { Authenticate, Gateway } from '../engine-parts.js';
import type { Store } from '../store/contract.js';
import { errorItem, HooksterError } from '../domain/errors.js';
import { requireAuth } from './auth.js';
import { registerConversationRoutes } from './conversations.js';
import { registerDeliveryRoutes } from './deliveries.js';
import { registerDocsRoutes } from './docs.js';
import {
  clientErrorHandler,
  errorHandler,
  errorResponse,
  notFoundHandler,
  workerNotFoundHandler,
} from './errors.js';
import { registerHealthRoutes } from './health.js';
import { registerHubRoutes } from './hubs.js';
import { registerIntegrationRoutes } from './integrations.js';
import { createMetrics, type Metrics } from './metrics.js';
import { encodingRefusal, registerJsonBodyParser } from './json-body.js';
import { registerSubmitRoutes } from './submit.js';
import { registerTenantRoutes } from './tenants.js';
import { registerTokenRoutes } from './token.js';

export interface AppDeps {
  config: HooksterConfig;
  store: Store;
  logger: Logger;
  authenticate: Authenticate;
  /** Present on api/all: receives each committed submission for websocket pushes. */
  gateway?: Gateway;
  metrics?: Metrics;
  /** Extra routes mounted by other parts (e.g. the gateway's negotiate route). */
  plugins?: ((app: FastifyInstance) => void | Promise<void>)[];
  /** Only health, readiness and metrics (role worker). */
  healthOnly?: boolean;
  /** Why this process's dispatcher takes no work now (readiness answers 503 then), or undefined. */
  dispatcherUnavailable?: () => string | undefined;
  now?: () => number;
}

/** What every route module receives. */
export interface RouteDeps extends AppDeps {
  metrics: Metrics;
  now: () => number;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const handleError = errorHandler(deps.logger);
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // No per-request log lines: the submit path must stay lean (≥ 10,000/s); errors are logged once.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is the engine's logger itself: no child logger made per request (nothing here logs
    // through request.log; errors are logged by the error handler, with the request's method and URL).
    childLoggerFactory: (logger) => logger,
    bodyLimit: deps.config.bodyLimitBytes,
    // A whole request must arrive within this (Fastify's default is none: a trickled body held its
    // connection for ever); Node checks it every connectionsCheckingInterval.
    requestTimeout: deps.config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, deps.config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(
        30_000,
        Math.max(100, Math.floor(deps.config.requestTimeoutMs / 4)),
      ),
    },
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    // Bad URL encodings and constraint failures are answered before routing: same error shape.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    clientErrorHandler,
    // On close, idle keep-alive connections go at once; requests in flight (a submit being committed)
    // finish and are answered first.
    forceCloseConnections: 'idle',
  });
  // An `Expect` other than 100-continue: Node would answer 417 itself, with an empty body.
  app.server.on('checkExpectation', (request, response) => {
    request.resume();
    const body = JSON.stringify(
      errorResponse(417, [
        errorItem('InvalidValue', 'Only the expectation 100-continue is supported: drop the Expect header.'),
      ]),
    );
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });
  const routeDeps: RouteDeps = {
    ...deps,
    metrics: deps.metrics ?? createMetrics(),
    now: deps.now ?? Date.now,
  };

  app.setErrorHandler(handleError);
  app.setNotFoundHandler(deps.healthOnly ? workerNotFoundHandler : notFoundHandler);
  // JSON only: Fastify's text/plain parser would hand a JSON body sent as text (fetch's default) to
  // the validators as a string ("must be a JSON object"), and a form would be read as fields ("name is
  // required"); such a body gets 415, which says what is wrong. Without a body (`curl -X POST -d ''` on
  // a route that takes none) the content type does not matter.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_request, body, done) => {
      if ((body as string).length === 0) done(null, undefined);
      else done(HooksterError.of('UnsupportedMediaType', 'Unsupported content type: send application/json.'));
    },
  );
  registerJsonBodyParser(app);
  app.decorateRequest('principal', null as unknown as never);

  registerHealthRoutes(app, routeDeps);
  if (deps.healthOnly) return app;

  registerDocsRoutes(app);
  // Form bodies only where OAuth clients send them; elsewhere a form is 415, not "name is required".
  await app.register((tokenScope, _opts, done) => {
    tokenScope.removeContentTypeParser('application/x-www-form-urlencoded');
    tokenScope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (request, body, done) => {
        const refused = encodingRefusal(request.headers['content-encoding'], (body as string).length);
        if (refused !== undefined) done(refused, undefined);
        else done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );
    registerTokenRoutes(tokenScope, routeDeps);
    done();
  });
  for (const plugin of deps.plugins ?? []) await plugin(app);
  await app.register((api, _opts, done) => {
    api.addHook('onRequest', requireAuth(deps.authenticate));
    registerTenantRoutes(api, routeDeps);
    registerHubRoutes(api, routeDeps);
    registerIntegrationRoutes(api, routeDeps);
    registerConversationRoutes(api, routeDeps);
    registerSubmitRoutes(api, routeDeps);
    registerDeliveryRoutes(api, routeDeps);
    done();
  });
  return app;
}
