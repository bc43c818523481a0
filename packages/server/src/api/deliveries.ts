// The delivery log and manual resends: deliveries of an integration, one delivery with its attempts,
// retry, recover, and the tenant's notifications.

import type { FastifyInstance } from 'fastify';
import { HooksterError, errorItem } from '../domain/errors.js';
import type { Delivery } from '../domain/types.js';
import { parseDeliveryStatusQuery, parsePageQuery, parseRecoverSince } from '../domain/inputs.js';
import type { Principal } from '../engine-parts.js';
import type { RouteDeps } from './app.js';
import { canSee, tenantScope } from './auth.js';
import { visibleIntegration } from './integrations.js';
import { guidParam, pageRequest, valueOf } from './params.js';

export function registerDeliveryRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  async function visibleDelivery(principal: Principal, deliveryId: string): Promise<Delivery> {
    const delivery = await store.getDelivery(deliveryId);
    if (!delivery || !canSee(principal, delivery.tenantId)) throw HooksterError.of('DeliveryNotFound');
    // Numbered in order over the delivery's whole life: a manual retry starts a new retry budget (its
    // waits start again) but continues the count, so the log never shows 1, 2, 3, 1.
    if (delivery.attempts !== undefined) {
      delivery.attempts = delivery.attempts.map((attempt, index) => ({
        ...attempt,
        attemptNumber: index + 1,
      }));
    }
    return delivery;
  }

  app.get('/api/v1/integrations/:integrationId/deliveries', async (request) => {
    const integration = await visibleIntegration(
      store,
      request.principal,
      guidParam(request.params, 'integrationId'),
    );
    // Both parsed before either refuses, so a 400 lists every problem of the query.
    const status = parseDeliveryStatusQuery(request.query);
    const page = parsePageQuery(request.query);
    if (!status.ok || !page.ok) {
      throw HooksterError.invalid([...(status.ok ? [] : status.errors), ...(page.ok ? [] : page.errors)]);
    }
    return store.listDeliveries(integration.integrationId, status.value, page.value);
  });

  app.get('/api/v1/deliveries/:deliveryId', async (request) => {
    return visibleDelivery(request.principal, guidParam(request.params, 'deliveryId'));
  });

  app.post('/api/v1/deliveries/:deliveryId/retry', async (request) => {
    const delivery = await visibleDelivery(request.principal, guidParam(request.params, 'deliveryId'));
    const resent = await store.retryDelivery(delivery.deliveryId, deps.now());
    if (!resent)
      throw HooksterError.invalid([errorItem('InvalidValue', await notResent(delivery.deliveryId))]);
    return visibleDelivery(request.principal, delivery.deliveryId);
  });

  /** Why the store did not resend: read again, as another request may have resent it meanwhile. */
  async function notResent(deliveryId: string): Promise<string> {
    const current = await store.getDelivery(deliveryId);
    if (current === undefined) throw HooksterError.of('DeliveryNotFound');
    if (current.status !== 'failed' && current.status !== 'delivered') {
      const meanwhile = current.status === 'pending' ? ' (being sent, or resent by another request)' : '';
      return `Delivery is ${current.status}${meanwhile}: only a failed or delivered delivery can be resent.`;
    }
    const integration = await store.getIntegration(current.integrationId);
    if (integration === undefined) return 'Its integration was deleted: there is nowhere to resend it.';
    if (typeof integration.configuration.webhookUrl !== 'string') {
      return 'Its integration receives over the websocket (no webhookUrl), fire-and-forget: only webhook deliveries can be resent.';
    }
    return `Delivery is ${current.status} and could not be resent.`;
  }

  app.post('/api/v1/integrations/:integrationId/recover', async (request) => {
    const integration = await visibleIntegration(
      store,
      request.principal,
      guidParam(request.params, 'integrationId'),
    );
    const since = valueOf(parseRecoverSince(request.body));
    const recovered = await store.recoverDeliveries(integration.integrationId, since, deps.now());
    return { status: 200, recovered };
  });

  app.get('/api/v1/notifications', async (request) => {
    return store.listNotifications(tenantScope(request.principal), pageRequest(request.query));
  });
}
