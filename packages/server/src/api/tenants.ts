// Tenants (admin) and their API client credentials: POST/GET /api/v1/tenants, POST …/{tenantId}/clients.

import type { FastifyInstance } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import { secret } from '../domain/ids.js';
import { parseTenantCreate, parseTenantUpdate } from '../domain/inputs.js';
import type { RouteDeps } from './app.js';
import { canSee, requireAdmin, sha256Hex } from './auth.js';
import { guidParam, valueOf } from './params.js';

export const ENGINE_SCOPE = 'hubster-engine-api';

/** `hubster.engine.api.<TENANTID>`: the tenant GUID without dashes, upper case (hubster-wire §1.2). */
export function engineClientId(tenantId: string): string {
  return `hubster.engine.api.${tenantId.replace(/-/g, '').toUpperCase()}`;
}

export function registerTenantRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  app.post('/api/v1/tenants', async (request) => {
    requireAdmin(request.principal);
    const tenant = valueOf(parseTenantCreate(request.body, deps.now()));
    await store.createTenant(tenant);
    return tenant;
  });

  app.get('/api/v1/tenants/:tenantId', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    const tenant = await store.getTenant(tenantId);
    if (!tenant || !canSee(request.principal, tenantId))
      throw HooksterError.of('NotFound', 'Tenant not found.');
    return tenant;
  });

  app.put('/api/v1/tenants/:tenantId', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    if (!canSee(request.principal, tenantId)) throw HooksterError.of('NotFound', 'Tenant not found.');
    requireAdmin(request.principal);
    const tenant = await store.getTenant(tenantId);
    if (!tenant) throw HooksterError.of('NotFound', 'Tenant not found.');
    const updated = valueOf(parseTenantUpdate(tenant, request.body, deps.now()));
    await store.updateTenant(updated);
    return updated;
  });

  app.post('/api/v1/tenants/:tenantId/clients', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    if (!canSee(request.principal, tenantId)) throw HooksterError.of('NotFound', 'Tenant not found.');
    requireAdmin(request.principal);
    const tenant = await store.getTenant(tenantId);
    if (!tenant) throw HooksterError.of('NotFound', 'Tenant not found.');
    // The first client gets Hubster's exact id; later ones (e.g. for rotation) a numbered suffix.
    const base = engineClientId(tenantId);
    const clientSecret = secret();
    const record = {
      tenantId,
      secretHash: sha256Hex(clientSecret),
      scope: ENGINE_SCOPE,
      created: new Date(deps.now()).toISOString(),
    };
    // Concurrent requests may pick the same free id: the insert that loses (409) takes the next one.
    for (let n = 1, conflicts = 0; ; n++) {
      const clientId = n === 1 ? base : `${base}.${n}`;
      if (await store.getClient(clientId)) continue;
      try {
        await store.createClient({ clientId, ...record });
        return { clientId, clientSecret };
      } catch (error) {
        if (!(error instanceof HooksterError && error.status === 409) || ++conflicts > 100) throw error;
      }
    }
  });
}
