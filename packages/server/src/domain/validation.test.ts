// The TypeBox validator wrapper: dotted paths, every problem listed, expected types named.
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  ActivityCodes,
  PortalCodes,
  childPath,
  compileValidator,
  isEmail,
  isHttpUrl,
  propertyPath,
} from './validation.js';

const Body = Type.Object({
  name: Type.String({ minLength: 1 }),
  configuration: Type.Object({
    webhookUrl: Type.String({ format: 'http-url' }),
    events: Type.Array(Type.String(), { minItems: 1 }),
  }),
  statusId: Type.Optional(Type.Union([Type.Literal(3000), Type.Literal(3002)])),
  hubId: Type.Optional(Type.String({ format: 'guid' })),
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  email: Type.Optional(Type.String({ format: 'email' })),
});
const validator = compileValidator(Body);

describe('compileValidator', () => {
  it('accepts a valid value and ignores unknown extra properties', () => {
    const value = {
      name: 'n',
      configuration: { webhookUrl: 'https://a.example/x', events: ['message'] },
      extra: 1,
    };
    expect(validator.check(value)).toBe(true);
    expect(validator.errors(value, PortalCodes)).toEqual([]);
  });

  it('reports a missing nested property once, with its dotted path', () => {
    const errors = validator.errors({ name: 'n', configuration: { events: ['message'] } }, PortalCodes);
    expect(errors).toEqual([
      { code: 301, description: "Property 'configuration.webhookUrl' is required. (code: PRT000301)" },
    ]);
  });

  it('lists every problem of a body', () => {
    const errors = validator.errors(
      {
        name: '',
        configuration: { webhookUrl: 'ftp://x', events: [] },
        statusId: 3001,
        hubId: 'nope',
        count: 1.5,
        email: 'a@',
      },
      PortalCodes,
    );
    expect(errors.map((e) => e.description)).toEqual([
      "Property 'name' must not be empty. (code: PRT000304)",
      "Property 'configuration.webhookUrl' must be an absolute http or https URL. (code: PRT000304)",
      "Property 'configuration.events' must contain at least one element. (code: PRT000306)",
      "Property 'statusId' must be one of: 3000, 3002. (code: PRT000304)",
      "Property 'hubId' must be a GUID. (code: PRT000200)",
      "Property 'count' must be an integer. (code: PRT000302)",
      "Property 'email' must be an e-mail address. (code: PRT000304)",
    ]);
  });

  it('names the expected type of a wrongly typed property', () => {
    const errors = validator.errors({ name: 3, configuration: 'x' }, PortalCodes);
    expect(errors.map((e) => e.description)).toEqual([
      "Property 'name' must be a string. (code: PRT000302)",
      "Property 'configuration' must be an object. (code: PRT000302)",
    ]);
  });

  it('reports a non-object body at the root', () => {
    expect(validator.errors(null, PortalCodes)[0]?.description).toBe(
      'The body must be an object. (code: PRT000302)',
    );
  });

  it('uses the code set it is given and prefixes paths', () => {
    const errors = validator.errors(
      { configuration: { webhookUrl: 'https://a.b', events: [] } },
      ActivityCodes,
      'x',
    );
    expect(errors).toEqual([
      { code: 5001, description: "Property 'x.name' is required. (code: ENG005001)" },
      {
        code: 5015,
        description: "Property 'x.configuration.events' must contain at least one element. (code: ENG005015)",
      },
    ]);
  });

  it('writes array indexes in brackets', () => {
    const List = compileValidator(Type.Object({ items: Type.Array(Type.Object({ url: Type.String() })) }));
    expect(List.errors({ items: [{ url: 'a' }, {}] }, PortalCodes)[0]?.description).toBe(
      "Property 'items[1].url' is required. (code: PRT000301)",
    );
  });
});

describe('paths and formats', () => {
  it('converts JSON pointers to property paths', () => {
    expect(propertyPath('')).toBe('');
    expect(propertyPath('/a/0/b')).toBe('a[0].b');
    expect(propertyPath('/a~1b/c~0d')).toBe('a/b.c~d');
    expect(propertyPath('/b', 'message.items[2]')).toBe('message.items[2].b');
    expect(childPath('', 'a')).toBe('a');
    expect(childPath('a', 2)).toBe('a[2]');
    expect(childPath('a[2]', 'b')).toBe('a[2].b');
  });

  it('accepts only absolute http and https URLs', () => {
    expect(isHttpUrl('https://hooks.example.com/a?b=1')).toBe(true);
    expect(isHttpUrl('http://127.0.0.1:8080/')).toBe(true);
    expect(isHttpUrl('HTTPS://EXAMPLE.COM')).toBe(true);
    expect(isHttpUrl('ftp://example.com')).toBe(false);
    expect(isHttpUrl('/relative')).toBe(false);
    expect(isHttpUrl('https://')).toBe(false);
    expect(isHttpUrl('not a url')).toBe(false);
  });

  it('recognises e-mail addresses', () => {
    expect(isEmail('owner@example.com')).toBe(true);
    expect(isEmail('first.last+tag@sub.example.org')).toBe(true);
    expect(isEmail('owner@example')).toBe(false);
    expect(isEmail('owner example.com')).toBe(false);
    expect(isEmail('@example.com')).toBe(false);
  });
});
