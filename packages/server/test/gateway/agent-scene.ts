// A hub with a Direct Agent integration (websocket: no webhookUrl) that spoke first in a new
// conversation, so it is the conversation's business integration: the customer's messages go to it even
// while it is paused (a new conversation would pick an active one). Shared by the pause tests.

import { setupHub, type ApiClient, type HubFixture, type Json } from '../support/client.js';

export interface AgentScene {
  hub: HubFixture;
  agent: Json;
  conversationId: string;
}

export async function agentScene(client: ApiClient): Promise<AgentScene> {
  const hub = await setupHub(client);
  const agent = await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Agent' },
  });
  const { conversationId } = await hub.openConversation();
  const spoke = await client.post(`/inbound/business/v1/direct/activity/${conversationId}`, {
    type: 'message',
    sender: { integrationId: agent.integrationId },
    message: { type: 'text', text: 'hello' },
  });
  if (spoke.status !== 200) throw new Error(`the agent's first message: ${spoke.status} ${spoke.text}`);
  return { hub, agent, conversationId };
}
