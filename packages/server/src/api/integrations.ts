// Integrations: create in a hub, read (with keys), update (configuration replaced whole;
// regenerateKeys), delete, list. Responses use Hubster's shape with camelCase configuration keys.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HooksterError, errorItem, type ErrorItem } from '../domain/errors.js';
import { isGuid, normalizeGuid } from '../domain/ids.js';
import {
  parseChannelId,
  parseIntegrationCreate,
  parseIntegrationUpdate,
} from '../domain/integration-config.js';
import { parsePageQuery } from '../domain/inputs.js';
import { IntegrationStatus, type Hub, type Integration } from '../domain/types.js';
import type { Principal } from '../engine-parts.js';
import type { Store } from '../store/contract.js';
import type { RouteDeps } from './app.js';
import { canSee, tenantScope } from './auth.js';
import { recheckConnections, releaseHeld } from './release.js';
import { visibleHub } from './hubs.js';
import { guidParam, queryValue } from './params.js';
import { applyUpdate } from './update-loop.js';

/** The integration if it exists and the principal may see it; otherwise 404. */
export async function visibleIntegration(
  store: Store,
  principal: Principal,
  integrationId: string,
): Promise<Integration> {
  const integration = await store.getIntegration(integrationId);
  if (!integration || !canSee(principal, integration.tenantId)) throw HooksterError.of('IntegrationNotFound');
  return integration;
}

/** Hubster's integration shape (the tenant is implied by the hub). */
export function integrationView(integration: Integration): Record<string, unknown> {
  return {
    integrationId: integration.integrationId,
    hubId: integration.hubId,
    integrationTypeId: integration.integrationTypeId,
    channelId: integration.channelId,
    name: integration.name,
    statusId: integration.statusId,
    configuration: integration.configuration,
    created: integration.created,
    modified: integration.modified,
  };
}

export function registerIntegrationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  async function create(hub: Hub, body: unknown): Promise<Record<string, unknown>> {
    const parsed = parseIntegrationCreate(body, hub.hubId, hub.tenantId, deps.now());
    if (!parsed.ok) throw HooksterError.invalid(parsed.errors);
    await store.createIntegration(parsed.value);
    return integrationView(parsed.value);
  }

  /**
   * Applies the update to the integration as stored when it is written (see applyUpdate), so concurrent
   * updates apply one after the other and the follow-ups (release after a resume) follow the change
   * actually written.
   */
  async function update(read: Integration, body: unknown): Promise<Record<string, unknown>> {
    const id = read.integrationId;
    const { before, after } = await applyUpdate(read, {
      compute: (existing) => {
        const parsed = parseIntegrationUpdate(existing, body, deps.now());
        if (!parsed.ok) throw HooksterError.invalid(parsed.errors);
        return parsed.value;
      },
      write: (next, existing) => store.updateIntegration(next, existing),
      reread: async () => {
        const again = await store.getIntegration(id);
        if (!again) throw HooksterError.of('IntegrationNotFound');
        return again;
      },
    });
    if (before.statusId === IntegrationStatus.Paused && after.statusId !== IntegrationStatus.Paused) {
      await releaseHeld(deps, { hubId: after.hubId, integrationIds: [id] });
    }
    await recheckConnections(deps, { integrationIds: [id] });
    return integrationView(after);
  }

  // Create; also Hubster's documented update alias (hubster-wire §5.6/§7.13): the id names a hub for a
  // create and an integration for an update. GUIDs never collide across the two, so it is unambiguous.
  app.post('/api/v1/integrations/hubs/:hubId', async (request: FastifyRequest) => {
    const id = guidParam(request.params, 'hubId');
    const hub = await store.getHub(id);
    if (hub && canSee(request.principal, hub.tenantId)) return create(hub, request.body);
    if (!hub) {
      const integration = await store.getIntegration(id);
      if (integration && canSee(request.principal, integration.tenantId))
        return update(integration, request.body);
    }
    throw HooksterError.of('HubNotFound');
  });

  // Hubster's list of a hub's integrations of one channel type (hubster-wire §5.6): a plain array.
  app.get('/api/v1/integrations/hubs/:hubId/:channelType', async (request) => {
    const hubId = guidParam(request.params, 'hubId');
    const text = (request.params as { channelType: string }).channelType;
    const channel = parseChannelId(text);
    if (channel === undefined) {
      throw HooksterError.invalid([
        errorItem('InvalidValue', `Path parameter 'channelType' has an unknown value '${text}'.`),
      ]);
    }
    const hub = await visibleHub(store, request.principal, hubId);
    const found: Integration[] = [];
    for (let pageNumber = 0; ; pageNumber++) {
      const page = await store.listIntegrations({ hubId: hub.hubId }, { pageNumber, pageSize: 100 });
      found.push(...page.results.filter((i) => i.channelId === channel));
      if (page.results.length < 100 || (pageNumber + 1) * 100 >= page.total) break;
    }
    return found.map(integrationView);
  });

  app.get('/api/v1/integrations/:integrationId', async (request) => {
    const integration = await visibleIntegration(
      store,
      request.principal,
      guidParam(request.params, 'integrationId'),
    );
    return integrationView(integration);
  });

  app.put('/api/v1/integrations/:integrationId', async (request) => {
    const integration = await visibleIntegration(
      store,
      request.principal,
      guidParam(request.params, 'integrationId'),
    );
    return update(integration, request.body);
  });

  app.delete('/api/v1/integrations/:integrationId', async (request) => {
    const integration = await visibleIntegration(
      store,
      request.principal,
      guidParam(request.params, 'integrationId'),
    );
    await store.deleteIntegration(integration.integrationId);
    await recheckConnections(deps, { integrationIds: [integration.integrationId] });
    return integrationView(integration);
  });

  app.get('/api/v1/integrations', async (request) => {
    const hubText = queryValue(request.query, 'hubId');
    // Every problem of the query in one 400: a malformed hubId and a bad page together.
    const errors: ErrorItem[] = [];
    if (hubText !== undefined && hubText !== '' && !isGuid(hubText)) {
      errors.push(errorItem('InvalidGuid', "Query parameter 'hubId' must be a GUID."));
    }
    const parsedPage = parsePageQuery(request.query);
    if (!parsedPage.ok) errors.push(...parsedPage.errors);
    if (errors.length > 0 || !parsedPage.ok) throw HooksterError.invalid(errors);
    const page = parsedPage.value;
    const filter: { tenantId?: string; hubId?: string } = {};
    const scope = tenantScope(request.principal);
    if (scope) filter.tenantId = scope;
    if (hubText) filter.hubId = (await visibleHub(store, request.principal, normalizeGuid(hubText))).hubId;
    const listed = await store.listIntegrations(filter, page);
    return { ...listed, results: listed.results.map(integrationView) };
  });
}
