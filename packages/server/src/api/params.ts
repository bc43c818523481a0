// Path and query parameters shared by the routes: GUID ids, pagination, time filters.

import { errorItem, HooksterError, type ErrorItem } from '../domain/errors.js';
import { isGuid, normalizeGuid } from '../domain/ids.js';
import type { Guid, PageRequest } from '../domain/types.js';

export type Query = Record<string, string | string[] | undefined>;

/** A GUID path parameter, lower-cased; a malformed one is a 400 naming the parameter. */
export function guidParam(params: unknown, name: string): Guid {
  const value = (params as Record<string, string | undefined>)[name];
  if (!isGuid(value)) {
    throw HooksterError.invalid([errorItem('InvalidGuid', `Parameter '${name}' must be a GUID.`)]);
  }
  return normalizeGuid(value);
}

/** One query value (the first when repeated). */
export function queryValue(query: unknown, name: string): string | undefined {
  const value = (query as Query | undefined)?.[name];
  return Array.isArray(value) ? value[0] : value;
}

function integerQuery(
  query: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
  errors: ErrorItem[],
) {
  const text = queryValue(query, name);
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) {
    errors.push(errorItem('InvalidNumber', `Query parameter '${name}' must be an integer.`));
    return fallback;
  }
  const value = Number(text);
  if (value < min || value > max) {
    errors.push(errorItem('InvalidRange', `Query parameter '${name}' must be from ${min} to ${max}.`));
    return fallback;
  }
  return value;
}

/** `pageNumber` (0-based, default 0) and `pageSize` (1..100, default 50), as in Hubster. */
export function pageRequest(query: unknown, extraErrors: ErrorItem[] = []): PageRequest {
  const errors = extraErrors;
  const pageNumber = integerQuery(query, 'pageNumber', 0, 1_000_000, 0, errors);
  const pageSize = integerQuery(query, 'pageSize', 1, 100, 50, errors);
  if (errors.length > 0) throw HooksterError.invalid(errors);
  return { pageNumber, pageSize };
}

/** A non-negative integer query parameter such as `leid`. */
export function integerParam(query: unknown, name: string, fallback: number): number {
  const errors: ErrorItem[] = [];
  const value = integerQuery(query, name, 0, Number.MAX_SAFE_INTEGER, fallback, errors);
  if (errors.length > 0) throw HooksterError.invalid(errors);
  return value;
}

/** A time given as epoch milliseconds or an ISO 8601 date-time. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** ISO 8601 UTC text of an epoch-ms time. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
