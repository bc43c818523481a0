// Validation and normalisation of message objects (hubster-wire §2.3–2.4): every message type with its
// required fields, actions and list items. Used by activities and by Direct `start` messages.

import { ACTION_TYPES, MESSAGE_TYPES, URL_TYPES } from '@hookster/sdk';
import { Type, type TSchema } from '@sinclair/typebox';
import { errorItem, type ErrorItem } from './errors.js';
import {
  childPath,
  compileValidator,
  isObject,
  type ErrorCodeSet,
  type ParseResult,
  type Validator,
} from './validation.js';

export { MESSAGE_TYPES, URL_TYPES, ACTION_TYPES };
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** What a `text` message's `items` may hold (hubster-wire §2.4). */
export const ITEM_MESSAGE_TYPES: readonly string[] = [
  'youtube',
  'vimeo',
  'video',
  'audio',
  'image',
  'attachment',
  'location',
  'contact',
  'card',
];

const OptStr = Type.Optional(Type.String());
const Url = Type.String({ minLength: 1 });
const OptInt = Type.Optional(Type.Integer({ minimum: 0 }));
const UrlType = Type.Union(URL_TYPES.map((t) => Type.Literal(t)));
// Channel hints: `metadata` is a list of string pairs (hubster-wire §2.4), as the SDK's parser and types
// expect: a delivery the engine accepted must parse in every receiver.
const Channels = Type.Optional(
  Type.Array(
    Type.Object({
      type: Type.String(),
      metadata: Type.Optional(Type.Array(Type.Object({ key: Type.String(), value: Type.String() }))),
    }),
  ),
);
// Elements are checked one by one by their own parsers, so each problem gets its own path.
const ObjectList = Type.Array(Type.Unknown());
const PropertyItems = Type.Optional(
  Type.Array(Type.Object({ key: Type.String(), value: Type.String(), type: OptStr })),
);
const Media = {
  url: Url,
  mimeType: OptStr,
  label: OptStr,
  size: OptInt,
  fallbackImageUrl: OptStr,
  length: OptInt,
};

function body(properties: Record<string, TSchema>): Validator<unknown> {
  return compileValidator(Type.Object({ ...properties, channels: Channels }));
}

const MESSAGE_SCHEMAS: Record<MessageType, Validator<unknown>> = {
  text: body({ text: OptStr, items: Type.Optional(ObjectList), actions: Type.Optional(ObjectList) }),
  youtube: body(Media),
  vimeo: body(Media),
  video: body(Media),
  audio: body(Media),
  image: body({ url: Url, alt: OptStr, urlAnchor: OptStr, title: OptStr, titleColor: OptStr }),
  attachment: body({ url: Url, mimeType: Type.String({ minLength: 1 }), label: Type.String(), size: OptInt }),
  location: body({
    address: OptStr,
    latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    imageUrl: OptStr,
  }),
  contact: body({ title: Type.String(), imageUrl: OptStr, subtitle: OptStr, properties: PropertyItems }),
  card: body({
    urlType: Type.Optional(UrlType),
    url: OptStr,
    fallbackImageUrl: OptStr,
    title: OptStr,
    subtitle: OptStr,
    content: OptStr,
  }),
  carousel: body({ items: Type.Array(Type.Unknown(), { minItems: 1 }) }),
  list: body({ items: Type.Array(Type.Unknown(), { minItems: 1 }), actions: Type.Optional(ObjectList) }),
  command: body({ title: OptStr, subtitle: OptStr, properties: PropertyItems }),
};

const ActionBase = {
  title: OptStr,
  urlIcon: OptStr,
  urlImage: OptStr,
  isDefault: Type.Optional(Type.Boolean()),
};
const ACTION_SCHEMAS: Record<(typeof ACTION_TYPES)[number], Validator<unknown>> = {
  postback: body({ ...ActionBase, payload: Type.String() }),
  reply: body({ ...ActionBase, payload: Type.String() }),
  link: body({ ...ActionBase, url: Url }),
};

const LIST_ITEM = compileValidator(
  Type.Object({
    title: OptStr,
    subtitle: OptStr,
    content: OptStr,
    urlType: Type.Optional(UrlType),
    url: OptStr,
    fallbackImageUrl: OptStr,
    actions: Type.Optional(ObjectList),
  }),
);

/**
 * Reads the dispatch `type` (the reference deserializer also accepts `Type`), lower-cased.
 * Returns the object to continue with: the same one, or a copy when `Type` had to become `type`.
 */
function readType(
  raw: Record<string, unknown>,
  path: string,
  codes: ErrorCodeSet,
  errors: ErrorItem[],
): { type: string; object: Record<string, unknown> } | undefined {
  let value = raw.type;
  let object = raw;
  if (value === undefined && raw.Type !== undefined) {
    value = raw.Type;
    const { Type: _alias, ...rest } = raw;
    object = rest;
  }
  if (value === undefined) {
    errors.push(errorItem(codes.missing, `Property '${childPath(path, 'type')}' is required.`));
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.push(errorItem(codes.type, `Property '${childPath(path, 'type')}' must be a string.`));
    return undefined;
  }
  const type = value.toLowerCase();
  if (object.type !== type) object = { ...object, type };
  return { type, object };
}

function objectAt(
  raw: unknown,
  path: string,
  codes: ErrorCodeSet,
  errors: ErrorItem[],
): raw is Record<string, unknown> {
  if (isObject(raw)) return true;
  errors.push(errorItem(codes.type, `Property '${path}' must be an object.`));
  return false;
}

/** Validates every element of an array property in place, replacing elements that were normalised. */
function eachElement(
  object: Record<string, unknown>,
  key: string,
  path: string,
  codes: ErrorCodeSet,
  errors: ErrorItem[],
  parse: (raw: unknown, path: string) => Record<string, unknown> | undefined,
): Record<string, unknown> {
  const list = object[key];
  if (!Array.isArray(list)) return object;
  let copy: unknown[] | undefined;
  list.forEach((element: unknown, index) => {
    const before = errors.length;
    const parsed = parse(element, childPath(childPath(path, key), index));
    if (parsed !== undefined && parsed !== element && errors.length === before) {
      copy ??= [...list];
      copy[index] = parsed;
    }
  });
  return copy ? { ...object, [key]: copy } : object;
}

function parseActionAt(raw: unknown, path: string, codes: ErrorCodeSet, errors: ErrorItem[]) {
  if (!objectAt(raw, path, codes, errors)) return undefined;
  const read = readType(raw, path, codes, errors);
  if (!read) return undefined;
  // Own keys only: a type such as "constructor" must not find Object.prototype's members.
  const schema = Object.hasOwn(ACTION_SCHEMAS, read.type)
    ? ACTION_SCHEMAS[read.type as (typeof ACTION_TYPES)[number]]
    : undefined;
  // Unknown action types degrade to {type} (hubster-wire §2.1: be liberal on input).
  if (!schema) return { type: read.type };
  if (!schema.check(read.object)) errors.push(...schema.errors(read.object, codes, path));
  return read.object;
}

function parseListItemAt(raw: unknown, path: string, codes: ErrorCodeSet, errors: ErrorItem[]) {
  if (!objectAt(raw, path, codes, errors)) return undefined;
  if (!LIST_ITEM.check(raw)) {
    errors.push(...LIST_ITEM.errors(raw, codes, path));
    return undefined;
  }
  return eachElement(raw, 'actions', path, codes, errors, (a, p) => parseActionAt(a, p, codes, errors));
}

function parseMessageAt(
  raw: unknown,
  path: string,
  codes: ErrorCodeSet,
  errors: ErrorItem[],
  inItems: boolean,
): Record<string, unknown> | undefined {
  if (!objectAt(raw, path, codes, errors)) return undefined;
  const read = readType(raw, path, codes, errors);
  if (!read) return undefined;
  let message = read.object;
  const type = read.type as MessageType;
  const schema = Object.hasOwn(MESSAGE_SCHEMAS, type) ? MESSAGE_SCHEMAS[type] : undefined;
  // Unknown message types degrade to {type} (hubster-wire §2.1).
  if (!schema) return { type: read.type };
  if (inItems && !ITEM_MESSAGE_TYPES.includes(type)) {
    errors.push(
      errorItem(
        codes.value,
        `Property '${childPath(path, 'type')}' must be one of: ${ITEM_MESSAGE_TYPES.join(', ')}.`,
      ),
    );
    return undefined;
  }
  // Card: the docs' examples use `imageUrl` where the model has `url`; accept it as an alias.
  if (type === 'card' && message.url === undefined && typeof message.imageUrl === 'string') {
    const { imageUrl, ...rest } = message;
    message = { ...rest, url: imageUrl };
  }
  if (!schema.check(message)) {
    errors.push(...schema.errors(message, codes, path));
    return undefined;
  }
  return checkRules(type, message, path, codes, errors);
}

/** The rules a schema cannot express, and the nested collections. */
function checkRules(
  type: MessageType,
  message: Record<string, unknown>,
  path: string,
  codes: ErrorCodeSet,
  errors: ErrorItem[],
): Record<string, unknown> {
  switch (type) {
    case 'text': {
      const hasText = typeof message.text === 'string' && message.text !== '';
      const hasItems = Array.isArray(message.items) && message.items.length > 0;
      const hasActions = Array.isArray(message.actions) && message.actions.length > 0;
      if (!hasText && !hasItems && !hasActions) {
        errors.push(
          errorItem(codes.missing, `Property '${path}' needs at least one of 'text', 'items' or 'actions'.`),
        );
      }
      let out = eachElement(message, 'items', path, codes, errors, (m, p) =>
        parseMessageAt(m, p, codes, errors, true),
      );
      out = eachElement(out, 'actions', path, codes, errors, (a, p) => parseActionAt(a, p, codes, errors));
      return out;
    }
    case 'location': {
      const hasAddress = typeof message.address === 'string' && message.address.trim() !== '';
      const hasCoordinates = typeof message.latitude === 'number' && typeof message.longitude === 'number';
      if (!hasAddress && !hasCoordinates) {
        errors.push(
          errorItem(
            codes.location ?? codes.missing,
            `Property '${path}' needs an 'address' or both 'latitude' and 'longitude'.`,
          ),
        );
      }
      return message;
    }
    case 'card':
      if (message.url !== undefined && message.urlType === undefined) {
        errors.push(
          errorItem(
            codes.missing,
            `Property '${childPath(path, 'urlType')}' is required when 'url' is given.`,
          ),
        );
      }
      return message;
    case 'carousel':
      return eachElement(message, 'items', path, codes, errors, (i, p) =>
        parseListItemAt(i, p, codes, errors),
      );
    case 'list': {
      const out = eachElement(message, 'items', path, codes, errors, (i, p) =>
        parseListItemAt(i, p, codes, errors),
      );
      return eachElement(out, 'actions', path, codes, errors, (a, p) => parseActionAt(a, p, codes, errors));
    }
    default:
      return message;
  }
}

/**
 * Validates one message and returns it normalised (`Type` -> `type`, lower-case type, card `imageUrl` ->
 * `url`, unknown types reduced to `{type}`), or every problem found. Paths start at `path`.
 */
export function parseMessage(
  raw: unknown,
  path: string,
  codes: ErrorCodeSet,
): ParseResult<Record<string, unknown>> {
  const errors: ErrorItem[] = [];
  const value = parseMessageAt(raw, path, codes, errors, false);
  if (errors.length > 0 || value === undefined) return { ok: false, errors };
  return { ok: true, value };
}
