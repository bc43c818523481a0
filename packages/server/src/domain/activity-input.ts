// Validation of a submitted (inbound) activity (hubster-wire §2.2–2.5): envelope, message xor event,
// every message and event type. Schemas compile once at load: this runs for every submitted activity.

import { EVENT_TYPES } from '@hookster/sdk';
import { Type } from '@sinclair/typebox';
import { errorItem, type ErrorItem } from './errors.js';
import { normalizeGuid } from './ids.js';
import { parseMessage } from './message-input.js';
import type { InboundActivity } from './types.js';
import { ActivityCodes, compileValidator, isObject, type ParseResult } from './validation.js';

export { EVENT_TYPES };

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

/** Deeper JSON is refused: nothing legitimate nests this far, and recursion must stay bounded. */
export const MAX_DEPTH = 64;
const TOO_DEEP = Symbol('too deep');

function clean(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      const cleaned = clean(element, depth + 1);
      if (cleaned === TOO_DEEP) return TOO_DEEP;
      if (cleaned !== element) {
        copy ??= value.slice();
        copy[i] = cleaned;
      }
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const member = object[key];
    // A "__proto__" member would set the copy's prototype on assignment: drop it like a null.
    if (member === null || key === '__proto__') {
      copy ??= { ...object };
      delete copy[key];
      continue;
    }
    if (typeof member !== 'object') continue;
    const cleaned = clean(member, depth + 1);
    if (cleaned === TOO_DEEP) return TOO_DEEP;
    if (cleaned !== member) {
      copy ??= { ...object };
      copy[key] = cleaned;
    }
  }
  return copy ?? object;
}

/**
 * A copy of `value` without null members (JSON null means "absent", as in Hubster's serializer), or
 * `value` itself when it holds no null, so the common case allocates nothing. Undefined when the value
 * nests deeper than MAX_DEPTH.
 */
export function withoutNulls<T>(value: T): T | undefined {
  const cleaned = clean(value, 0);
  return cleaned === TOO_DEEP ? undefined : (cleaned as T);
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
  if (input === undefined) {
    return {
      ok: false,
      errors: [errorItem('ActivityUnsupportedProperty', `Activity nests deeper than ${MAX_DEPTH} levels.`)],
    };
  }
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

/** A submitted activity's envelope and event as JSON Schema (for the OpenAPI document). */
export const activitySchemas = { ActivityEnvelope: Envelope.schema, ActivityEvent: Event.schema };
