// Schema validation of untrusted JSON: a TypeBox schema compiled once, every problem reported as a
// catalogue ErrorItem naming the property path ("Property 'configuration.webhookUrl' is required.").

import { FormatRegistry, Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { errorItem, type ErrorItem, type ErrorName } from './errors.js';
import { isGuid } from './ids.js';

/** Which catalogue entries a family of inputs reports its problems with. */
export interface ErrorCodeSet {
  missing: ErrorName;
  type: ErrorName;
  value: ErrorName;
  empty: ErrorName;
  guid: ErrorName;
  /** A location without address or coordinates (defaults to `missing`). */
  location?: ErrorName;
}

/** Portal (management API) bodies and queries: PRT0003xx. */
export const PortalCodes: ErrorCodeSet = {
  missing: 'MissingProperty',
  type: 'InvalidType',
  value: 'InvalidValue',
  empty: 'EmptyCollection',
  guid: 'InvalidGuid',
};

/**
 * Direct inbound activities: ENG0050xx. Hubster's engine catalogue has no "wrong type" or "bad value"
 * entry, so both use ENG005002 ("does not support provided property") with a precise description.
 */
export const ActivityCodes: ErrorCodeSet = {
  missing: 'ActivityMissingProperty',
  type: 'ActivityUnsupportedProperty',
  value: 'ActivityUnsupportedProperty',
  empty: 'ActivityEmptyCollection',
  guid: 'ActivityInvalidGuid',
  location: 'ActivityLocation',
};

/** Conversation requests (establish): ENG0030xx. */
export const ConversationCodes: ErrorCodeSet = {
  missing: 'ConversationMissingProperty',
  type: 'ConversationInvalidProperty',
  value: 'ConversationInvalidProperty',
  empty: 'ConversationInvalidProperty',
  guid: 'ConversationInvalidGuid',
};

/** An absolute http(s) URL with a host. */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

// Control characters (C0, DEL, C1) are no part of an address: the engine mails accountHolderEmail.
const EMAIL_RE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /^[^\s@"<>(),;:\u0000-\u001f\u007f-\u009f]+@[^\s@"<>(),;:\u0000-\u001f\u007f-\u009f]+\.[^\s@"<>(),;:.\u0000-\u001f\u007f-\u009f]+$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value);
}

// Formats are process-global in TypeBox; registering the same function twice is harmless.
FormatRegistry.Set('guid', (v) => isGuid(v));
FormatRegistry.Set('http-url', (v) => isHttpUrl(v));
FormatRegistry.Set('email', (v) => isEmail(v));

/** "/configuration/webhookUrl" -> "configuration.webhookUrl"; "/items/0/url" -> "items[0].url". */
export function propertyPath(pointer: string, prefix = ''): string {
  let out = prefix;
  if (pointer === '') return out;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Joins a base path and a child property name or index. */
export function childPath(base: string, child: string | number): string {
  if (typeof child === 'number') return `${base}[${child}]`;
  return base === '' ? child : `${base}.${child}`;
}

function describeKind(schema: TSchema): string {
  const kind = schema[Kind] as unknown;
  switch (kind) {
    case 'String':
      return 'a string';
    case 'Number':
      return 'a number';
    case 'Integer':
      return 'an integer';
    case 'Boolean':
      return 'a boolean';
    case 'Object':
    case 'Record':
      return 'an object';
    case 'Array':
      return 'an array';
    default:
      return 'of the expected type';
  }
}

function literalValues(schema: TSchema): unknown[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf) return undefined;
  const values: unknown[] = [];
  for (const member of anyOf) {
    if (!('const' in member)) return undefined;
    values.push((member as unknown as { const: unknown }).const);
  }
  return values;
}

function subject(path: string): string {
  return path === '' ? 'The body' : `Property '${path}'`;
}

/** One TypeBox error as a catalogue item (undefined for errors better reported by another). */
function toItem(error: ValueError, path: string, codes: ErrorCodeSet): ErrorItem {
  const schema = error.schema as TSchema & Record<string, unknown>;
  const who = subject(path);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return errorItem(codes.missing, `${who} is required.`);
    case ValueErrorType.ArrayMinItems:
      return schema.minItems === 1
        ? errorItem(codes.empty, `${who} must contain at least one element.`)
        : errorItem(codes.value, `${who} must contain at least ${String(schema.minItems)} elements.`);
    case ValueErrorType.ArrayMaxItems:
      return errorItem(codes.value, `${who} must contain at most ${String(schema.maxItems)} elements.`);
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1
        ? errorItem(codes.value, `${who} must not be empty.`)
        : errorItem(codes.value, `${who} must be at least ${String(schema.minLength)} characters long.`);
    case ValueErrorType.StringMaxLength:
      return errorItem(codes.value, `${who} must be at most ${String(schema.maxLength)} characters long.`);
    case ValueErrorType.StringFormat:
      if (schema.format === 'guid') return errorItem(codes.guid, `${who} must be a GUID.`);
      if (schema.format === 'http-url')
        return errorItem(codes.value, `${who} must be an absolute http or https URL.`);
      if (schema.format === 'email') return errorItem(codes.value, `${who} must be an e-mail address.`);
      return errorItem(codes.value, `${who} has an invalid format.`);
    case ValueErrorType.StringPattern:
      return errorItem(codes.value, `${who} has an invalid format.`);
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return errorItem(codes.value, `${who} must be greater than or equal to ${String(schema.minimum)}.`);
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return errorItem(codes.value, `${who} must be less than or equal to ${String(schema.maximum)}.`);
    case ValueErrorType.Literal:
      return errorItem(codes.value, `${who} must be ${JSON.stringify(schema.const)}.`);
    case ValueErrorType.Union: {
      const values = literalValues(schema);
      if (values) return errorItem(codes.value, `${who} must be one of: ${values.map(String).join(', ')}.`);
      return errorItem(codes.type, `${who} has the wrong type.`);
    }
    case ValueErrorType.ObjectAdditionalProperties:
      return errorItem('UnsupportedProperty', `${who} is not supported.`);
    default:
      return errorItem(codes.type, `${who} must be ${describeKind(schema)}.`);
  }
}

export interface Validator<T> {
  /** The JSON Schema it checks (published in the OpenAPI document). */
  readonly schema: TSchema;
  /** Fast path: true when the value satisfies the schema. */
  check(value: unknown): value is T;
  /** Every problem, one item per property path; prefix is prepended to the paths. */
  errors(value: unknown, codes: ErrorCodeSet, prefix?: string): ErrorItem[];
}

/** Compiles once; call at module load, never per request. */
export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    schema,
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    errors(value: unknown, codes: ErrorCodeSet, prefix = ''): ErrorItem[] {
      const items: ErrorItem[] = [];
      // A missing property also yields a type error at the same path; report one problem per path.
      const seen = new Set<string>();
      for (const error of compiled.Errors(value)) {
        const path = propertyPath(error.path, prefix);
        if (seen.has(path)) continue;
        seen.add(path);
        items.push(toItem(error, path, codes));
      }
      return items;
    },
  };
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: ErrorItem[] };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T>(errors: ErrorItem[]): ParseResult<T> {
  return { ok: false, errors };
}
