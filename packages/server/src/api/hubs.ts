// Hubs: POST/GET /api/v1/hubs, GET/PUT/DELETE /api/v1/hubs/{hubId}. A tenant token sees only its hubs;
// the admin names the tenant in the body.

import type { FastifyInstance } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import { parseHubCreate, parseHubUpdate } from '../domain/inputs.js';
import { HubStatus, type Hub } from '../domain/types.js';
import type { Principal } from '../engine-parts.js';
import type { Store } from '../store/contract.js';
import type { RouteDeps } from './app.js';
import { canSee, tenantScope } from './auth.js';
import { recheckConnections, releaseHeld } from './release.js';
import { guidParam, pageRequest, valueOf } from './params.js';
import { applyUpdate } from './update-loop.js';

/** The hub if it exists and the principal may see it; otherwise 404 (a foreign hub looks unknown). */
export async function visibleHub(store: Store, principal: Principal, hubId: string): Promise<Hub> {
  const hub = await store.getHub(hubId);
  if (!hub || !canSee(principal, hub.tenantId)) throw HooksterError.of('HubNotFound');
  return hub;
}

export function registerHubRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  app.post('/api/v1/hubs', async (request) => {
    const hub = valueOf(parseHubCreate(request.body, tenantScope(request.principal), deps.now()));
    // The admin names the tenant: an unknown one is a 404 like any unknown id.
    if (!(await store.getTenant(hub.tenantId))) throw HooksterError.of('NotFound', 'Tenant not found.');
    await store.createHub(hub);
    return hub;
  });

  app.get('/api/v1/hubs', async (request) => {
    return store.listHubs(tenantScope(request.principal), pageRequest(request.query));
  });

  app.get('/api/v1/hubs/:hubId', async (request) => {
    return visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
  });

  // Applied to the hub as stored when it is written (see applyUpdate): concurrent updates apply one
  // after the other, and the release after a resume follows the change actually written.
  app.put('/api/v1/hubs/:hubId', async (request) => {
    const hub = await visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
    const { before, after } = await applyUpdate(hub, {
      compute: (existing) => valueOf(parseHubUpdate(existing, request.body, deps.now())),
      write: (next, existing) => store.updateHub(next, existing),
      reread: async () => {
        const again = await store.getHub(hub.hubId);
        if (!again) throw HooksterError.of('HubNotFound');
        return again;
      },
    });
    if (before.statusId === HubStatus.Paused && after.statusId !== HubStatus.Paused) {
      await releaseHeld(deps, { hubId: hub.hubId });
    }
    return after;
  });

  app.delete('/api/v1/hubs/:hubId', async (request) => {
    const hub = await visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
    await store.deleteHub(hub.hubId);
    await recheckConnections(deps, { hubId: hub.hubId });
    return hub;
  });
}
