// The establish request (hubster-wire §5.5): validation and the new conversation it creates.

import { randomInt } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { errorItem, HooksterError } from '../domain/errors.js';
import { normalizeGuid, sequentialGuid, tokenId } from '../domain/ids.js';
import type { Conversation, ConversationProperties, Integration } from '../domain/types.js';
import { compileValidator, ConversationCodes, isObject } from '../domain/validation.js';
import type { EstablishRequest } from '../store/contract.js';
import { isoTime } from './params.js';

const StringMap = Type.Record(Type.String(), Type.String());

const EstablishBody = compileValidator(
  Type.Object({
    integrationId: Type.String({ format: 'guid' }),
    binding: Type.String({ minLength: 1, maxLength: 400 }),
    channelType: Type.Union([Type.Literal('Direct'), Type.Literal(1)]),
    properties: Type.Optional(
      Type.Object({ profile: Type.Optional(StringMap), additional: Type.Optional(StringMap) }),
    ),
  }),
);

export function parseEstablish(body: unknown): EstablishRequest {
  if (!isObject(body)) throw HooksterError.invalid([errorItem('ConversationBodyMissing')]);
  if (!EstablishBody.check(body)) throw HooksterError.invalid(EstablishBody.errors(body, ConversationCodes));
  const request: EstablishRequest = {
    integrationId: normalizeGuid(body.integrationId),
    binding: body.binding,
  };
  if (body.properties) {
    request.properties = {
      profile: body.properties.profile ?? {},
      additional: body.properties.additional ?? {},
    };
  }
  return request;
}

const ADJECTIVES = [
  'Brave',
  'Calm',
  'Clever',
  'Gentle',
  'Happy',
  'Lucky',
  'Quiet',
  'Swift',
  'Witty',
  'Bright',
];
const ANIMALS = ['Otter', 'Falcon', 'Panda', 'Heron', 'Lynx', 'Koala', 'Badger', 'Dolphin', 'Fox', 'Robin'];

/** Hubster fills `device` and a random fun `full name` when the profile lacks them. */
function defaultProfile(given: ConversationProperties | undefined): ConversationProperties {
  const profile: Record<string, string> = {
    device: 'Direct',
    'full name': `${ADJECTIVES[randomInt(ADJECTIVES.length)]} ${ANIMALS[randomInt(ANIMALS.length)]}`,
    ...(given?.profile ?? {}),
  };
  return { profile, additional: { ...(given?.additional ?? {}) } };
}

export function newConversation(
  integration: Integration,
  request: EstablishRequest,
  now: number,
): Conversation {
  return {
    conversationId: sequentialGuid(now),
    tenantId: integration.tenantId,
    hubId: integration.hubId,
    integrationId: integration.integrationId,
    binding: request.binding,
    tokenId: tokenId(),
    properties: defaultProfile(request.properties),
    openedDateTime: isoTime(now),
    lastEventId: 0,
  };
}
