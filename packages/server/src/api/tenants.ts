// Tenants (admin) and their API client credentials: POST/GET /api/v1/tenants, POST …/{tenantId}/clients.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HooksterError, errorItem } from '../domain/errors.js';
import { secret, sequentialGuid } from '../domain/ids.js';
import { TenantStatus, type Tenant } from '../domain/types.js';
import { compileValidator, isObject, PortalCodes } from '../domain/validation.js';
import type { RouteDeps } from './app.js';
import { canSee, requireAdmin, sha256Hex } from './auth.js';
import { guidParam, isoTime } from './params.js';

export const ENGINE_SCOPE = 'hubster-engine-api';

const TenantBody = compileValidator(
  Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    accountHolderEmail: Type.String({ format: 'email' }),
    statusId: Type.Optional(
      Type.Union([Type.Literal(TenantStatus.Active), Type.Literal(TenantStatus.Disabled)]),
    ),
  }),
);

/** `hubster.engine.api.<TENANTID>`: the tenant GUID without dashes, upper case (hubster-wire §1.2). */
export function engineClientId(tenantId: string): string {
  return `hubster.engine.api.${tenantId.replace(/-/g, '').toUpperCase()}`;
}

export function registerTenantRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  app.post('/api/v1/tenants', async (request) => {
    requireAdmin(request.principal);
    const body = request.body;
    if (!isObject(body)) throw HooksterError.invalid([errorItem('MissingBody')]);
    if (!TenantBody.check(body)) throw HooksterError.invalid(TenantBody.errors(body, PortalCodes));
    const now = isoTime(deps.now());
    const tenant: Tenant = {
      tenantId: sequentialGuid(deps.now()),
      name: body.name.trim(),
      accountHolderEmail: body.accountHolderEmail,
      statusId: body.statusId ?? TenantStatus.Active,
      created: now,
      modified: now,
    };
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

  app.post('/api/v1/tenants/:tenantId/clients', async (request) => {
    const tenantId = guidParam(request.params, 'tenantId');
    if (!canSee(request.principal, tenantId)) throw HooksterError.of('NotFound', 'Tenant not found.');
    requireAdmin(request.principal);
    const tenant = await store.getTenant(tenantId);
    if (!tenant) throw HooksterError.of('NotFound', 'Tenant not found.');
    // The first client gets Hubster's exact id; later ones (e.g. for rotation) a numbered suffix.
    const base = engineClientId(tenantId);
    let clientId = base;
    for (let n = 2; await store.getClient(clientId); n++) clientId = `${base}.${n}`;
    const clientSecret = secret();
    await store.createClient({
      clientId,
      tenantId,
      secretHash: sha256Hex(clientSecret),
      scope: ENGINE_SCOPE,
      created: isoTime(deps.now()),
    });
    return { clientId, clientSecret };
  });
}
