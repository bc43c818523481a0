// Validation of a submitted (inbound) activity (hubster-wire §2.2–2.5): envelope, message xor event,
// every message and event type. Schemas compile once at load: this runs for every submitted activity.

import { Type } from '@sinclair/typebox';
import { errorItem, type ErrorItem } from './errors.js';
import { normalizeGuid } from './ids.js';
import { parseMessage } from './message-input.js';
import type { InboundActivity } from './types.js';
import { ActivityCodes, compileValidator, isObject, type ParseResult } from './validation.js';

export const EVENT_TYPES = ['seen', 'typing_on', 'typing_off', 'payload'] as const;

const Envelope = compileValidator(
  Type.Object({
    type: Type.Union([Type.Literal('message'), Type.Literal('event')]),
    externalId: Type.Optional(Type.String()),
    sender: Type.Optional(Type.Object({ integrationId: Type.Optional(Type.String({ format: 'guid' })) })),
    message: Type.Optional(Type.Object({})),
    event: Type.Optional(Type.Object({})),
  }),
);

const Event = compileValidator(
  Type.Object({
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    payloadType: Type.Optional(Type.String()),
    payload: Type.Optional(Type.Object({})),
  }),
);

/**
 * A copy of `value` without null members (JSON null means "absent", as in Hubster's serializer), or
 * `value` itself when it holds no null, so the common case allocates nothing.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      const cleaned = withoutNulls(element);
      if (cleaned !== element) {
        copy ??= value.slice();
        copy[i] = cleaned;
      }
    }
    return (copy ?? value) as T;
  }
  if (isObject(value)) {
    let copy: Record<string, unknown> | undefined;
    for (const key in value) {
      const member = value[key];
      if (member === null) {
        copy ??= { ...value };
        delete copy[key];
        continue;
      }
      if (typeof member !== 'object') continue;
      const cleaned = withoutNulls(member);
      if (cleaned !== member) {
        copy ??= { ...value };
        copy[key] = cleaned;
      }
    }
    return (copy ?? value) as T;
  }
  return value;
}

function parseEvent(raw: Record<string, unknown>, errors: ErrorItem[]): Record<string, unknown> | undefined {
  let event = raw;
  if (event.type === undefined && event.Type !== undefined) {
    const { Type: type, ...rest } = event;
    event = { ...rest, type };
  }
  if (typeof event.type === 'string' && event.type !== event.type.toLowerCase()) {
    event = { ...event, type: event.type.toLowerCase() };
  }
  if (!Event.check(event)) {
    errors.push(...Event.errors(event, ActivityCodes, 'event'));
    return undefined;
  }
  if (event.type === 'payload') {
    if (typeof event.payloadType !== 'string' || event.payloadType.trim() === '') {
      errors.push(
        errorItem(
          'ActivityMissingProperty',
          "Property 'event.payloadType' is required when type is 'payload'.",
        ),
      );
    }
    if (event.payload === undefined) {
      errors.push(
        errorItem('ActivityMissingProperty', "Property 'event.payload' is required when type is 'payload'."),
      );
    }
  }
  return event;
}

/**
 * Validates a submitted activity and returns it normalised (nulls dropped, aliases resolved, GUIDs
 * lower-case), or every problem found as ENG0050xx items.
 */
export function parseInboundActivity(body: unknown): ParseResult<InboundActivity> {
  if (body === undefined || body === null || body === '') {
    return { ok: false, errors: [errorItem('ActivityBodyMissing')] };
  }
  if (!isObject(body)) {
    return { ok: false, errors: [errorItem('ActivityBodyMissing', 'Activity body must be a JSON object.')] };
  }
  const input = withoutNulls(body);
  const errors: ErrorItem[] = [];
  if (!Envelope.check(input)) errors.push(...Envelope.errors(input, ActivityCodes));

  const hasMessage = input.message !== undefined;
  const hasEvent = input.event !== undefined;
  if (!hasMessage && !hasEvent) errors.push(errorItem('ActivityNeedsMessageOrEvent'));
  if (hasMessage && hasEvent) errors.push(errorItem('ActivityMessageXorEvent'));
  if (hasMessage !== hasEvent && (input.type === 'message' || input.type === 'event')) {
    const present = hasMessage ? 'message' : 'event';
    if (present !== input.type) {
      errors.push(
        errorItem(
          'ActivityUnsupportedProperty',
          `Property '${present}' is not allowed when type is '${input.type}': send '${input.type}'.`,
        ),
      );
    }
  }

  let message: Record<string, unknown> | undefined;
  if (hasMessage && isObject(input.message)) {
    const parsed = parseMessage(input.message, 'message', ActivityCodes);
    if (parsed.ok) message = parsed.value;
    else errors.push(...parsed.errors);
  }
  let event: Record<string, unknown> | undefined;
  if (hasEvent && isObject(input.event)) event = parseEvent(input.event, errors);

  if (errors.length > 0) return { ok: false, errors };

  const activity: InboundActivity = { type: input.type as InboundActivity['type'] };
  if (typeof input.externalId === 'string') activity.externalId = input.externalId;
  const sender = input.sender as { integrationId?: string } | undefined;
  if (sender) {
    activity.sender =
      sender.integrationId === undefined ? {} : { integrationId: normalizeGuid(sender.integrationId) };
  }
  if (message) activity.message = message;
  if (event) activity.event = event;
  return { ok: true, value: activity };
}
