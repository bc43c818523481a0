// Activity submission (the hot path) and the interactions listing:
// POST /inbound/{customer|business}/v1/direct/activity/{conversationId},
// GET /api/v1/interactions/activities/{conversationId}?type=&leid=.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInboundActivity } from '../domain/activity-input.js';
import { HooksterError } from '../domain/errors.js';
import { parseInteractionsQuery } from '../domain/inputs.js';
import { sequentialGuid } from '../domain/ids.js';
import { planActivity, type PlanIds, type SubmitSide } from '../domain/routing.js';
import type { SubmitResult } from '../store/contract.js';
import type { RouteDeps } from './app.js';
import { canSee } from './auth.js';
import { guidParam, valueOf } from './params.js';

const IDS: PlanIds = { interactionId: (eventId) => sequentialGuid(eventId) };

export interface SubmitResponse {
  status: 200;
  eventId: number;
  externalId?: string;
  hubId: string;
  conversationId: string;
  integrationId?: string;
  interactionId?: string;
}

export function submitResponse(result: SubmitResult): SubmitResponse {
  const activity = result.plan.activity;
  return {
    status: 200,
    eventId: activity.eventId,
    externalId: activity.externalId,
    hubId: result.conversation.hubId,
    conversationId: result.conversation.conversationId,
    integrationId: activity.sender?.integrationId,
    interactionId: activity.interactionId,
  };
}

export function registerSubmitRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store, gateway, metrics, logger } = deps;

  function handler(side: SubmitSide) {
    return async (request: FastifyRequest): Promise<SubmitResponse> => {
      const conversationId = guidParam(request.params, 'conversationId');
      const parsed = parseInboundActivity(request.body);
      if (!parsed.ok) throw HooksterError.invalid(parsed.errors);
      const principal = request.principal;
      // The tenant check runs inside the submit transaction on the conversation it loads anyway.
      const result = await store.submitActivity(conversationId, (ctx) => {
        if (!canSee(principal, ctx.conversation.tenantId)) throw HooksterError.of('ConversationNotFound');
        return planActivity(ctx, parsed.value, side, IDS);
      });
      metrics.submitted.inc();
      if (gateway) {
        // Committed already: a push failure must not turn the answer into an error.
        try {
          gateway.publish(result);
        } catch (error) {
          logger.error({ err: error }, 'websocket publish failed');
        }
      }
      return submitResponse(result);
    };
  }

  app.post('/inbound/customer/v1/direct/activity/:conversationId', handler('customer'));
  app.post('/inbound/business/v1/direct/activity/:conversationId', handler('business'));

  app.get('/api/v1/interactions/activities/:conversationId', async (request) => {
    const conversationId = guidParam(request.params, 'conversationId');
    const query = valueOf(parseInteractionsQuery(request.query));
    const conversation = await store.getConversation(conversationId);
    if (!conversation || !canSee(request.principal, conversation.tenantId)) {
      throw HooksterError.of('ConversationNotFound');
    }
    return store.listActivities(conversationId, query);
  });
}
