// Conversations: POST /api/v1/conversations/establish (idempotent on integration + binding) and
// GET /api/v1/conversations/{conversationId}.

import type { FastifyInstance } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import type { Conversation } from '../domain/types.js';
import type { RouteDeps } from './app.js';
import { canSee } from './auth.js';
import { newConversation, parseEstablish } from './establish-input.js';
import { guidParam } from './params.js';

/** The public view of a conversation (internal routing state stays inside). */
export function conversationView(conversation: Conversation): Record<string, unknown> {
  return {
    tenantId: conversation.tenantId,
    hubId: conversation.hubId,
    integrationId: conversation.integrationId,
    conversationId: conversation.conversationId,
    binding: conversation.binding,
    tokenId: conversation.tokenId,
    openedDateTime: conversation.openedDateTime,
    closedDateTime: conversation.closedDateTime,
    businessIntegrationId: conversation.businessIntegrationId,
    properties: conversation.properties,
  };
}

export function registerConversationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  app.post('/api/v1/conversations/establish', async (request) => {
    const input = parseEstablish(request.body);
    const integration = await store.getIntegration(input.integrationId);
    if (!integration || !canSee(request.principal, integration.tenantId)) {
      throw HooksterError.of('EngineIntegrationNotFound');
    }
    if (integration.channelId !== 'Direct' || integration.integrationTypeId !== 'Customer') {
      throw HooksterError.of(
        'SenderNotAllowed',
        'Only a Direct integration of type Customer establishes conversations.',
      );
    }
    const { conversation, isNew } = await store.establishConversation(input, () =>
      newConversation(integration, input, deps.now()),
    );
    return { ...conversationView(conversation), isNew };
  });

  app.get('/api/v1/conversations/:conversationId', async (request) => {
    const conversation = await store.getConversation(guidParam(request.params, 'conversationId'));
    if (!conversation || !canSee(request.principal, conversation.tenantId)) {
      throw HooksterError.of('ConversationNotFound');
    }
    return conversationView(conversation);
  });
}
