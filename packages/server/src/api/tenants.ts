// Tenants (admin) and their API client credentials: POST/GET /api/v1/tenants, POST/GET
// …/{tenantId}/clients, DELETE …/{tenantId}/clients/{clientId} (revocation).

import type { FastifyInstance } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import { secret } from '../domain/ids.js';
import { parsePageQuery, parseTenantCreate, parseTenantUpdate } from '../domain/inputs.js';
import type { ClientRecord } from '../domain/types.js';
import type { RouteDeps } from './app.js';
import { canSee, requireAdmin, sha256Hex } from './auth.js';
import { recheckConnections } from './release.js';
import { guidParam, valueOf } from './params.js';

export const ENGINE_SCOPE = 'hubster-engine-api';

/** `hubster.engine.api.<TENANTID>`: the tenant GUID without dashes, upper case (hubster-wire §1.2). */
export function engineClientId(tenantId: string): string {
  return `hubster.engine.api.${tenantId.replace(/-/g, '').toUpperCase()}`;
}

/** A client as listed and revoked: never its secret's hash. */
function clientView(client: ClientRecord): {
  clientId: string;
  tenantId: string;
  scope: string;
  created: string;
} {
  return {
    clientId: client.clientId,
    tenantId: client.tenantId,
    scope: client.scope,
    created: client.created,
  };
}

/** The `{clientId}` path parameter: any non-empty text up to 200 characters (ids are never longer). */
function clientIdParam(params: unknown): string {
  const value = (params as { clientId?: unknown } | undefined)?.clientId;
  if (typeof value !== 'string' || value === '' || value.length > 200) {
    throw HooksterError.of('NotFound', 'Client not found.');
  }
  return value;
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

  app.get('/api/v1/tenants/:tenantId/clients', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    if (!canSee(request.principal, tenantId)) throw HooksterError.of('NotFound', 'Tenant not found.');
    requireAdmin(request.principal);
    const page = valueOf(parsePageQuery(request.query));
    if (!(await store.getTenant(tenantId))) throw HooksterError.of('NotFound', 'Tenant not found.');
    const clients = await store.listClients(tenantId);
    const start = page.pageNumber * page.pageSize;
    return {
      pageNumber: page.pageNumber,
      pageSize: page.pageSize,
      total: clients.length,
      results: clients.slice(start, start + page.pageSize).map(clientView),
    };
  });

  // Revocation: the client and every token issued to it are deleted; this process refuses those tokens
  // at once and closes its websocket connections opened with them, other engine processes within
  // TOKEN_RECHECK_MS (requests) and a keep-alive period (connections).
  app.delete('/api/v1/tenants/:tenantId/clients/:clientId', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    if (!canSee(request.principal, tenantId)) throw HooksterError.of('NotFound', 'Tenant not found.');
    requireAdmin(request.principal);
    const clientId = clientIdParam(request.params);
    const client = await store.getClient(clientId);
    const revokedTokens =
      client === undefined || client.tenantId !== tenantId
        ? undefined
        : await store.deleteClient(tenantId, clientId);
    if (client === undefined || revokedTokens === undefined) {
      throw HooksterError.of('NotFound', 'Client not found.');
    }
    deps.authenticate.forgetClient?.(clientId);
    await recheckConnections(deps, { tenantId });
    return { ...clientView(client), revokedTokens };
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
