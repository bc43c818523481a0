// Conversations (hubster-wire §1.5): who may establish one, and the new conversation with its
// default profile (`device: "Direct"`, a random fun `full name`).

import type { EstablishRequest } from '../store/contract.js';
import { HooksterError } from './errors.js';
import { sequentialGuid, tokenId } from './ids.js';
import { IntegrationStatus, type Conversation, type Integration } from './types.js';

const ADJECTIVES = [
  'Brave',
  'Calm',
  'Clever',
  'Cosmic',
  'Gentle',
  'Happy',
  'Jolly',
  'Lucky',
  'Mellow',
  'Nimble',
  'Quiet',
  'Sunny',
  'Swift',
  'Witty',
  'Zesty',
  'Bright',
];
const ANIMALS = [
  'Otter',
  'Falcon',
  'Panda',
  'Koala',
  'Lynx',
  'Heron',
  'Badger',
  'Dolphin',
  'Fox',
  'Gecko',
  'Ibis',
  'Marmot',
  'Puffin',
  'Raven',
  'Walrus',
  'Yak',
];

/** A random fun name such as "Swift Otter" (Hubster's default `full name`). */
export function funName(random: () => number = Math.random): string {
  const pick = (list: string[]) => list[Math.floor(random() * list.length) % list.length] ?? list[0];
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}

/**
 * The integration named by an establish request, if it may establish conversations: an existing
 * Customer Direct integration that is not canceled. Throws 404 / 400 otherwise.
 */
export function establishingIntegration(
  integration: Integration | undefined,
  integrationId: string,
): Integration {
  if (!integration)
    throw HooksterError.of('EngineIntegrationNotFound', `Integration '${integrationId}' does not exist.`);
  if (integration.channelId !== 'Direct' || integration.integrationTypeId !== 'Customer') {
    throw HooksterError.of(
      'ConversationInvalidProperty',
      `Integration '${integrationId}' is ${integration.channelId}/${integration.integrationTypeId}: only a Customer Direct integration can establish a conversation.`,
    );
  }
  if (integration.statusId === IntegrationStatus.Canceled) throw HooksterError.of('ConversationClosed');
  return integration;
}

/** A new conversation for an establish request; called by the store only when none exists yet. */
export function newConversation(
  request: EstablishRequest,
  integration: Integration,
  now: number,
  random: () => number = Math.random,
): Conversation {
  const profile = { ...(request.properties?.profile ?? {}) };
  profile.device ??= 'Direct';
  profile['full name'] ??= funName(random);
  return {
    conversationId: sequentialGuid(now),
    tenantId: integration.tenantId,
    hubId: integration.hubId,
    integrationId: integration.integrationId,
    binding: request.binding,
    tokenId: tokenId(),
    properties: { profile, additional: { ...(request.properties?.additional ?? {}) } },
    openedDateTime: new Date(now).toISOString(),
    lastEventId: 0,
  };
}
