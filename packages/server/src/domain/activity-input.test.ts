// Parsing inbound activities: envelope, message and event sections, error codes listed all at once.
import { describe, expect, it } from 'vitest';
import { parseInboundActivity, withoutNulls } from './activity-input.js';
import type { ErrorItem } from './errors.js';

function errorsOf(body: unknown): ErrorItem[] {
  const result = parseInboundActivity(body);
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.errors;
}

function valueOf(body: unknown) {
  const result = parseInboundActivity(body);
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

function message(m: Record<string, unknown>) {
  return { type: 'message', message: m };
}

const descriptions = (body: unknown) => errorsOf(body).map((e) => e.description);

describe('parseInboundActivity: envelope', () => {
  it('accepts the documented customer text message and keeps externalId', () => {
    const value = valueOf({ type: 'message', externalId: 'crm-1', message: { type: 'text', text: 'Hi' } });
    expect(value).toEqual({ type: 'message', externalId: 'crm-1', message: { type: 'text', text: 'Hi' } });
  });

  it('lower-cases the sender integrationId', () => {
    const value = valueOf({
      type: 'event',
      sender: { integrationId: 'E3B9D5F1-A2C8-4D6E-9F70-01757BD10FA0' },
      event: { type: 'typing_on' },
    });
    expect(value.sender).toEqual({ integrationId: 'e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0' });
  });

  it('answers ENG005000 for a missing or non-object body', () => {
    expect(errorsOf(undefined)).toEqual([
      { code: 5000, description: 'Activity body is required. (code: ENG005000)' },
    ]);
    expect(errorsOf(null)[0]?.code).toBe(5000);
    expect(errorsOf([1, 2])[0]?.description).toBe('Activity body must be a JSON object. (code: ENG005000)');
    expect(errorsOf('text')[0]?.code).toBe(5000);
  });

  it('answers ENG005003 when neither message nor event is present', () => {
    expect(errorsOf({ type: 'message' })).toEqual([
      { code: 5003, description: 'Must contain root.message or root.event. (code: ENG005003)' },
    ]);
  });

  it('answers ENG005004 when both message and event are present', () => {
    const errors = errorsOf({
      type: 'message',
      message: { type: 'text', text: 'a' },
      event: { type: 'seen' },
    });
    expect(errors.map((e) => e.code)).toEqual([5004]);
  });

  it('refuses a type that disagrees with the section present', () => {
    expect(descriptions({ type: 'message', event: { type: 'seen' } })).toEqual([
      "Property 'event' is not allowed when type is 'message': send 'message'. (code: ENG005002)",
    ]);
    expect(errorsOf({ type: 'event', message: { type: 'text', text: 'a' } })[0]?.code).toBe(5002);
  });

  it('lists every envelope problem at once', () => {
    expect(descriptions({ type: 'action', externalId: 5, sender: { integrationId: 'nope' } })).toEqual([
      "Property 'type' must be one of: message, event. (code: ENG005002)",
      "Property 'externalId' must be a string. (code: ENG005002)",
      "Property 'sender.integrationId' must be a GUID. (code: ENG005020)",
      'Must contain root.message or root.event. (code: ENG005003)',
    ]);
  });

  it('requires type', () => {
    expect(descriptions({ message: { type: 'text', text: 'a' } })).toEqual([
      "Property 'type' is required. (code: ENG005001)",
    ]);
  });

  it('treats null members as absent', () => {
    const value = valueOf({
      type: 'message',
      externalId: null,
      event: null,
      message: { type: 'text', text: 'a', items: null },
    });
    expect(value).toEqual({ type: 'message', message: { type: 'text', text: 'a' } });
  });
});

describe('parseInboundActivity: message types', () => {
  it.each([
    { type: 'text', text: 'Hi there!' },
    { type: 'text', actions: [{ type: 'reply', title: 'Yes', payload: 'Y' }] },
    { type: 'text', items: [{ type: 'image', url: 'https://x/i.png' }] },
    { type: 'youtube', url: 'https://youtube.com/embed/abc' },
    { type: 'vimeo', url: 'https://player.vimeo.com/video/1', length: 20 },
    { type: 'video', url: 'https://x/v.mp4', label: 'v', mimeType: 'video/mp4', size: 10 },
    { type: 'audio', url: 'https://x/a.mp3' },
    { type: 'image', url: 'https://x/i.png', alt: 'i', urlAnchor: 'https://x' },
    { type: 'attachment', url: 'https://x/f.pdf', mimeType: 'application/pdf', label: 'f.pdf', size: 3 },
    { type: 'location', address: '1 Main St' },
    { type: 'location', latitude: 45.5, longitude: -73.6 },
    { type: 'contact', title: 'Eva', properties: [{ key: 'phone', value: '555', type: 'phone;cell' }] },
    { type: 'card', title: 'A card' },
    { type: 'card', url: 'https://x/c.png', urlType: 'image' },
    {
      type: 'carousel',
      items: [
        {
          title: 'A',
          urlType: 'image',
          url: 'https://x',
          actions: [{ type: 'link', title: 'More', url: 'https://x' }],
        },
      ],
    },
    { type: 'list', items: [{ title: 'A' }], actions: [{ type: 'postback', title: 'Go', payload: 'GO' }] },
    { type: 'command', title: 'c', properties: [] },
  ])('accepts a valid $type message', (m) => {
    expect(valueOf(message(m)).message).toEqual(m);
  });

  it.each([
    [
      { type: 'text' },
      "Property 'message' needs at least one of 'text', 'items' or 'actions'. (code: ENG005001)",
    ],
    [
      { type: 'text', text: '' },
      "Property 'message' needs at least one of 'text', 'items' or 'actions'. (code: ENG005001)",
    ],
    [{ type: 'youtube' }, "Property 'message.url' is required. (code: ENG005001)"],
    [{ type: 'vimeo', url: '' }, "Property 'message.url' must not be empty. (code: ENG005002)"],
    [{ type: 'video', url: 3 }, "Property 'message.url' must be a string. (code: ENG005002)"],
    [{ type: 'audio' }, "Property 'message.url' is required. (code: ENG005001)"],
    [{ type: 'image' }, "Property 'message.url' is required. (code: ENG005001)"],
    [{ type: 'contact' }, "Property 'message.title' is required. (code: ENG005001)"],
    [
      { type: 'location' },
      "Property 'message' needs an 'address' or both 'latitude' and 'longitude'. (code: ENG005024)",
    ],
    [
      { type: 'location', latitude: 45 },
      "Property 'message' needs an 'address' or both 'latitude' and 'longitude'. (code: ENG005024)",
    ],
    [
      { type: 'location', latitude: 'north', longitude: 3 },
      "Property 'message.latitude' must be a number. (code: ENG005002)",
    ],
    [
      { type: 'carousel', items: [] },
      "Property 'message.items' must contain at least one element. (code: ENG005015)",
    ],
    [{ type: 'list' }, "Property 'message.items' is required. (code: ENG005001)"],
    [
      { type: 'card', url: 'https://x' },
      "Property 'message.urlType' is required when 'url' is given. (code: ENG005001)",
    ],
    [
      { type: 'card', url: 'https://x', urlType: 'gif' },
      "Property 'message.urlType' must be one of: image, youtube, vimeo, video, audio. (code: ENG005002)",
    ],
    [{}, "Property 'message.type' is required. (code: ENG005001)"],
    [{ type: 7 }, "Property 'message.type' must be a string. (code: ENG005002)"],
  ])('refuses %j', (m, description) => {
    expect(descriptions(message(m))).toEqual([description]);
  });

  it('accepts channel metadata of string pairs and refuses other values, as the SDK parses them', () => {
    const channels = (metadata: unknown) => [{ type: 'Webchat', metadata }];
    const ok = message({
      type: 'text',
      text: 'Hi',
      channels: channels([{ key: 'caption-show', value: 'true' }]),
    });
    expect(valueOf(ok).message?.channels).toEqual(channels([{ key: 'caption-show', value: 'true' }]));
    for (const metadata of [[{ key: 'caption-show', value: true }], [{ key: 1, value: 'x' }], [{}], 'x']) {
      expect(errorsOf(message({ type: 'text', text: 'Hi', channels: channels(metadata) }))).not.toEqual([]);
    }
  });

  it('requires url, mimeType and label on an attachment, listing all three', () => {
    expect(descriptions(message({ type: 'attachment' }))).toEqual([
      "Property 'message.url' is required. (code: ENG005001)",
      "Property 'message.mimeType' is required. (code: ENG005001)",
      "Property 'message.label' is required. (code: ENG005001)",
    ]);
  });

  it('validates actions: postback and reply need payload, link needs url', () => {
    const m = {
      type: 'text',
      text: 'Pick',
      actions: [
        { type: 'postback', title: 'a' },
        { type: 'reply', title: 'b' },
        { type: 'link', title: 'c' },
        'x',
      ],
    };
    expect(descriptions(message(m))).toEqual([
      "Property 'message.actions[0].payload' is required. (code: ENG005001)",
      "Property 'message.actions[1].payload' is required. (code: ENG005001)",
      "Property 'message.actions[2].url' is required. (code: ENG005001)",
      "Property 'message.actions[3]' must be an object. (code: ENG005002)",
    ]);
  });

  it('validates nested items of a text message and of a carousel', () => {
    expect(
      descriptions(
        message({
          type: 'text',
          items: [{ type: 'image' }, { type: 'location', address: 'x' }, { type: 'carousel', items: [{}] }],
        }),
      ),
    ).toEqual([
      "Property 'message.items[0].url' is required. (code: ENG005001)",
      "Property 'message.items[2].type' must be one of: youtube, vimeo, video, audio, image, attachment, location, contact, card. (code: ENG005002)",
    ]);
    expect(
      descriptions(
        message({ type: 'carousel', items: [{ title: 1 }, { title: 'b', actions: [{ type: 'link' }] }] }),
      ),
    ).toEqual([
      "Property 'message.items[0].title' must be a string. (code: ENG005002)",
      "Property 'message.items[1].actions[0].url' is required. (code: ENG005001)",
    ]);
  });

  it('accepts Type as an alias of type, in messages, items and actions', () => {
    const value = valueOf(
      message({
        Type: 'text',
        text: 'a',
        actions: [{ Type: 'reply', title: 't', payload: 'p' }],
        items: [{ Type: 'image', url: 'u' }],
      }),
    );
    expect(value.message).toEqual({
      type: 'text',
      text: 'a',
      actions: [{ type: 'reply', title: 't', payload: 'p' }],
      items: [{ type: 'image', url: 'u' }],
    });
  });

  it('accepts the card imageUrl alias of url', () => {
    const value = valueOf(
      message({ type: 'card', urlType: 'image', imageUrl: 'https://x/c.png', title: 't' }),
    );
    expect(value.message).toEqual({ type: 'card', urlType: 'image', url: 'https://x/c.png', title: 't' });
  });

  it('degrades unknown message and action types to {type}', () => {
    expect(valueOf(message({ type: 'sticker', id: 5 })).message).toEqual({ type: 'sticker' });
    const value = valueOf(message({ type: 'text', text: 'a', actions: [{ type: 'share', foo: 1 }] }));
    expect(value.message).toEqual({ type: 'text', text: 'a', actions: [{ type: 'share' }] });
  });

  it('lower-cases the message type', () => {
    expect(valueOf(message({ type: 'Text', text: 'a' })).message).toEqual({ type: 'text', text: 'a' });
  });

  it('passes the wire example of an agent reply with actions through unchanged', () => {
    const m = {
      type: 'text',
      text: 'Bonjour Zoë ☕ — votre commande est en route. Voulez-vous le suivi ?',
      actions: [
        { type: 'reply', title: 'Oui', payload: 'TRACK_YES' },
        { type: 'reply', title: 'Non merci', payload: 'TRACK_NO' },
        { type: 'link', title: 'Suivre le colis', url: 'https://shop.example.com/track/4471' },
      ],
    };
    const body = {
      type: 'message',
      externalId: 'crm-case-88121',
      sender: { integrationId: 'e3b9d5f1-a2c8-4d6e-9f70-01757bd10fa0' },
      message: m,
    };
    expect(valueOf(body).message).toBe(m);
  });
});

describe('parseInboundActivity: events', () => {
  it.each(['seen', 'typing_on', 'typing_off'])('accepts a %s event', (type) => {
    expect(valueOf({ type: 'event', event: { type } }).event).toEqual({ type });
  });

  it('accepts a payload event with payloadType and payload', () => {
    const event = {
      type: 'payload',
      payloadType: 'hubster.transfer',
      payload: { url: 'https://x', mount: 0 },
    };
    expect(valueOf({ type: 'event', event }).event).toEqual(event);
  });

  it('requires payloadType and payload on a payload event', () => {
    expect(descriptions({ type: 'event', event: { type: 'payload' } })).toEqual([
      "Property 'event.payloadType' is required when type is 'payload'. (code: ENG005001)",
      "Property 'event.payload' is required when type is 'payload'. (code: ENG005001)",
    ]);
    expect(
      descriptions({ type: 'event', event: { type: 'payload', payloadType: 'x', payload: [1] } }),
    ).toEqual(["Property 'event.payload' must be an object. (code: ENG005002)"]);
  });

  it('refuses an unknown event type', () => {
    expect(descriptions({ type: 'event', event: { type: 'closed' } })).toEqual([
      "Property 'event.type' must be one of: seen, typing_on, typing_off, payload. (code: ENG005002)",
    ]);
  });

  it('refuses a non-object event or message', () => {
    expect(descriptions({ type: 'event', event: 'seen' })).toEqual([
      "Property 'event' must be an object. (code: ENG005002)",
    ]);
    expect(descriptions({ type: 'message', message: ['x'] })).toEqual([
      "Property 'message' must be an object. (code: ENG005002)",
    ]);
  });
});

describe('withoutNulls', () => {
  it('returns the same object when there is no null', () => {
    const value = { a: 1, b: { c: [1, { d: 'x' }] } };
    expect(withoutNulls(value)).toBe(value);
  });

  it('drops null members at any depth without touching the input', () => {
    const value = { a: null, b: { c: [null, { d: null, e: 1 }] } };
    expect(withoutNulls(value)).toEqual({ b: { c: [null, { e: 1 }] } });
    expect(value.a).toBeNull();
  });
});

describe('hostile input', () => {
  it('drops a __proto__ member instead of inheriting from it', () => {
    const body = JSON.parse(
      '{"__proto__":{"type":"event","x":null},"type":"message","message":{"type":"text","text":"a"}}',
    ) as unknown;
    const value = valueOf(body);
    expect(value.type).toBe('message');
    expect(Object.getPrototypeOf(withoutNulls(body))).toBe(Object.prototype);
  });

  it('refuses JSON nested deeper than 64 levels, wherever it is', () => {
    let payload: unknown = {};
    for (let i = 0; i < 100_000; i++) payload = { a: [payload] };
    const body = { type: 'event', event: { type: 'payload', payloadType: 'x', payload } };
    expect(descriptions(body)).toEqual(['Activity nests deeper than 64 levels. (code: ENG005002)']);
    let shallow: unknown = 'leaf';
    for (let i = 0; i < 30; i++) shallow = { a: [shallow] };
    expect(
      valueOf({ type: 'event', event: { type: 'payload', payloadType: 'x', payload: shallow } }).type,
    ).toBe('event');
  });

  it('reports deeply nested garbage without throwing', () => {
    let nested: unknown = { type: 'text', text: 'x' };
    for (let i = 0; i < 20; i++) nested = { type: 'text', items: [nested] };
    expect(errorsOf(message(nested as Record<string, unknown>))[0]?.code).toBe(5002);
  });
});
