// Path and query parameters shared by the routes, on top of the domain input validators: a failed
// parse becomes a 400 listing every problem.

import { HooksterError } from '../domain/errors.js';
import { parseGuidParam, parsePageQuery } from '../domain/inputs.js';
import type { Guid, PageRequest } from '../domain/types.js';
import type { ParseResult } from '../domain/validation.js';

/** The parsed value, or a 400 HooksterError with every problem. */
export function valueOf<T>(result: ParseResult<T>): T {
  if (!result.ok) throw HooksterError.invalid(result.errors);
  return result.value;
}

/** A GUID path parameter, lower-cased; a malformed one is a 400 naming the parameter. */
export function guidParam(params: unknown, name: string): Guid {
  return valueOf(parseGuidParam((params as Record<string, unknown>)[name], name));
}

/** One query value (the first when repeated). */
export function queryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, string | string[] | undefined> | undefined)?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `pageNumber` (0-based, default 0) and `pageSize` (1..100, default 50), as in Hubster. */
export function pageRequest(query: unknown): PageRequest {
  return valueOf(parsePageQuery(query));
}
