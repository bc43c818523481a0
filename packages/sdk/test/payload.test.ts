// The payload parser: the hubster-wire §8 examples parse (and type-check as literals), bad input gets exact paths.
import { describe, expect, it } from 'vitest';
import {
  parseActivity,
  parseInboundActivity,
  isKnownMessageType,
  parseMessage,
  parseWebhookPayload,
  decodeBody,
  PayloadError,
  type Activity,
  type Message,
  type WebhookPayload,
} from '../src/index.js';
import { hubsterVectors } from './vectors.js';
import { ex1, ex2, ex3 } from './wire-examples.js';

function textOf(message: Message): string {
  switch (message.type) {
    case 'text':
      return message.text ?? '';
    case 'carousel':
    case 'list':
      return message.items.map((item) => item.title).join(', ');
    default:
      return message.type;
  }
}

function activitiesOf(payload: WebhookPayload): Activity[] {
  return 'activities' in payload ? payload.activities : [payload.activity];
}

describe('parseWebhookPayload', () => {
  it('parses the body of every §8 vector into the typed payload', () => {
    const texts: string[] = [];
    for (const v of hubsterVectors.vectors) {
      const result = parseWebhookPayload(JSON.parse(v.body));
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      expect('activities' in result.value).toBe(v.kind === 'System');
      for (const activity of activitiesOf(result.value)) {
        if (activity.type === 'message') texts.push(textOf(activity.message));
      }
    }
    expect(texts).toEqual([
      'Hi, I need help with my order #4471.',
      'Bonjour Zoë ☕ — votre commande est en route. Voulez-vous le suivi ?',
      'Here are our most popular models:',
      'Victorious, Green Dragon',
    ]);
  });

  it('accepts the typed literals of the §8 examples and equals what the parser returns', () => {
    for (const [literal, v] of [
      [ex1, hubsterVectors.vectors[0]!],
      [ex2, hubsterVectors.vectors[1]!],
      [ex3, hubsterVectors.vectors[2]!],
    ] as const) {
      const result = parseWebhookPayload(literal);
      expect(result.ok).toBe(true);
      expect(JSON.stringify(literal)).toBe(v.body);
    }
    const action =
      ex2.activity.type === 'message' && ex2.activity.message.type === 'text'
        ? ex2.activity.message.actions
        : [];
    expect(action?.map((a) => (a.type === 'link' ? a.url : a.payload))).toEqual([
      'TRACK_YES',
      'TRACK_NO',
      'https://shop.example.com/track/4471',
    ]);
  });

  it('lists every problem with its exact path', () => {
    const bad = JSON.parse(hubsterVectors.vectors[2]!.body) as {
      activities: Record<string, unknown>[];
      conversationProperties: Record<string, unknown>;
    };
    bad.conversationProperties.profile = { 'full name': 7 };
    const carousel = bad.activities[1]!.message as { items: { actions: Record<string, unknown>[] }[] };
    delete carousel.items[0]!.actions[1]!.url;
    bad.activities[0]!.isEcho = 'no';
    bad.activities[0]!.sender = { integrationType: 'Robot' };
    const result = parseWebhookPayload(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual([
      '$.conversationProperties.profile["full name"]',
      '$.activities[0].isEcho',
      '$.activities[0].sender.integrationType',
      '$.activities[1].message.items[0].actions[1].url',
    ]);
    expect(result.errors[2]!.message).toContain('"Robot"');
  });

  it('requires exactly one of activities and activity, and a non-empty batch', () => {
    const base = JSON.parse(hubsterVectors.vectors[0]!.body) as Record<string, unknown>;
    const both = { ...base, activity: (base.activities as unknown[])[0] };
    expect(parseWebhookPayload(both)).toMatchObject({ ok: false, errors: [{ path: '$' }] });
    expect(parseWebhookPayload({ ...base, activities: [] })).toMatchObject({
      ok: false,
      errors: [{ path: '$.activities' }],
    });
    expect(parseWebhookPayload([])).toMatchObject({
      ok: false,
      errors: [{ path: '$', message: 'expected an object, got an array' }],
    });
  });
});

describe('activity, message and inbound parsing', () => {
  it('accepts an event activity with a payload and rejects one that also carries a message', () => {
    const event = {
      type: 'event',
      eventTrigger: 'event:bot',
      eventId: 1,
      isEcho: false,
      event: {
        type: 'payload',
        payloadType: 'hubster.transfer',
        payload: { url: 'https://x.example', mount: -1 },
      },
    };
    expect(parseActivity(event).ok).toBe(true);
    expect(parseActivity({ ...event, message: { type: 'text', text: 'x' } })).toMatchObject({
      ok: false,
      errors: [{ path: '$.message' }],
    });
    expect(parseActivity({ ...event, event: { type: 'payload' } })).toMatchObject({
      ok: false,
      errors: [{ path: '$.event.payloadType' }, { path: '$.event.payload' }],
    });
  });

  it('checks every message type by its own rules', () => {
    const good: unknown[] = [
      { type: 'text', items: [{ type: 'image', url: 'u' }] },
      { type: 'youtube', url: 'https://youtube.com/embed/x', length: 10 },
      { type: 'attachment', url: 'u', mimeType: 'application/pdf', label: 'l', size: 3 },
      { type: 'location', latitude: 1.5, longitude: 2 },
      { type: 'contact', title: 't', properties: [{ key: 'k', value: 'v', type: 'phone;cell' }] },
      {
        type: 'card',
        urlType: 'image',
        url: 'u',
        channels: [{ type: 'Webchat', metadata: [{ key: 'caption-show', value: 'true' }] }],
      },
      { type: 'list', items: [{ title: 'a' }], actions: [{ type: 'postback', title: 'b', payload: 'p' }] },
      { type: 'command', title: 'c' },
      // What the engine accepts and delivers must parse (hubster-wire §2.1: liberal on input). Before,
      // each of these was answered 400 by an SDK receiver and retried by the engine to exhaustion.
      { type: 'gif', url: 'u' },
      { type: 'sticker' },
      { type: 'carousel', items: [{ content: 'c' }] },
      { type: 'text', text: 'hi', actions: [{ type: 'call' }] },
      { type: 'text', text: 'hi', actions: [{ type: 'reply', payload: 'P' }] },
      { type: 'text', text: 'hi', channels: [{ type: 'Webchat' }] },
    ];
    for (const message of good)
      expect(parseMessage(message), JSON.stringify(message)).toMatchObject({ ok: true });
    expect(isKnownMessageType('gif')).toBe(false);
    expect(isKnownMessageType('carousel')).toBe(true);
    const bad: [unknown, string][] = [
      [{ type: 'text' }, '$'],
      [{ type: 'location', latitude: 1 }, '$'],
      [{ type: 'attachment', url: 'u', label: 'l' }, '$.mimeType'],
      [{ type: 'carousel', items: [] }, '$.items'],
      [{ type: 'video' }, '$.url'],
      [{ type: 42 }, '$.type'],
      [{ text: 'no type' }, '$.type'],
      [{ type: 'text', text: 'x', actions: [{ type: 'link', title: 't' }] }, '$.actions[0].url'],
    ];
    for (const [message, path] of bad)
      expect(parseMessage(message)).toMatchObject({ ok: false, errors: [{ path }] });
  });

  it('checks an inbound activity before submission', () => {
    expect(parseInboundActivity({ type: 'message', message: { type: 'text', text: 'hi' } }).ok).toBe(true);
    expect(
      parseInboundActivity({ type: 'message', sender: {}, message: { type: 'text', text: 'hi' } }),
    ).toMatchObject({
      ok: false,
      errors: [{ path: '$.sender.integrationId' }],
    });
  });

  it('decodes a body that is not UTF-8 or not JSON into a PayloadError at $', () => {
    expect(() => decodeBody(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(PayloadError);
    expect(() => decodeBody('{"a":')).toThrow(/not JSON/);
    expect(decodeBody(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });
});
