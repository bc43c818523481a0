// Runtime parser for webhook payloads: returns typed data or every problem with its exact path.
import { bodyBytes, type WebhookBody } from '../core/body.js';
import { Checker, type Json, type PayloadIssue } from './check.js';
import type { Activity, InboundActivity, Message, WebhookPayload } from './types.js';
import {
  ACTION_TYPES,
  CHANNEL_TYPES,
  EVENT_TYPES,
  FLOW_PROCESSES,
  INTEGRATION_TYPES,
  MESSAGE_TYPES,
  URL_TYPES,
} from './vocabulary.js';

export type { PayloadIssue } from './check.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: PayloadIssue[] };

/** Thrown by `receive` and the adapters when a verified body is not a valid payload. */
export class PayloadError extends Error {
  readonly code = 'HOOKSTER_PAYLOAD_INVALID' as const;
  readonly errors: PayloadIssue[];

  constructor(errors: PayloadIssue[]) {
    super(`invalid webhook payload: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'PayloadError';
    this.errors = errors;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON text of a body. A body that is not valid UTF-8 yields a PayloadError at `$`. */
export function decodeBody(body: WebhookBody): unknown {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8Decoder.decode(bodyBytes(body));
  } catch {
    throw new PayloadError([{ path: '$', message: 'the body is not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PayloadError([{ path: '$', message: `the body is not JSON: ${(error as Error).message}` }]);
  }
}

/** Checks a parsed System or Direct webhook payload. */
export function parseWebhookPayload(value: unknown): ParseResult<WebhookPayload> {
  const c = new Checker();
  if (c.object(value, '$')) {
    for (const key of ['hubId', 'tenantId', 'integrationId', 'conversationId'])
      c.string(value, key, '$', true);
    const properties = value.conversationProperties;
    if (c.object(properties, '$.conversationProperties')) {
      c.stringRecord(properties.profile, '$.conversationProperties.profile');
      c.stringRecord(properties.additional, '$.conversationProperties.additional');
    }
    const hasBatch = value.activities !== undefined;
    const hasSingle = value.activity !== undefined;
    if (hasBatch === hasSingle) {
      c.fail('$', 'expected exactly one of "activities" (System) and "activity" (Direct)');
    } else if (hasBatch) {
      c.list(value, 'activities', '$', true, 1, (item, path) => checkActivity(c, item, path));
    } else {
      checkActivity(c, value.activity, '$.activity');
    }
  }
  return result<WebhookPayload>(c, value);
}

/** Checks one bare activity, e.g. what a websocket client receives in ReceiveDirectActivities. */
export function parseActivity(value: unknown): ParseResult<Activity> {
  const c = new Checker();
  checkActivity(c, value, '$');
  return result<Activity>(c, value);
}

/** Checks one message object (any of the §2.4 types). */
export function parseMessage(value: unknown): ParseResult<Message> {
  const c = new Checker();
  checkMessage(c, value, '$');
  return result<Message>(c, value);
}

/** Checks an activity before it is submitted to the engine (hubster-wire §2.2). */
export function parseInboundActivity(value: unknown): ParseResult<InboundActivity> {
  const c = new Checker();
  if (c.object(value, '$')) {
    c.oneOf(value, 'type', '$', ['message', 'event'], true);
    c.string(value, 'externalId', '$', false);
    if (value.sender !== undefined && c.object(value.sender, '$.sender'))
      c.string(value.sender, 'integrationId', '$.sender', true);
    checkBody(c, value, '$');
  }
  return result<InboundActivity>(c, value);
}

function result<T>(c: Checker, value: unknown): ParseResult<T> {
  return c.issues.length === 0 ? { ok: true, value: value as T } : { ok: false, errors: c.issues };
}

function checkActivity(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.oneOf(value, 'type', path, ['message', 'event'], true);
  c.string(value, 'eventTrigger', path, true);
  c.number(value, 'eventId', path, true, true);
  c.string(value, 'externalId', path, false);
  c.boolean(value, 'isEcho', path, true);
  c.string(value, 'interactionId', path, false);
  c.oneOf(value, 'flowProcess', path, FLOW_PROCESSES, false);
  for (const key of ['sender', 'recipient']) {
    const source = value[key];
    if (source === undefined || !c.object(source, `${path}.${key}`)) continue;
    const sourcePath = `${path}.${key}`;
    c.string(source, 'integrationId', sourcePath, false);
    c.oneOf(source, 'integrationType', sourcePath, INTEGRATION_TYPES, false);
    c.oneOf(source, 'channelType', sourcePath, CHANNEL_TYPES, false);
    c.string(source, 'tokenId', sourcePath, false);
    c.string(source, 'channelData', sourcePath, false);
  }
  checkBody(c, value, path);
}

/** `message` iff type is message, `event` iff type is event. */
function checkBody(c: Checker, value: Json, path: string): void {
  if (value.type === 'message') {
    if (value.event !== undefined) c.fail(`${path}.event`, 'a message activity carries no event');
    checkMessage(c, value.message, `${path}.message`);
  } else if (value.type === 'event') {
    if (value.message !== undefined) c.fail(`${path}.message`, 'an event activity carries no message');
    checkEvent(c, value.event, `${path}.event`);
  }
}

function checkEvent(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.oneOf(value, 'type', path, EVENT_TYPES, true);
  if (value.type === 'payload') {
    c.string(value, 'payloadType', path, true);
    c.object(value.payload, `${path}.payload`);
  }
}

// Liberal as the engine is (hubster-wire §2.1): whatever the engine accepts and signs must parse here,
// or a receiver would answer 400 to a valid delivery and the engine would retry it to exhaustion. So
// an unknown message or action type is accepted as `{type}`, and only what the engine requires is.
function checkMessage(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.string(value, 'type', path, true);
  if (typeof value.type === 'string' && !(MESSAGE_TYPES as readonly string[]).includes(value.type)) return;
  c.list(value, 'channels', path, false, 0, (item, itemPath) => checkChannel(c, item, itemPath));
  switch (value.type) {
    case 'text':
      c.string(value, 'text', path, false);
      c.list(value, 'items', path, false, 0, (item, itemPath) => checkMessage(c, item, itemPath));
      c.list(value, 'actions', path, false, 0, (item, itemPath) => checkAction(c, item, itemPath));
      if (value.text === undefined && value.items === undefined && value.actions === undefined) {
        c.fail(path, 'a text message needs at least one of "text", "items", "actions"');
      }
      break;
    case 'youtube':
    case 'vimeo':
    case 'video':
    case 'audio':
      c.string(value, 'url', path, true);
      for (const key of ['mimeType', 'label', 'fallbackImageUrl']) c.string(value, key, path, false);
      c.number(value, 'size', path, false, true);
      c.number(value, 'length', path, false, true);
      break;
    case 'image':
      c.string(value, 'url', path, true);
      for (const key of ['alt', 'urlAnchor', 'title', 'titleColor']) c.string(value, key, path, false);
      break;
    case 'attachment':
      for (const key of ['url', 'mimeType', 'label']) c.string(value, key, path, true);
      c.number(value, 'size', path, false, true);
      break;
    case 'location':
      c.string(value, 'address', path, false);
      c.number(value, 'latitude', path, false);
      c.number(value, 'longitude', path, false);
      c.string(value, 'imageUrl', path, false);
      if (value.address === undefined && (value.latitude === undefined || value.longitude === undefined)) {
        c.fail(path, 'a location needs "address" or both "latitude" and "longitude"');
      }
      break;
    case 'contact':
      c.string(value, 'title', path, true);
      for (const key of ['imageUrl', 'subtitle']) c.string(value, key, path, false);
      c.list(value, 'properties', path, false, 0, (item, itemPath) => checkProperty(c, item, itemPath));
      break;
    case 'card':
      c.oneOf(value, 'urlType', path, URL_TYPES, false);
      for (const key of ['url', 'fallbackImageUrl', 'title', 'subtitle', 'content'])
        c.string(value, key, path, false);
      break;
    case 'carousel':
    case 'list':
      c.list(value, 'items', path, true, 1, (item, itemPath) => checkListItem(c, item, itemPath));
      if (value.type === 'list')
        c.list(value, 'actions', path, false, 0, (item, itemPath) => checkAction(c, item, itemPath));
      break;
    case 'command':
      for (const key of ['title', 'subtitle']) c.string(value, key, path, false);
      c.list(value, 'properties', path, false, 0, (item, itemPath) => checkProperty(c, item, itemPath));
      break;
  }
}

function checkAction(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.string(value, 'type', path, true);
  if (typeof value.type === 'string' && !(ACTION_TYPES as readonly string[]).includes(value.type)) return;
  c.string(value, 'title', path, false);
  for (const key of ['urlIcon', 'urlImage']) c.string(value, key, path, false);
  c.boolean(value, 'isDefault', path, false);
  c.list(value, 'channels', path, false, 0, (item, itemPath) => checkChannel(c, item, itemPath));
  if (value.type === 'link') c.string(value, 'url', path, true);
  if (value.type === 'postback' || value.type === 'reply') c.string(value, 'payload', path, true);
}

function checkListItem(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.string(value, 'title', path, false);
  for (const key of ['subtitle', 'content', 'url', 'fallbackImageUrl']) c.string(value, key, path, false);
  c.oneOf(value, 'urlType', path, URL_TYPES, false);
  c.list(value, 'actions', path, false, 0, (item, itemPath) => checkAction(c, item, itemPath));
}

function checkChannel(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.string(value, 'type', path, true);
  c.list(value, 'metadata', path, false, 0, (item, itemPath) => {
    if (!c.object(item, itemPath)) return;
    c.string(item, 'key', itemPath, true);
    c.string(item, 'value', itemPath, true);
  });
}

function checkProperty(c: Checker, value: unknown, path: string): void {
  if (!c.object(value, path)) return;
  c.string(value, 'key', path, true);
  c.string(value, 'value', path, true);
  c.string(value, 'type', path, false);
}
