// Integration create/update bodies (DESIGN §2.1, hubster-wire §1.4): validation, configuration keys in
// any case normalised to camelCase, derived integrationTypeId, signing keys generated and rotated.

import { Type } from '@sinclair/typebox';
import { MAX_RETRY_WAIT_MS, parseDuration, parseDurationList } from './duration.js';
import { errorItem, type ErrorItem } from './errors.js';
import { sequentialGuid, signingKey } from './ids.js';
import { parseMessage } from './message-input.js';
import {
  IntegrationStatus,
  type ChannelType,
  type Integration,
  type IntegrationType,
  type IntegrationConfiguration,
} from './types.js';
import { PortalCodes, childPath, compileValidator, isObject, type ParseResult } from './validation.js';

/** ChannelType names and numbers (hubster-wire §1.4); input may use either, output uses names. */
export const CHANNEL_NUMBERS: Record<ChannelType, number> = {
  Hubster: 0,
  Direct: 1,
  Bot: 2,
  System: 3,
  Messenger: 101,
  TwilioSMS: 102,
  Line: 103,
  Telegram: 104,
  Kik: 105,
  WebChat: 106,
  Slack: 1001,
};

/** IntegrationType names and numbers (hubster-wire §1.4): `integrationTypeId` may use either. */
const INTEGRATION_TYPE_NUMBERS: Record<Exclude<IntegrationType, 'None'>, number> = {
  Hubster: 1,
  Customer: 2,
  Agent: 3,
  Bot: 4,
  System: 5,
};

/** Channels Hookster creates integrations for; the others never receive activities (DESIGN §2.1). */
export const SUPPORTED_CHANNELS: readonly ChannelType[] = ['System', 'Direct'];
export const EVENT_FILTERS = ['message', 'message:customer', 'message:agent', 'message:bot'] as const;
export const DIRECT_TYPES = ['Customer', 'Agent', 'Bot'] as const;
/** Upper bound of the per-integration attempt timeout: leases must outlast it. */
export const MAX_DELIVERY_TIMEOUT_MS = 120_000;
const MAX_RETRY_STEPS = 50;
/** Longer URLs are refused (browsers and proxies commonly stop at about 2,000). */
const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A retry schedule as stored: trimmed, `none` (a single attempt) in lower case. */
function storedSchedule(text: string): string {
  const trimmed = text.trim();
  return trimmed.toLowerCase() === 'none' ? 'none' : trimmed;
}

/** A channel given as name (any case) or number; undefined when unknown. */
export function parseChannelId(value: unknown): ChannelType | undefined {
  const names = Object.keys(CHANNEL_NUMBERS) as ChannelType[];
  if (typeof value === 'number') return names.find((n) => CHANNEL_NUMBERS[n] === value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseChannelId(Number(text));
  return names.find((n) => n.toLowerCase() === text.toLowerCase());
}

/** An integration type given as name (any case) or number; undefined when unknown. */
export function parseIntegrationTypeId(value: unknown): IntegrationType | undefined {
  const names = Object.keys(INTEGRATION_TYPE_NUMBERS) as (keyof typeof INTEGRATION_TYPE_NUMBERS)[];
  if (typeof value === 'number') return names.find((n) => INTEGRATION_TYPE_NUMBERS[n] === value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseIntegrationTypeId(Number(text));
  return names.find((n) => n.toLowerCase() === text.toLowerCase());
}

/** Lower-cased input key -> stored camelCase key. Signing keys are recognised only to be dropped. */
const CONFIG_KEYS: Record<string, string> = {
  webhookurl: 'webhookUrl',
  events: 'events',
  integrationtype: 'integrationType',
  echo: 'echo',
  start: 'start',
  welcomemessage: 'welcomeMessage',
  regeneratekeys: 'regenerateKeys',
  retryschedule: 'retrySchedule',
  deliverytimeout: 'deliveryTimeout',
};

/** Keys in any case -> camelCase; unknown keys and signing keys (never accepted from input) dropped. */
export function normalizeConfigurationKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = CONFIG_KEYS[key.toLowerCase()];
    if (name !== undefined && value !== null && value !== undefined) out[name] = value;
  }
  // Spaces around a pasted URL are not part of it (the URL parser drops them too).
  if (typeof out.webhookUrl === 'string') out.webhookUrl = out.webhookUrl.trim();
  // `WelcomeMessage` is the older form of `start` (a single text).
  const welcome = out.welcomeMessage;
  delete out.welcomeMessage;
  if (out.start === undefined && welcome !== undefined) {
    out.start = typeof welcome === 'string' ? [{ type: 'text', text: welcome }] : welcome;
  }
  return out;
}

const Extensions = {
  regenerateKeys: Type.Optional(Type.Boolean()),
  retrySchedule: Type.Optional(Type.String()),
  deliveryTimeout: Type.Optional(Type.String()),
};
const SystemConfig = compileValidator(
  Type.Object({
    webhookUrl: Type.String({ format: 'http-url' }),
    events: Type.Array(Type.String(), { minItems: 1 }),
    ...Extensions,
  }),
);
const DirectConfig = compileValidator(
  Type.Object({
    integrationType: Type.Union(DIRECT_TYPES.map((t) => Type.Literal(t))),
    echo: Type.Optional(Type.Boolean()),
    webhookUrl: Type.Optional(Type.String({ format: 'http-url' })),
    start: Type.Optional(Type.Array(Type.Unknown())),
    ...Extensions,
  }),
);
const Status = Type.Union([Type.Literal(IntegrationStatus.Active), Type.Literal(IntegrationStatus.Paused)]);
const Name = Type.String({ minLength: 1, maxLength: 256 });
const CreateBody = compileValidator(
  Type.Object({
    channelId: Type.Union([Type.String(), Type.Number()]),
    integrationTypeId: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    name: Name,
    statusId: Type.Optional(Status),
    configuration: Type.Object({}),
  }),
);
const UpdateBody = compileValidator(
  Type.Object({
    channelId: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    integrationTypeId: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    name: Type.Optional(Name),
    statusId: Type.Optional(Status),
    configuration: Type.Optional(Type.Object({})),
  }),
);

const PATH = 'configuration';
const invalid = (path: string, text: string) => errorItem('InvalidValue', `Property '${path}' ${text}`);

/**
 * What the URL format lets through but no delivery could use, or would use otherwise than written
 * (undefined: none). Credentials are refused at send time, a fragment is never sent, and the URL parser
 * silently drops tabs and line breaks that the stored value would keep.
 */
export function webhookUrlProblem(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(text)) return 'must not contain spaces or control characters.';
  if (text.length > MAX_WEBHOOK_URL_LENGTH) {
    return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters long.`;
  }
  const url = new URL(text);
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (user:password@): receivers authenticate a delivery by its signature.';
  }
  if (url.port === '0') return 'must not use port 0.';
  if (text.includes('#')) return 'must not contain a fragment (#…): it would never be sent.';
  if (url.hostname.length > 253) return 'has a host name longer than 253 characters.';
  return undefined;
}

/** Checks beyond the schema: the webhook URL's use, and Hookster's extensions. */
function checkExtensions(config: Record<string, unknown>, errors: ErrorItem[]): void {
  if (typeof config.webhookUrl === 'string') {
    const problem = webhookUrlProblem(config.webhookUrl);
    if (problem !== undefined) errors.push(invalid(`${PATH}.webhookUrl`, problem));
  }
  if (typeof config.retrySchedule === 'string' && config.retrySchedule.trim().toLowerCase() !== 'none') {
    const steps = parseDurationList(config.retrySchedule);
    if (!steps || steps.length > MAX_RETRY_STEPS || steps.some((ms) => ms > MAX_RETRY_WAIT_MS)) {
      errors.push(
        invalid(
          `${PATH}.retrySchedule`,
          `must be a comma-separated list of at most ${MAX_RETRY_STEPS} durations of at most 168h each, e.g. "100ms,2s,1m", or "none".`,
        ),
      );
    }
  }
  if (typeof config.deliveryTimeout === 'string') {
    const ms = parseDuration(config.deliveryTimeout);
    if (ms === undefined || ms <= 0 || ms > MAX_DELIVERY_TIMEOUT_MS) {
      errors.push(invalid(`${PATH}.deliveryTimeout`, 'must be a duration between 1ms and 2m, e.g. "2s".'));
    }
  }
}

function systemConfiguration(config: Record<string, unknown>, errors: ErrorItem[]): IntegrationConfiguration {
  const valid = SystemConfig.check(config);
  if (!valid) errors.push(...SystemConfig.errors(config, PortalCodes, PATH));
  // Filters are checked even when the schema failed elsewhere, so every problem is listed at once.
  const events = checkedFilters(config.events, errors);
  if (!valid) return {};
  checkExtensions(config, errors);
  const out: IntegrationConfiguration = { webhookUrl: config.webhookUrl, events };
  if (config.retrySchedule !== undefined) out.retrySchedule = storedSchedule(config.retrySchedule);
  if (config.deliveryTimeout !== undefined) out.deliveryTimeout = config.deliveryTimeout.trim();
  return out;
}

/** The known, de-duplicated filters of `events`; an unknown string is reported (non-strings are type errors). */
function checkedFilters(raw: unknown, errors: ErrorItem[]): string[] {
  const events: string[] = [];
  if (!Array.isArray(raw)) return events;
  raw.forEach((filter: unknown, index) => {
    if (typeof filter !== 'string') return;
    const value = filter.trim().toLowerCase();
    if (!(EVENT_FILTERS as readonly string[]).includes(value)) {
      errors.push(
        invalid(
          childPath(`${PATH}.events`, index),
          `has an unknown filter '${filter}': use ${EVENT_FILTERS.join(', ')}.`,
        ),
      );
    } else if (!events.includes(value)) {
      events.push(value);
    }
  });
  return events;
}

function directConfiguration(config: Record<string, unknown>, errors: ErrorItem[]): IntegrationConfiguration {
  if (typeof config.integrationType === 'string') {
    const match = DIRECT_TYPES.find(
      (t) => t.toLowerCase() === (config.integrationType as string).toLowerCase(),
    );
    if (match) config = { ...config, integrationType: match };
  }
  if (!DirectConfig.check(config)) {
    errors.push(...DirectConfig.errors(config, PortalCodes, PATH));
    return {};
  }
  const out: IntegrationConfiguration = { integrationType: config.integrationType };
  if (config.echo !== undefined) out.echo = config.echo;
  if (config.webhookUrl !== undefined) out.webhookUrl = config.webhookUrl;
  if (config.start !== undefined) {
    const start: Record<string, unknown>[] = [];
    config.start.forEach((message, index) => {
      const parsed = parseMessage(message, childPath(`${PATH}.start`, index), PortalCodes);
      if (parsed.ok) start.push(parsed.value);
      else errors.push(...parsed.errors);
    });
    out.start = start;
  }
  checkExtensions(config, errors);
  if (config.retrySchedule !== undefined) out.retrySchedule = storedSchedule(config.retrySchedule);
  if (config.deliveryTimeout !== undefined) out.deliveryTimeout = config.deliveryTimeout.trim();
  return out;
}

/** Validates a configuration for its channel; `regenerateKeys` is returned apart, never stored. */
function parseConfiguration(
  channel: ChannelType,
  raw: Record<string, unknown>,
  errors: ErrorItem[],
): { configuration: IntegrationConfiguration; regenerateKeys: boolean } {
  const config = normalizeConfigurationKeys(raw);
  const regenerateKeys = config.regenerateKeys === true;
  const configuration =
    channel === 'System' ? systemConfiguration(config, errors) : directConfiguration(config, errors);
  return { configuration, regenerateKeys };
}

/** Keys: rotated on request, kept when present, generated when a webhookUrl needs them. */
function withKeys(
  configuration: IntegrationConfiguration,
  previous: IntegrationConfiguration | undefined,
  regenerate: boolean,
): IntegrationConfiguration {
  const hasKeys =
    typeof previous?.publicSigningKey === 'string' && typeof previous.privateSigningKey === 'string';
  if (regenerate || (!hasKeys && configuration.webhookUrl !== undefined)) {
    return { ...configuration, publicSigningKey: signingKey(), privateSigningKey: signingKey() };
  }
  if (hasKeys) {
    return {
      ...configuration,
      publicSigningKey: previous.publicSigningKey,
      privateSigningKey: previous.privateSigningKey,
    };
  }
  return configuration;
}

function channelOf(value: unknown, errors: ErrorItem[]): ChannelType | undefined {
  const channel = parseChannelId(value);
  if (channel === undefined) {
    errors.push(invalid('channelId', `has an unknown value '${String(value)}'.`));
    return undefined;
  }
  if (!SUPPORTED_CHANNELS.includes(channel)) {
    errors.push(
      invalid(
        'channelId',
        `'${channel}' is not supported: Hookster creates System and Direct integrations only.`,
      ),
    );
    return undefined;
  }
  return channel;
}

function hasIntegrationTypeKey(config: Record<string, unknown>): boolean {
  return Object.keys(config).some((k) => k.toLowerCase() === 'integrationtype' && config[k] != null);
}

/** `integrationTypeId` of a body (name or number; absent or null: undefined), an unknown one reported. */
function givenIntegrationType(
  input: Record<string, unknown>,
  errors: ErrorItem[],
): IntegrationType | undefined {
  const value = input.integrationTypeId;
  // Absent, null, or of a wrong type (the body's schema reports that): nothing to compare.
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const type = parseIntegrationTypeId(value);
  if (type === undefined) {
    errors.push(invalid('integrationTypeId', `has an unknown value '${String(value)}'.`));
  }
  return type;
}

function checkName(name: unknown, errors: ErrorItem[]): void {
  if (typeof name === 'string' && name !== '' && name.trim() === '')
    errors.push(invalid('name', 'must not be blank.'));
}

function bodyErrors(body: unknown): ErrorItem[] | undefined {
  if (body === undefined || body === null || body === '') return [errorItem('MissingBody')];
  if (!isObject(body)) return [errorItem('InvalidType', 'The body must be a JSON object.')];
  return undefined;
}

/** `POST /api/v1/integrations/hubs/{hubId}`: a new integration, or every problem of the body. */
export function parseIntegrationCreate(
  body: unknown,
  hubId: string,
  tenantId: string,
  now: number,
): ParseResult<Integration> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const input = body as Record<string, unknown>;
  const errors: ErrorItem[] = CreateBody.check(input) ? [] : CreateBody.errors(input, PortalCodes);
  checkName(input.name, errors);
  const typed = typeof input.channelId === 'string' || typeof input.channelId === 'number';
  const channel = typed ? channelOf(input.channelId, errors) : undefined;
  const givenType = givenIntegrationType(input, errors);
  let parsed: ReturnType<typeof parseConfiguration> | undefined;
  if (channel && isObject(input.configuration)) {
    let raw = input.configuration;
    // A Direct integration's type may come as integrationTypeId alone (it is the configuration's).
    if (channel === 'Direct' && givenType !== undefined && !hasIntegrationTypeKey(raw)) {
      if ((DIRECT_TYPES as readonly string[]).includes(givenType))
        raw = { ...raw, integrationType: givenType };
      else
        errors.push(
          invalid(
            'integrationTypeId',
            `must be ${DIRECT_TYPES.join(', ')} or absent for a Direct integration.`,
          ),
        );
    }
    parsed = parseConfiguration(channel, raw, errors);
    if (givenType !== undefined) {
      const derived = channel === 'System' ? 'System' : parsed.configuration.integrationType;
      if (derived !== undefined && derived !== givenType) {
        errors.push(
          invalid(
            'integrationTypeId',
            channel === 'System'
              ? `must be 'System' for a System integration, not '${givenType}'.`
              : `'${givenType}' contradicts configuration.integrationType '${derived}'.`,
          ),
        );
      }
    }
  }
  if (errors.length > 0 || !channel || !parsed) return { ok: false, errors };

  const configuration = withKeys(parsed.configuration, undefined, false);
  const created = new Date(now).toISOString();
  return {
    ok: true,
    value: {
      integrationId: sequentialGuid(now),
      hubId,
      tenantId,
      integrationTypeId: channel === 'System' ? 'System' : (configuration.integrationType ?? 'Customer'),
      channelId: channel,
      name: (input.name as string).trim(),
      statusId: (input.statusId as number | undefined) ?? IntegrationStatus.Active,
      configuration,
      created,
      modified: created,
    },
  };
}

/**
 * `PUT /api/v1/integrations/{integrationId}`: name, statusId and configuration (replaced whole; a
 * Direct configuration without integrationType keeps the existing one, as in the docs' example).
 */
export function parseIntegrationUpdate(
  existing: Integration,
  body: unknown,
  now: number,
): ParseResult<Integration> {
  const early = bodyErrors(body);
  if (early) return { ok: false, errors: early };
  const input = body as Record<string, unknown>;
  const errors: ErrorItem[] = UpdateBody.check(input) ? [] : UpdateBody.errors(input, PortalCodes);
  checkName(input.name, errors);
  if (input.channelId !== undefined && parseChannelId(input.channelId) !== existing.channelId) {
    errors.push(invalid('channelId', `cannot be changed (the integration is '${existing.channelId}').`));
  }
  const givenType = givenIntegrationType(input, errors);
  if (givenType !== undefined && givenType !== existing.integrationTypeId) {
    errors.push(
      invalid('integrationTypeId', `cannot be changed (the integration is '${existing.integrationTypeId}').`),
    );
  }
  let configuration = existing.configuration;
  const given = isObject(input.configuration) ? normalizeConfigurationKeys(input.configuration) : undefined;
  if (given && Object.keys(given).length === 1 && typeof given.regenerateKeys === 'boolean') {
    // `{regenerateKeys: true}` alone rotates the keys and keeps the rest of the configuration.
    configuration = withKeys(existing.configuration, existing.configuration, given.regenerateKeys);
  } else if (isObject(input.configuration) && SUPPORTED_CHANNELS.includes(existing.channelId)) {
    let raw = input.configuration;
    if (existing.channelId === 'Direct' && !hasIntegrationTypeKey(raw))
      raw = { ...raw, integrationType: existing.configuration.integrationType };
    const parsed = parseConfiguration(existing.channelId, raw, errors);
    const type = parsed.configuration.integrationType;
    if (
      existing.channelId === 'Direct' &&
      type !== undefined &&
      type !== existing.configuration.integrationType
    ) {
      errors.push(
        invalid(
          `${PATH}.integrationType`,
          `cannot be changed from '${String(existing.configuration.integrationType)}'.`,
        ),
      );
    }
    configuration = withKeys(parsed.configuration, existing.configuration, parsed.regenerateKeys);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      ...existing,
      name: typeof input.name === 'string' ? input.name.trim() : existing.name,
      statusId: (input.statusId as number | undefined) ?? existing.statusId,
      configuration,
      modified: new Date(now).toISOString(),
    },
  };
}

/** Integration bodies as JSON Schema (for the OpenAPI document); configuration by channel. */
export const integrationSchemas = {
  IntegrationCreate: CreateBody.schema,
  IntegrationUpdate: UpdateBody.schema,
  SystemConfiguration: SystemConfig.schema,
  DirectConfiguration: DirectConfig.schema,
};
