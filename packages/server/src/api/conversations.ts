// Conversations: POST /api/v1/conversations/establish (idempotent on integration + binding) and
// GET /api/v1/conversations/{conversationId}.

import type { FastifyInstance } from 'fastify';
import { establishingIntegration, newConversation } from '../domain/conversation.js';
import { HooksterError } from '../domain/errors.js';
import { parseEstablish } from '../domain/inputs.js';
import type { Conversation } from '../domain/types.js';
import type { RouteDeps } from './app.js';
import { canSee } from './auth.js';
import { guidParam, valueOf } from './params.js';

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
    const input = valueOf(parseEstablish(request.body));
    const found = await store.getIntegration(input.integrationId);
    // A foreign tenant's integration is reported exactly like a missing one.
    const visible = found && canSee(request.principal, found.tenantId) ? found : undefined;
    const integration = establishingIntegration(visible, input.integrationId);
    const { conversation, isNew } = await store.establishConversation(input, () =>
      newConversation(input, integration, deps.now()),
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
