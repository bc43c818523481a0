// Validators of the management API's other inputs: tenant, hub, establish and token bodies, pagination,
// the interactions listing, path GUIDs, delivery status filter and the recover `since`.

import { Type } from '@sinclair/typebox';
import { errorItem, type ErrorItem } from './errors.js';
import { isGuid, normalizeGuid, sequentialGuid } from './ids.js';
import type { EstablishRequest, ListActivitiesQuery } from '../store/contract.js';
import {
  HubStatus,
  TenantStatus,
  type DeliveryStatus,
  type EpochMs,
  type Hub,
  type PageRequest,
  type Tenant,
} from './types.js';
import {
  ConversationCodes,
  PortalCodes,
  compileValidator,
  isObject,
  type ParseResult,
} from './validation.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const Name = Type.String({ minLength: 1, maxLength: 256 });

function bodyErrors(body: unknown, missing: ErrorItem = errorItem('MissingBody')): ErrorItem[] | undefined {
  if (body === undefined || body === null || body === '') return [missing];
  if (!isObject(body)) return [errorItem('InvalidType', 'The body must be a JSON object.')];
  return undefined;
}

function blank(value: unknown, path: string, errors: ErrorItem[]): void {
  if (typeof value === 'string' && value !== '' && value.trim() === '') {
    errors.push(errorItem('InvalidValue', `Property '${path}' must not be blank.`));
  }
}

const TenantCreate = compileValidator(
  Type.Object({ name: Name, accountHolderEmail: Type.String({ format: 'email' }) }),
);

/** `POST /api/v1/tenants` (admin). */
export function parseTenantCreate(body: unknown, now: number): ParseResult<Tenant> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const errors = TenantCreate.errors(body, PortalCodes);
  const input = body as Record<string, unknown>;
  blank(input.name, 'name', errors);
  if (errors.length > 0) return { ok: false, errors };
  const at = new Date(now).toISOString();
  return {
    ok: true,
    value: {
      tenantId: sequentialGuid(now),
      name: (input.name as string).trim(),
      accountHolderEmail: (input.accountHolderEmail as string).trim(),
      statusId: TenantStatus.Active,
      created: at,
      modified: at,
    },
  };
}

const TenantUpdate = compileValidator(
  Type.Object({
    name: Type.Optional(Name),
    accountHolderEmail: Type.Optional(Type.String({ format: 'email' })),
  }),
);

/**
 * `PUT /api/v1/tenants/{tenantId}` (admin): the members present replace the existing ones. Only the
 * name and the account holder's e-mail (where exhaustion e-mails go) can change.
 */
export function parseTenantUpdate(existing: Tenant, body: unknown, now: number): ParseResult<Tenant> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const errors = TenantUpdate.errors(body, PortalCodes);
  const input = body as Record<string, unknown>;
  blank(input.name, 'name', errors);
  if (errors.length > 0) return { ok: false, errors };
  const tenant: Tenant = { ...existing, modified: new Date(now).toISOString() };
  if (typeof input.name === 'string') tenant.name = input.name.trim();
  if (typeof input.accountHolderEmail === 'string')
    tenant.accountHolderEmail = input.accountHolderEmail.trim();
  return { ok: true, value: tenant };
}

const HubStatusSchema = Type.Union([Type.Literal(HubStatus.Active), Type.Literal(HubStatus.Paused)]);
/** Days; at most PostgreSQL's integer (a larger number was a 500 there and a rounded value on SQLite). */
const Dormant = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
const HubCreate = compileValidator(
  Type.Object({
    name: Name,
    description: Type.String({ maxLength: 4096 }),
    statusId: Type.Optional(HubStatusSchema),
    closeDormantConversation: Type.Optional(Dormant),
    tenantId: Type.Optional(Type.String({ format: 'guid' })),
  }),
);
const HubUpdate = compileValidator(
  Type.Object({
    name: Type.Optional(Name),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    statusId: Type.Optional(HubStatusSchema),
    closeDormantConversation: Type.Optional(Dormant),
  }),
);

/**
 * `POST /api/v1/hubs`. `tenantId` is the caller's tenant; undefined for the admin, who must then name
 * the tenant in the body. A tenant caller's body `tenantId` is ignored (it cannot create elsewhere).
 */
export function parseHubCreate(body: unknown, tenantId: string | undefined, now: number): ParseResult<Hub> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  let input = body as Record<string, unknown>;
  if (tenantId !== undefined) {
    const { tenantId: _ignored, ...rest } = input;
    input = rest;
  }
  const errors = HubCreate.errors(input, PortalCodes);
  blank(input.name, 'name', errors);
  if (tenantId === undefined && input.tenantId === undefined) {
    errors.push(
      errorItem('MissingProperty', "Property 'tenantId' is required when the admin creates a hub."),
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  const at = new Date(now).toISOString();
  const hub: Hub = {
    hubId: sequentialGuid(now),
    tenantId: tenantId ?? normalizeGuid(input.tenantId as string),
    name: (input.name as string).trim(),
    description: input.description as string,
    statusId: (input.statusId as number | undefined) ?? HubStatus.Active,
    created: at,
    modified: at,
  };
  if (typeof input.closeDormantConversation === 'number')
    hub.closeDormantConversation = input.closeDormantConversation;
  return { ok: true, value: hub };
}

/** `PUT /api/v1/hubs/{hubId}`: the members present replace the existing ones. */
export function parseHubUpdate(existing: Hub, body: unknown, now: number): ParseResult<Hub> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const errors = HubUpdate.errors(body, PortalCodes);
  const input = body as Record<string, unknown>;
  blank(input.name, 'name', errors);
  if (errors.length > 0) return { ok: false, errors };
  const hub: Hub = { ...existing, modified: new Date(now).toISOString() };
  if (typeof input.name === 'string') hub.name = input.name.trim();
  if (typeof input.description === 'string') hub.description = input.description;
  if (typeof input.statusId === 'number') hub.statusId = input.statusId;
  if (typeof input.closeDormantConversation === 'number')
    hub.closeDormantConversation = input.closeDormantConversation;
  return { ok: true, value: hub };
}

const StringMap = Type.Record(Type.String(), Type.String());
const Establish = compileValidator(
  Type.Object({
    integrationId: Type.String({ format: 'guid' }),
    binding: Type.String({ minLength: 1, maxLength: 1024 }),
    channelType: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    properties: Type.Optional(
      Type.Object({ profile: Type.Optional(StringMap), additional: Type.Optional(StringMap) }),
    ),
  }),
);

/**
 * `POST /api/v1/conversations/establish` (ENG0030xx). `channelType` may be "Direct" (any case) or 1;
 * it is optional because Direct is the only channel that establishes conversations here.
 */
export function parseEstablish(body: unknown): ParseResult<EstablishRequest> {
  const early = bodyErrors(body, errorItem('ConversationBodyMissing'));
  if (early) return { ok: false, errors: early };
  const input = body as Record<string, unknown>;
  const errors = Establish.errors(input, ConversationCodes);
  blank(input.binding, 'binding', errors);
  const channel = input.channelType;
  if (
    (typeof channel === 'string' && channel.trim().toLowerCase() !== 'direct' && channel.trim() !== '1') ||
    (typeof channel === 'number' && channel !== 1)
  ) {
    errors.push(errorItem('ConversationInvalidProperty', 'Property \'channelType\' must be "Direct".'));
  }
  if (errors.length > 0) return { ok: false, errors };
  const request: EstablishRequest = {
    integrationId: normalizeGuid(input.integrationId as string),
    binding: input.binding as string,
  };
  const properties = input.properties as {
    profile?: Record<string, string>;
    additional?: Record<string, string>;
  };
  if (properties)
    request.properties = { profile: properties.profile ?? {}, additional: properties.additional ?? {} };
  return { ok: true, value: request };
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** `POST /connect/token` form (`grant_type=client_credentials&client_id=..&client_secret=..`). */
export function parseClientCredentials(form: unknown): ParseResult<ClientCredentials> {
  const input = isObject(form) ? form : {};
  const errors: ErrorItem[] = [];
  const field = (name: string): string | undefined => {
    const value = input[name];
    if (typeof value === 'string' && value !== '') return value;
    errors.push(errorItem('MissingProperty', `Property '${name}' is required.`));
    return undefined;
  };
  const grant = field('grant_type');
  if (grant !== undefined && grant !== 'client_credentials') {
    errors.push(errorItem('InvalidValue', "Property 'grant_type' must be 'client_credentials'."));
  }
  const clientId = field('client_id');
  const clientSecret = field('client_secret');
  if (errors.length > 0 || clientId === undefined || clientSecret === undefined) return { ok: false, errors };
  return { ok: true, value: { clientId, clientSecret } };
}

/** A query parameter as an integer within [min, max]; absent or empty gives `fallback`. */
function integerParam(
  query: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  errors: ErrorItem[],
): number {
  let value = query[name];
  if (Array.isArray(value)) value = value[value.length - 1];
  if (value === undefined || value === '') return fallback;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) {
    errors.push(errorItem('InvalidNumber', `Query parameter '${name}' must be an integer.`));
    return fallback;
  }
  const number = Number(text);
  if (number < min || number > max) {
    errors.push(errorItem('InvalidRange', `Query parameter '${name}' must be between ${min} and ${max}.`));
    return fallback;
  }
  return number;
}

/** `pageNumber` (0-based, default 0) and `pageSize` (1..100, default 50). */
export function parsePageQuery(query: unknown): ParseResult<PageRequest> {
  const input = isObject(query) ? query : {};
  const errors: ErrorItem[] = [];
  const pageNumber = integerParam(input, 'pageNumber', 0, 0, Number.MAX_SAFE_INTEGER, errors);
  const pageSize = integerParam(input, 'pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { pageNumber, pageSize } };
}

/** `GET /api/v1/interactions/activities/{id}?type=Customer|Agent|Bot&leid=<epoch ms, default 0>`. */
export function parseInteractionsQuery(query: unknown): ParseResult<ListActivitiesQuery> {
  const input = isObject(query) ? query : {};
  const errors: ErrorItem[] = [];
  const fromEventId = integerParam(input, 'leid', 0, 0, Number.MAX_SAFE_INTEGER, errors);
  const result: ListActivitiesQuery = { fromEventId };
  const type = input.type;
  if (type !== undefined && type !== '') {
    const match = ['Customer', 'Agent', 'Bot'].find(
      (t) => typeof type === 'string' && t.toLowerCase() === type.toLowerCase(),
    );
    if (match) result.integrationType = match;
    else
      errors.push(errorItem('InvalidValue', "Query parameter 'type' must be one of: Customer, Agent, Bot."));
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: result };
}

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'held', 'delivered', 'failed', 'cancelled'];

/** The delivery log's `status` filter: absent, or one of the delivery statuses (any case). */
export function parseDeliveryStatusQuery(query: unknown): ParseResult<DeliveryStatus | undefined> {
  const value = isObject(query) ? query.status : undefined;
  if (value === undefined || value === '') return { ok: true, value: undefined };
  const match = DELIVERY_STATUSES.find((s) => typeof value === 'string' && s === value.toLowerCase());
  if (match) return { ok: true, value: match };
  return {
    ok: false,
    errors: [
      errorItem('InvalidValue', `Query parameter 'status' must be one of: ${DELIVERY_STATUSES.join(', ')}.`),
    ],
  };
}

/** A GUID from a path segment, lower-cased; `name` appears in the error. */
export function parseGuidParam(value: unknown, name: string): ParseResult<string> {
  if (isGuid(value)) return { ok: true, value: normalizeGuid(value) };
  return { ok: false, errors: [errorItem('InvalidGuid', `Parameter '${name}' must be a GUID.`)] };
}

/** `YYYY-MM-DD`, optionally `THH:MM[:SS[.fraction]]` and a zone (`Z`, `±HH:MM`, `±HHMM`, `±HH`). */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/**
 * An ISO 8601 / RFC 3339 date or date-time, read strictly: Date.parse fell back to V8's legacy parser
 * for anything else ("2024-01-01 junk" was 1 June 2024), rolled impossible days over ("2024-02-30" was
 * 1 March) and read a time without offset in the host's time zone. Here a time without offset is UTC.
 */
function parseIsoInstant(text: string): EpochMs | undefined {
  const m = ISO_INSTANT.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetRest = Number(m[11] ?? 0);
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear keeps the year as written.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  const ms = date.getTime() - offsetMinutes * 60_000;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A point in time given as epoch milliseconds (number or digits) or an ISO 8601 date (see above). */
export function parseInstant(value: unknown): EpochMs | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseInstant(Number(text));
  return parseIsoInstant(text);
}

/** `POST /api/v1/integrations/{id}/recover` body `{since}`: ISO date or epoch ms. */
export function parseRecoverSince(body: unknown): ParseResult<EpochMs> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const since = (body as Record<string, unknown>).since;
  if (since === undefined || since === null) {
    return { ok: false, errors: [errorItem('MissingProperty', "Property 'since' is required.")] };
  }
  const ms = parseInstant(since);
  if (ms === undefined) {
    return {
      ok: false,
      errors: [errorItem('InvalidDate', "Property 'since' must be an ISO 8601 date or epoch milliseconds.")],
    };
  }
  return { ok: true, value: ms };
}

/** The request bodies these parsers accept, as JSON Schema (for the OpenAPI document). */
export const inputSchemas = {
  TenantCreate: TenantCreate.schema,
  TenantUpdate: TenantUpdate.schema,
  HubCreate: HubCreate.schema,
  HubUpdate: HubUpdate.schema,
  Establish: Establish.schema,
};
