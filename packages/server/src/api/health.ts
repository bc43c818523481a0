// Liveness, readiness (the store answers) and Prometheus metrics; no authentication.

import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './app.js';

const PROBE_ID = '00000000-0000-0000-0000-000000000000';

export function registerHealthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    // A process that should deliver but cannot (its dispatch thread ended and starts again) is not
    // ready: an orchestrator sees it, instead of a healthy process that delivers nothing.
    const dispatcher = deps.dispatcherUnavailable?.();
    if (dispatcher !== undefined) {
      return reply.code(503).send({ status: 'unavailable', store: deps.store.kind, dispatcher });
    }
    try {
      await deps.store.check?.();
      await deps.store.getTenant(PROBE_ID);
      return { status: 'ready', store: deps.store.kind };
    } catch (error) {
      deps.logger.warn({ err: error }, 'readiness probe: store unreachable');
      return reply.code(503).send({ status: 'unavailable', store: deps.store.kind });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
