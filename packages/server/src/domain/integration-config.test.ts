// Parsing integration bodies: System and Direct configuration, key generation, event filters.
import { describe, expect, it } from 'vitest';
import type { ErrorItem } from './errors.js';
import { isGuid } from './ids.js';
import {
  normalizeConfigurationKeys,
  parseChannelId,
  parseIntegrationCreate,
  parseIntegrationUpdate,
} from './integration-config.js';
import type { Integration } from './types.js';

const HUB = '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278';
const TENANT = '4f3a9c12-d87b-4e5a-9b2c-01757696094e';
const NOW = Date.parse('2026-12-04T20:00:00.000Z');
const KEY = /^[0-9A-F]{32}$/;

function created(body: unknown): Integration {
  const result = parseIntegrationCreate(body, HUB, TENANT, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function createErrors(body: unknown): string[] {
  const result = parseIntegrationCreate(body, HUB, TENANT, NOW);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e: ErrorItem) => e.description);
}

function updated(existing: Integration, body: unknown): Integration {
  const result = parseIntegrationUpdate(existing, body, NOW + 1000);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function updateErrors(existing: Integration, body: unknown): string[] {
  const result = parseIntegrationUpdate(existing, body, NOW);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => e.description);
}

const systemBody = {
  channelId: 'System',
  name: 'My cool integration name.',
  statusId: 3000,
  configuration: {
    webhookUrl: 'https://url_end_point.com',
    events: ['message:customer', 'message:agent', 'message:bot'],
  },
};
const directBody = {
  channelId: 'Direct',
  name: 'My cool integration name.',
  configuration: {
    integrationType: 'Agent',
    echo: true,
    webhookUrl: 'https://url_end_point.com',
    start: [{ type: 'text', text: 'Welcome to Hubster! How can we help you?' }],
  },
};

describe('parseIntegrationCreate', () => {
  it('creates the documented System integration with a fresh key pair', () => {
    const integration = created(systemBody);
    expect(integration).toMatchObject({
      hubId: HUB,
      tenantId: TENANT,
      integrationTypeId: 'System',
      channelId: 'System',
      name: 'My cool integration name.',
      statusId: 3000,
      created: '2026-12-04T20:00:00.000Z',
      modified: '2026-12-04T20:00:00.000Z',
      configuration: {
        webhookUrl: 'https://url_end_point.com',
        events: ['message:customer', 'message:agent', 'message:bot'],
      },
    });
    expect(isGuid(integration.integrationId)).toBe(true);
    expect(integration.integrationId.endsWith(NOW.toString(16).padStart(12, '0'))).toBe(true);
    expect(integration.configuration.publicSigningKey).toMatch(KEY);
    expect(integration.configuration.privateSigningKey).toMatch(KEY);
    expect(integration.configuration.publicSigningKey).not.toBe(integration.configuration.privateSigningKey);
  });

  it('creates the documented Direct integration: integrationTypeId from integrationType, keys for its webhookUrl', () => {
    const integration = created(directBody);
    expect(integration.integrationTypeId).toBe('Agent');
    expect(integration.channelId).toBe('Direct');
    expect(integration.statusId).toBe(3000);
    expect(integration.configuration).toMatchObject(directBody.configuration);
    expect(integration.configuration.privateSigningKey).toMatch(KEY);
  });

  it('creates a websocket-mode Direct integration without keys', () => {
    const integration = created({ channelId: 1, name: 'ws', configuration: { integrationType: 'Customer' } });
    expect(integration.channelId).toBe('Direct');
    expect(integration.integrationTypeId).toBe('Customer');
    expect(integration.configuration).toEqual({ integrationType: 'Customer' });
  });

  it('accepts configuration keys in any case and returns camelCase, WelcomeMessage as start', () => {
    const integration = created({
      channelId: 'direct',
      name: 'd',
      statusId: 3002,
      configuration: {
        IntegrationType: 'bot',
        ECHO: false,
        WebhookUrl: 'http://b.example/x',
        WelcomeMessage: 'Hello!',
      },
    });
    expect(integration.statusId).toBe(3002);
    expect(integration.integrationTypeId).toBe('Bot');
    expect(integration.configuration).toMatchObject({
      integrationType: 'Bot',
      echo: false,
      webhookUrl: 'http://b.example/x',
      start: [{ type: 'text', text: 'Hello!' }],
    });
  });

  it('accepts channelId as a number or numeric string', () => {
    expect(created({ ...systemBody, channelId: 3 }).channelId).toBe('System');
    expect(created({ ...systemBody, channelId: '3' }).channelId).toBe('System');
  });

  it('never takes signing keys from input and never stores regenerateKeys', () => {
    const integration = created({
      ...systemBody,
      configuration: {
        ...systemBody.configuration,
        publicSigningKey: 'MINE',
        PrivateSigningKey: 'MINE',
        regenerateKeys: true,
      },
    });
    expect(integration.configuration.publicSigningKey).toMatch(KEY);
    expect(integration.configuration.privateSigningKey).toMatch(KEY);
    expect(integration.configuration).not.toHaveProperty('regenerateKeys');
  });

  it('normalises, de-duplicates and checks event filters', () => {
    const integration = created({
      ...systemBody,
      configuration: { webhookUrl: 'https://a.example', events: ['message', 'Message:Customer', 'message'] },
    });
    expect(integration.configuration.events).toEqual(['message', 'message:customer']);
    expect(
      createErrors({
        ...systemBody,
        configuration: { webhookUrl: 'https://a.example', events: ['message', 'message:system'] },
      }),
    ).toEqual([
      "Property 'configuration.events[1]' has an unknown filter 'message:system': use message, message:customer, message:agent, message:bot. (code: PRT000304)",
    ]);
    expect(
      createErrors({ ...systemBody, configuration: { webhookUrl: 'https://a.example', events: [] } }),
    ).toEqual(["Property 'configuration.events' must contain at least one element. (code: PRT000306)"]);
  });

  it('refuses an invalid webhookUrl and a missing one', () => {
    expect(
      createErrors({ ...systemBody, configuration: { webhookUrl: 'not a url', events: ['message'] } }),
    ).toEqual([
      "Property 'configuration.webhookUrl' must be an absolute http or https URL. (code: PRT000304)",
    ]);
    expect(createErrors({ ...systemBody, configuration: { events: ['message'] } })).toEqual([
      "Property 'configuration.webhookUrl' is required. (code: PRT000301)",
    ]);
    expect(
      createErrors({ ...directBody, configuration: { integrationType: 'Agent', webhookUrl: 'ftp://x' } }),
    ).toEqual([
      "Property 'configuration.webhookUrl' must be an absolute http or https URL. (code: PRT000304)",
    ]);
  });

  it('refuses a webhookUrl that no delivery could use as written', () => {
    const errorsFor = (webhookUrl: string) =>
      createErrors({ ...systemBody, configuration: { webhookUrl, events: ['message'] } });
    const prefix = "Property 'configuration.webhookUrl'";
    expect(errorsFor('https://user:secret@hooks.example/in')).toEqual([
      `${prefix} must not contain credentials (user:password@): receivers authenticate a delivery by its signature. (code: PRT000304)`,
    ]);
    expect(errorsFor('https://user@hooks.example/in')).toHaveLength(1);
    expect(errorsFor('https://hooks.example:0/in')).toEqual([
      `${prefix} must not use port 0. (code: PRT000304)`,
    ]);
    expect(errorsFor('https://hooks.example/in#part')).toEqual([
      `${prefix} must not contain a fragment (#…): it would never be sent. (code: PRT000304)`,
    ]);
    expect(errorsFor('https://hooks.example/in\nX-Injected: 1')).toEqual([
      `${prefix} must not contain spaces or control characters. (code: PRT000304)`,
    ]);
    expect(errorsFor(`https://${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}/`)).toEqual([
      `${prefix} has a host name longer than 253 characters. (code: PRT000304)`,
    ]);
    expect(errorsFor(`https://hooks.example/${'p'.repeat(2100)}`)).toEqual([
      `${prefix} must be at most 2048 characters long. (code: PRT000304)`,
    ]);
    // The Direct configuration is held to the same rule.
    expect(
      createErrors({
        ...directBody,
        configuration: { integrationType: 'Agent', webhookUrl: 'http://a:b@hooks.example/' },
      }),
    ).toHaveLength(1);
    expect(
      created({
        ...systemBody,
        configuration: { webhookUrl: 'https://hooks.example:8443/in?x=1', events: ['message'] },
      }).configuration.webhookUrl,
    ).toBe('https://hooks.example:8443/in?x=1');
  });

  it('stores a webhookUrl pasted with spaces around it without them', () => {
    const integration = created({
      ...systemBody,
      configuration: { webhookUrl: '  https://hooks.example/in \n', events: ['message'] },
    });
    expect(integration.configuration.webhookUrl).toBe('https://hooks.example/in');
  });

  it('accepts retrySchedule "none" (one attempt), stored in lower case', () => {
    const integration = created({
      ...systemBody,
      configuration: { ...systemBody.configuration, retrySchedule: ' None ' },
    });
    expect(integration.configuration.retrySchedule).toBe('none');
  });

  it('lists an unknown filter together with an invalid webhookUrl', () => {
    expect(
      createErrors({
        ...systemBody,
        configuration: { webhookUrl: 'not a url', events: ['message', 'message:martian'] },
      }),
    ).toEqual([
      "Property 'configuration.webhookUrl' must be an absolute http or https URL. (code: PRT000304)",
      "Property 'configuration.events[1]' has an unknown filter 'message:martian': use message, message:customer, message:agent, message:bot. (code: PRT000304)",
    ]);
  });

  it('lists every problem of a bad body', () => {
    expect(createErrors({ name: '', statusId: 3001 })).toEqual([
      "Property 'channelId' is required. (code: PRT000301)",
      "Property 'configuration' is required. (code: PRT000301)",
      "Property 'name' must not be empty. (code: PRT000304)",
      "Property 'statusId' must be one of: 3000, 3002. (code: PRT000304)",
    ]);
    expect(
      createErrors({
        channelId: 'Direct',
        name: '  ',
        configuration: { echo: 'yes', start: [{ type: 'image' }] },
      }),
    ).toEqual([
      "Property 'name' must not be blank. (code: PRT000304)",
      "Property 'configuration.integrationType' is required. (code: PRT000301)",
      "Property 'configuration.echo' must be a boolean. (code: PRT000302)",
    ]);
  });

  it('validates start messages as messages', () => {
    expect(
      createErrors({
        channelId: 'Direct',
        name: 'd',
        configuration: {
          integrationType: 'Customer',
          start: [{ type: 'text', text: 'a' }, { type: 'image' }],
        },
      }),
    ).toEqual(["Property 'configuration.start[1].url' is required. (code: PRT000301)"]);
  });

  it('refuses unknown and unsupported channels with a clear message', () => {
    expect(createErrors({ ...systemBody, channelId: 'Pigeon' })).toEqual([
      "Property 'channelId' has an unknown value 'Pigeon'. (code: PRT000304)",
    ]);
    expect(createErrors({ ...systemBody, channelId: 999 })).toEqual([
      "Property 'channelId' has an unknown value '999'. (code: PRT000304)",
    ]);
    expect(createErrors({ ...systemBody, channelId: 'WebChat' })).toEqual([
      "Property 'channelId' 'WebChat' is not supported: Hookster creates System and Direct integrations only. (code: PRT000304)",
    ]);
    expect(createErrors({ ...systemBody, channelId: true })).toEqual([
      "Property 'channelId' has the wrong type. (code: PRT000302)",
    ]);
  });

  it('answers a missing or non-object body', () => {
    expect(createErrors(undefined)).toEqual(['Request body is required. (code: PRT000300)']);
    expect(createErrors([])).toEqual(['The body must be a JSON object. (code: PRT000302)']);
  });

  it('validates the retrySchedule and deliveryTimeout extensions', () => {
    const integration = created({
      ...systemBody,
      configuration: { ...systemBody.configuration, RetrySchedule: '100ms, 200ms', deliveryTimeout: '2s' },
    });
    expect(integration.configuration).toMatchObject({ retrySchedule: '100ms, 200ms', deliveryTimeout: '2s' });
    expect(
      createErrors({
        ...systemBody,
        configuration: { ...systemBody.configuration, retrySchedule: '1x', deliveryTimeout: '0ms' },
      }),
    ).toEqual([
      'Property \'configuration.retrySchedule\' must be a comma-separated list of at most 50 durations of at most 168h each, e.g. "100ms,2s,1m", or "none". (code: PRT000304)',
      'Property \'configuration.deliveryTimeout\' must be a duration between 1ms and 2m, e.g. "2s". (code: PRT000304)',
    ]);
    expect(
      createErrors({ ...systemBody, configuration: { ...systemBody.configuration, deliveryTimeout: '10m' } }),
    ).toHaveLength(1);
  });
});

describe('parseIntegrationUpdate', () => {
  it('rotates both keys on regenerateKeys and keeps them otherwise', () => {
    const before = created(systemBody);
    const same = updated(before, { configuration: { webhookUrl: 'https://b.example', events: ['message'] } });
    expect(same.configuration.publicSigningKey).toBe(before.configuration.publicSigningKey);
    expect(same.configuration.privateSigningKey).toBe(before.configuration.privateSigningKey);
    expect(same.configuration.webhookUrl).toBe('https://b.example');
    const rotated = updated(before, { configuration: { ...systemBody.configuration, regenerateKeys: true } });
    expect(rotated.configuration.publicSigningKey).toMatch(KEY);
    expect(rotated.configuration.publicSigningKey).not.toBe(before.configuration.publicSigningKey);
    expect(rotated.configuration.privateSigningKey).not.toBe(before.configuration.privateSigningKey);
    expect(rotated.configuration).not.toHaveProperty('regenerateKeys');
    expect(rotated.modified).toBe(new Date(NOW + 1000).toISOString());
    expect(rotated.created).toBe(before.created);
    expect(rotated.integrationId).toBe(before.integrationId);
  });

  it('rotates the keys and keeps the configuration when the update holds only regenerateKeys', () => {
    const before = created(systemBody);
    const rotated = updated(before, { configuration: { RegenerateKeys: true } });
    expect(rotated.configuration.webhookUrl).toBe(before.configuration.webhookUrl);
    expect(rotated.configuration.events).toEqual(before.configuration.events);
    expect(rotated.configuration.publicSigningKey).toMatch(KEY);
    expect(rotated.configuration.publicSigningKey).not.toBe(before.configuration.publicSigningKey);
    expect(rotated.configuration.privateSigningKey).not.toBe(before.configuration.privateSigningKey);
    expect(rotated.configuration).not.toHaveProperty('regenerateKeys');
    const kept = updated(before, { configuration: { regenerateKeys: false } });
    expect(kept.configuration).toEqual(before.configuration);
  });

  it('generates keys when an update adds a webhookUrl', () => {
    const before = created({
      channelId: 'Direct',
      name: 'ws',
      configuration: { integrationType: 'Customer' },
    });
    const after = updated(before, {
      configuration: { integrationType: 'Customer', webhookUrl: 'https://c.example' },
    });
    expect(after.configuration.publicSigningKey).toMatch(KEY);
  });

  it('applies the documented Direct update body without integrationType', () => {
    const before = created(directBody);
    const after = updated(before, {
      name: 'Direct',
      statusId: 3002,
      configuration: { Echo: true, webhookUrl: 'http://hubster.io/v1/api/integration?customer=1' },
    });
    expect(after).toMatchObject({ name: 'Direct', statusId: 3002, integrationTypeId: 'Agent' });
    expect(after.configuration).toMatchObject({
      integrationType: 'Agent',
      echo: true,
      webhookUrl: 'http://hubster.io/v1/api/integration?customer=1',
    });
    expect(after.configuration.start).toBeUndefined();
  });

  it('keeps the configuration when the body has none', () => {
    const before = created(systemBody);
    const after = updated(before, { statusId: 3002 });
    expect(after.configuration).toEqual(before.configuration);
    expect(after.statusId).toBe(3002);
    expect(after.name).toBe(before.name);
  });

  it('refuses to change the channel or the Direct integrationType', () => {
    const before = created(directBody);
    expect(
      updateErrors(before, { channelId: 'System', configuration: { integrationType: 'Customer' } }),
    ).toEqual([
      "Property 'channelId' cannot be changed (the integration is 'Direct'). (code: PRT000304)",
      "Property 'configuration.integrationType' cannot be changed from 'Agent'. (code: PRT000304)",
    ]);
    expect(updated(before, { channelId: 1 }).channelId).toBe('Direct');
  });

  it('requires the System configuration again in full', () => {
    expect(
      updateErrors(created(systemBody), { configuration: { events: ['message'] }, statusId: 3001 }),
    ).toEqual([
      "Property 'statusId' must be one of: 3000, 3002. (code: PRT000304)",
      "Property 'configuration.webhookUrl' is required. (code: PRT000301)",
    ]);
  });
});

describe('helpers', () => {
  it('parses channel names and numbers', () => {
    expect(parseChannelId('System')).toBe('System');
    expect(parseChannelId('system')).toBe('System');
    expect(parseChannelId(1)).toBe('Direct');
    expect(parseChannelId(106)).toBe('WebChat');
    expect(parseChannelId('nope')).toBeUndefined();
    expect(parseChannelId(7)).toBeUndefined();
    expect(parseChannelId(null)).toBeUndefined();
  });

  it('drops unknown keys and null values while normalising', () => {
    expect(normalizeConfigurationKeys({ WEBHOOKURL: 'u', foo: 1, echo: null })).toEqual({ webhookUrl: 'u' });
  });
});
