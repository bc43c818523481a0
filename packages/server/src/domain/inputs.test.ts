// Parsing tenant, hub and other resource bodies for create and update, every problem listed.
import { describe, expect, it } from 'vitest';
import { isGuid } from './ids.js';
import {
  parseClientCredentials,
  parseDeliveryStatusQuery,
  parseEstablish,
  parseGuidParam,
  parseHubCreate,
  parseHubUpdate,
  parseInstant,
  parseInteractionsQuery,
  parsePageQuery,
  parseRecoverSince,
  parseTenantCreate,
} from './inputs.js';
import type { ParseResult } from './validation.js';

const NOW = Date.parse('2026-12-04T20:00:00.000Z');
const TENANT = '4f3a9c12-d87b-4e5a-9b2c-01757696094e';

function value<T>(result: ParseResult<T>): T {
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function problems<T>(result: ParseResult<T>): string[] {
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.errors.map((e) => e.description);
}

describe('parseTenantCreate', () => {
  it('creates an active tenant', () => {
    const tenant = value(parseTenantCreate({ name: ' Acme ', accountHolderEmail: 'ops@acme.example' }, NOW));
    expect(tenant).toMatchObject({ name: 'Acme', accountHolderEmail: 'ops@acme.example', statusId: 1000 });
    expect(isGuid(tenant.tenantId)).toBe(true);
    expect(tenant.created).toBe('2026-12-04T20:00:00.000Z');
  });

  it('lists every problem', () => {
    expect(problems(parseTenantCreate({ accountHolderEmail: 'nope' }, NOW))).toEqual([
      "Property 'name' is required. (code: PRT000301)",
      "Property 'accountHolderEmail' must be an e-mail address. (code: PRT000304)",
    ]);
    expect(problems(parseTenantCreate(undefined, NOW))).toEqual([
      'Request body is required. (code: PRT000300)',
    ]);
    expect(problems(parseTenantCreate('x', NOW))).toEqual([
      'The body must be a JSON object. (code: PRT000302)',
    ]);
  });
});

describe('accountHolderEmail', () => {
  it('refuses control characters, which no mail server takes in an address (the e-mails would all be refused)', () => {
    for (const email of ['ops@acme.example\u0001', 'o\u007fps@acme.example', 'ops@acme.exa\u0085mple']) {
      expect(problems(parseTenantCreate({ name: 'Acme', accountHolderEmail: email }, NOW))).toEqual([
        "Property 'accountHolderEmail' must be an e-mail address. (code: PRT000304)",
      ]);
    }
    expect(
      value(parseTenantCreate({ name: 'Acme', accountHolderEmail: 'zoë@acme.example' }, NOW)),
    ).toMatchObject({
      accountHolderEmail: 'zoë@acme.example',
    });
  });
});

describe('parseHubCreate and parseHubUpdate', () => {
  it('creates a hub in the caller tenant with defaults', () => {
    const hub = value(
      parseHubCreate({ name: 'Support', description: 'All support', tenantId: 'ignored' }, TENANT, NOW),
    );
    expect(hub).toMatchObject({
      tenantId: TENANT,
      name: 'Support',
      description: 'All support',
      statusId: 2000,
    });
    expect(hub.closeDormantConversation).toBeUndefined();
  });

  it('requires the tenantId in the body when the admin creates a hub', () => {
    expect(problems(parseHubCreate({ name: 'a', description: 'b' }, undefined, NOW))).toEqual([
      "Property 'tenantId' is required when the admin creates a hub. (code: PRT000301)",
    ]);
    const hub = value(
      parseHubCreate(
        {
          name: 'a',
          description: 'b',
          tenantId: TENANT.toUpperCase(),
          statusId: 2002,
          closeDormantConversation: 3,
        },
        undefined,
        NOW,
      ),
    );
    expect(hub).toMatchObject({ tenantId: TENANT, statusId: 2002, closeDormantConversation: 3 });
  });

  it('lists every problem of a hub body', () => {
    expect(
      problems(parseHubCreate({ name: ' ', statusId: 2001, closeDormantConversation: -1 }, TENANT, NOW)),
    ).toEqual([
      "Property 'description' is required. (code: PRT000301)",
      "Property 'statusId' must be one of: 2000, 2002. (code: PRT000304)",
      "Property 'closeDormantConversation' must be greater than or equal to 0. (code: PRT000304)",
      "Property 'name' must not be blank. (code: PRT000304)",
    ]);
    expect(
      problems(parseHubCreate({ name: 'a', description: 'b', closeDormantConversation: 1.5 }, TENANT, NOW)),
    ).toEqual(["Property 'closeDormantConversation' must be an integer. (code: PRT000302)"]);
  });

  it('updates only the members present', () => {
    const hub = value(parseHubCreate({ name: 'a', description: 'b' }, TENANT, NOW));
    const paused = value(parseHubUpdate(hub, { statusId: 2002 }, NOW + 5));
    expect(paused).toMatchObject({ name: 'a', description: 'b', statusId: 2002, created: hub.created });
    expect(paused.modified).toBe(new Date(NOW + 5).toISOString());
    expect(value(parseHubUpdate(hub, { name: 'c', closeDormantConversation: 0 }, NOW))).toMatchObject({
      name: 'c',
      closeDormantConversation: 0,
    });
    expect(problems(parseHubUpdate(hub, { statusId: 2001, name: '' }, NOW))).toEqual([
      "Property 'name' must not be empty. (code: PRT000304)",
      "Property 'statusId' must be one of: 2000, 2002. (code: PRT000304)",
    ]);
  });
});

describe('parseEstablish', () => {
  const integrationId = 'E3B9D5F1-A2C8-4D6E-9F70-01757BD10FA0';

  it('accepts the documented request and lower-cases the integrationId', () => {
    const request = value(
      parseEstablish({
        integrationId,
        binding: 'user-42',
        channelType: 'Direct',
        properties: { profile: { 'full name': 'Zoë' }, additional: { plan: 'gold' } },
      }),
    );
    expect(request).toEqual({
      integrationId: integrationId.toLowerCase(),
      binding: 'user-42',
      properties: { profile: { 'full name': 'Zoë' }, additional: { plan: 'gold' } },
    });
  });

  it('accepts channelType 1 or absent and fills missing property maps', () => {
    expect(value(parseEstablish({ integrationId, binding: 'b', channelType: 1 })).properties).toBeUndefined();
    expect(
      value(parseEstablish({ integrationId, binding: 'b', properties: { profile: {} } })).properties,
    ).toEqual({
      profile: {},
      additional: {},
    });
  });

  it('lists every problem with ENG0030xx codes', () => {
    expect(
      problems(
        parseEstablish({
          integrationId: 'x',
          binding: '',
          channelType: 'WebChat',
          properties: { profile: { age: 4 } },
        }),
      ),
    ).toEqual([
      "Property 'integrationId' must be a GUID. (code: ENG003002)",
      "Property 'binding' must not be empty. (code: ENG003003)",
      "Property 'properties.profile.age' must be a string. (code: ENG003003)",
      'Property \'channelType\' must be "Direct". (code: ENG003003)',
    ]);
    expect(problems(parseEstablish({}))).toEqual([
      "Property 'integrationId' is required. (code: ENG003001)",
      "Property 'binding' is required. (code: ENG003001)",
    ]);
    expect(problems(parseEstablish(null))).toEqual([
      'Conversation request body is required. (code: ENG003000)',
    ]);
  });
});

describe('parseClientCredentials', () => {
  it('reads the client credentials form', () => {
    expect(
      value(parseClientCredentials({ grant_type: 'client_credentials', client_id: 'a', client_secret: 'b' })),
    ).toEqual({
      clientId: 'a',
      clientSecret: 'b',
    });
  });

  it('refuses other grants and missing fields', () => {
    expect(problems(parseClientCredentials({ grant_type: 'password' }))).toEqual([
      "Property 'grant_type' must be 'client_credentials'. (code: PRT000304)",
      "Property 'client_id' is required. (code: PRT000301)",
      "Property 'client_secret' is required. (code: PRT000301)",
    ]);
    expect(problems(parseClientCredentials(undefined))).toHaveLength(3);
  });
});

describe('query parameters', () => {
  it('defaults pagination to page 0 of 50', () => {
    expect(value(parsePageQuery({}))).toEqual({ pageNumber: 0, pageSize: 50 });
    expect(value(parsePageQuery(undefined))).toEqual({ pageNumber: 0, pageSize: 50 });
    expect(value(parsePageQuery({ pageNumber: '3', pageSize: '100' }))).toEqual({
      pageNumber: 3,
      pageSize: 100,
    });
  });

  it('refuses bad pagination with PRT00020x', () => {
    expect(problems(parsePageQuery({ pageNumber: '-1', pageSize: '0' }))).toEqual([
      "Query parameter 'pageNumber' must be between 0 and 9007199254740991. (code: PRT000202)",
      "Query parameter 'pageSize' must be between 1 and 100. (code: PRT000202)",
    ]);
    expect(problems(parsePageQuery({ pageSize: 'ten', pageNumber: '1.5' }))).toEqual([
      "Query parameter 'pageNumber' must be an integer. (code: PRT000205)",
      "Query parameter 'pageSize' must be an integer. (code: PRT000205)",
    ]);
    expect(problems(parsePageQuery({ pageSize: '101' }))).toHaveLength(1);
  });

  it('reads leid and type of the interactions listing', () => {
    expect(value(parseInteractionsQuery({}))).toEqual({ fromEventId: 0 });
    expect(value(parseInteractionsQuery({ leid: '1612345678901', type: 'agent' }))).toEqual({
      fromEventId: 1612345678901,
      integrationType: 'Agent',
    });
    expect(problems(parseInteractionsQuery({ leid: 'x', type: 'System' }))).toEqual([
      "Query parameter 'leid' must be an integer. (code: PRT000205)",
      "Query parameter 'type' must be one of: Customer, Agent, Bot. (code: PRT000304)",
    ]);
  });

  it('reads the delivery status filter', () => {
    expect(value(parseDeliveryStatusQuery({}))).toBeUndefined();
    expect(value(parseDeliveryStatusQuery({ status: 'Failed' }))).toBe('failed');
    expect(problems(parseDeliveryStatusQuery({ status: 'lost' }))[0]).toContain("'status' must be one of");
  });

  it('reads GUID path parameters', () => {
    expect(value(parseGuidParam(TENANT.toUpperCase(), 'hubId'))).toBe(TENANT);
    expect(problems(parseGuidParam('123', 'hubId'))).toEqual([
      "Parameter 'hubId' must be a GUID. (code: PRT000200)",
    ]);
  });
});

describe('since', () => {
  it('accepts ISO dates and epoch milliseconds', () => {
    expect(parseInstant('2026-12-04T20:00:00.000Z')).toBe(NOW);
    expect(parseInstant('2026-12-04')).toBe(Date.parse('2026-12-04'));
    expect(parseInstant(NOW)).toBe(NOW);
    expect(parseInstant(String(NOW))).toBe(NOW);
    expect(parseInstant('yesterday')).toBeUndefined();
    expect(parseInstant(-5)).toBeUndefined();
    expect(parseInstant(1.5)).toBeUndefined();
    expect(parseInstant('2026-13-45')).toBeUndefined();
  });

  it('reads dates strictly, a time without offset as UTC', () => {
    expect(parseInstant('2026-12-04T20:00:00')).toBe(NOW);
    expect(parseInstant('2026-12-04 20:00')).toBe(NOW);
    expect(parseInstant('2026-12-04T22:00:00+02:00')).toBe(NOW);
    expect(parseInstant('2026-12-04T15:30:00-0430')).toBe(NOW);
    expect(parseInstant('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    for (const text of [
      '2024-01-01 junk',
      '2024-02-30',
      '2023-02-29',
      '2024-01-01T24:00:00Z',
      '2024-01-01T10:00 PM',
    ]) {
      expect(parseInstant(text), text).toBeUndefined();
    }
  });

  it('parses the recover body', () => {
    expect(value(parseRecoverSince({ since: '2026-12-04T20:00:00Z' }))).toBe(NOW);
    expect(problems(parseRecoverSince({}))).toEqual(["Property 'since' is required. (code: PRT000301)"]);
    expect(problems(parseRecoverSince({ since: 'soon' }))).toEqual([
      "Property 'since' must be an ISO 8601 date or epoch milliseconds. (code: PRT000201)",
    ]);
  });
});
