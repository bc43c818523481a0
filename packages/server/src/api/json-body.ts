// The JSON body parser: secure-json-parse as in Fastify's own (`__proto__` and `constructor.prototype`
// keys refused, now with an answer that says so), plus two checks Fastify's does not make:
// - a body must be UTF-8: invalid bytes are refused instead of being replaced by U+FFFD and stored;
// - no string may hold an unpaired UTF-16 surrogate (`"\ud83d"`): such a string is answered back as
//   sent but stored by SQLite as replacement characters.

import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HooksterError } from '../domain/errors.js';

/** A `\u` escape of a surrogate code unit: only then can a parsed string hold an unpaired one. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** String.prototype.isWellFormed (Node 20; not in TypeScript's ES2023 library). */
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * True when every string (keys too) is well-formed UTF-16. Iterative: JSON nested 10,000 deep is valid
 * and parses, and recursing into it overflowed the stack (a 500).
 */
export function wellFormed(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!isWellFormed(next)) return false;
    } else if (Array.isArray(next)) {
      for (const inner of next) pending.push(inner);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, inner] of Object.entries(next)) {
        if (!isWellFormed(key)) return false;
        pending.push(inner);
      }
    }
  }
  return true;
}

const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/** Parses a JSON body (UTF-8 bytes; none is undefined); throws a HooksterError (400) for anything it refuses. */
export function parseJsonBody(bytes: Buffer): unknown {
  // No body at all: as with any other content type, the route decides (its validator answers "Request
  // body is required"; a route that takes none, e.g. retry, goes on).
  if (bytes.length === 0) return undefined;
  if (!isUtf8(bytes)) throw HooksterError.of('MalformedJson', 'Request body is not valid UTF-8.');
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, PARSE_OPTIONS);
  } catch (error) {
    // secure-json-parse's refusal is a SyntaxError too: say what is refused, not "not valid JSON".
    if (/forbidden (prototype|constructor)/.test((error as Error).message)) {
      throw HooksterError.of(
        'InvalidValue',
        'JSON keys "__proto__", and "constructor" holding a "prototype", are not accepted.',
      );
    }
    throw HooksterError.of('MalformedJson');
  }
  if (text.includes('\\u') && SURROGATE_ESCAPE.test(text) && !wellFormed(value)) {
    throw HooksterError.of('MalformedJson', 'A string holds an unpaired UTF-16 surrogate (\\uD800–\\uDFFF).');
  }
  return value;
}

/**
 * A body sent with a Content-Encoding (gzip, br, …) is not decoded here: refused with 415 naming the
 * encoding, rather than read as it stands (a "malformed JSON" answer for a valid compressed body).
 */
export function encodingRefusal(encoding: string | undefined, bodyLength: number): HooksterError | undefined {
  if (encoding === undefined || bodyLength === 0) return undefined;
  const trimmed = encoding.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'identity') return undefined;
  return HooksterError.of(
    'UnsupportedMediaType',
    `Content-Encoding '${trimmed.slice(0, 64)}' is not supported: send the body uncompressed.`,
  );
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let value: unknown;
    try {
      const refused = encodingRefusal(request.headers['content-encoding'], (body as Buffer).length);
      if (refused !== undefined) throw refused;
      value = parseJsonBody(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, value);
  });
}
