// Hubs: POST/GET /api/v1/hubs, GET/PUT/DELETE /api/v1/hubs/{hubId}. A tenant token sees only its hubs;
// the admin names the tenant in the body.

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HooksterError, errorItem } from '../domain/errors.js';
import { normalizeGuid, sequentialGuid } from '../domain/ids.js';
import { HubStatus, type Hub } from '../domain/types.js';
import { compileValidator, isObject, PortalCodes } from '../domain/validation.js';
import type { Principal } from '../engine-parts.js';
import type { Store } from '../store/contract.js';
import type { RouteDeps } from './app.js';
import { canSee, tenantScope } from './auth.js';
import { guidParam, isoTime, pageRequest } from './params.js';

const Status = Type.Union([Type.Literal(HubStatus.Active), Type.Literal(HubStatus.Paused)]);
const Dormant = Type.Integer({ minimum: 0, maximum: 3650 });

const CreateBody = compileValidator(
  Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.String({ maxLength: 2000 }),
    tenantId: Type.Optional(Type.String({ format: 'guid' })),
    statusId: Type.Optional(Status),
    closeDormantConversation: Type.Optional(Dormant),
  }),
);

const UpdateBody = compileValidator(
  Type.Object({
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    tenantId: Type.Optional(Type.String({ format: 'guid' })),
    hubId: Type.Optional(Type.String({ format: 'guid' })),
    statusId: Type.Optional(Status),
    closeDormantConversation: Type.Optional(Dormant),
  }),
);

/** The hub if it exists and the principal may see it; otherwise 404 (a foreign hub looks unknown). */
export async function visibleHub(store: Store, principal: Principal, hubId: string): Promise<Hub> {
  const hub = await store.getHub(hubId);
  if (!hub || !canSee(principal, hub.tenantId)) throw HooksterError.of('HubNotFound');
  return hub;
}

export function registerHubRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  app.post('/api/v1/hubs', async (request) => {
    const body = request.body;
    if (!isObject(body)) throw HooksterError.invalid([errorItem('MissingBody')]);
    const errors = CreateBody.check(body) ? [] : CreateBody.errors(body, PortalCodes);
    const principal = request.principal;
    if (principal.kind === 'admin' && body.tenantId === undefined) {
      errors.push(errorItem('MissingProperty', "Property 'tenantId' is required with the admin token."));
    }
    if (errors.length > 0 || !CreateBody.check(body)) throw HooksterError.invalid(errors);
    const tenantId =
      body.tenantId !== undefined
        ? normalizeGuid(body.tenantId)
        : principal.kind === 'tenant'
          ? principal.tenantId
          : '';
    if (!canSee(principal, tenantId) || !(await store.getTenant(tenantId))) {
      throw HooksterError.of('NotFound', 'Tenant not found.');
    }
    const now = deps.now();
    const hub: Hub = {
      hubId: sequentialGuid(now),
      tenantId,
      name: body.name.trim(),
      description: body.description,
      statusId: body.statusId ?? HubStatus.Active,
      created: isoTime(now),
      modified: isoTime(now),
    };
    if (body.closeDormantConversation !== undefined)
      hub.closeDormantConversation = body.closeDormantConversation;
    await store.createHub(hub);
    return hub;
  });

  app.get('/api/v1/hubs', async (request) => {
    return store.listHubs(tenantScope(request.principal), pageRequest(request.query));
  });

  app.get('/api/v1/hubs/:hubId', async (request) => {
    return visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
  });

  app.put('/api/v1/hubs/:hubId', async (request) => {
    const hub = await visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
    const body = request.body;
    if (!isObject(body)) throw HooksterError.invalid([errorItem('MissingBody')]);
    if (!UpdateBody.check(body)) throw HooksterError.invalid(UpdateBody.errors(body, PortalCodes));
    const updated: Hub = {
      ...hub,
      name: body.name?.trim() ?? hub.name,
      description: body.description ?? hub.description,
      statusId: body.statusId ?? hub.statusId,
      modified: isoTime(deps.now()),
    };
    if (body.closeDormantConversation !== undefined)
      updated.closeDormantConversation = body.closeDormantConversation;
    await store.updateHub(updated);
    return updated;
  });

  app.delete('/api/v1/hubs/:hubId', async (request) => {
    const hub = await visibleHub(store, request.principal, guidParam(request.params, 'hubId'));
    await store.deleteHub(hub.hubId);
    return hub;
  });
}
