// Webhook bodies rebuilt from stored parts, byte for byte against the shared signature vectors.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { hubsterVectors, splitVectorBody } from '../../test/delivery/vectors.js';
import { buildBody } from './body.js';

describe('buildBody', () => {
  it('rebuilds every vector body byte for byte', () => {
    expect(hubsterVectors.length).toBeGreaterThanOrEqual(3);
    for (const vector of hubsterVectors) {
      const { envelope, activitiesJson } = splitVectorBody(vector);
      const body = buildBody(envelope, activitiesJson);
      expect(body).toBe(vector.body);
      expect(Buffer.byteLength(body)).toBe(vector.bodyByteLength);
    }
  });

  it('marks echo copies with isEcho true and leaves nested text alone', () => {
    const activity = JSON.stringify({
      type: 'message',
      eventId: 1,
      isEcho: false,
      message: { type: 'text', text: '"isEcho":false' },
    });
    const body = buildBody(
      {
        hubId: 'h',
        tenantId: 't',
        integrationId: 'i',
        conversationId: 'c',
        conversationPropertiesJson: '{"profile":{},"additional":{}}',
        shape: 'activity',
        echo: true,
      },
      [activity],
    );
    const parsed = JSON.parse(body) as { activity: { isEcho: boolean; message: { text: string } } };
    expect(parsed.activity.isEcho).toBe(true);
    expect(parsed.activity.message.text).toBe('"isEcho":false');
  });

  it('keeps activities in the given order in a System body', () => {
    const body = buildBody(
      {
        hubId: 'h',
        tenantId: 't',
        integrationId: 'i',
        conversationId: 'c',
        conversationPropertiesJson: '{}',
        shape: 'activities',
        echo: false,
      },
      ['{"eventId":1}', '{"eventId":2}', '{"eventId":3}'],
    );
    expect(body).toBe(
      '{"hubId":"h","tenantId":"t","integrationId":"i","conversationId":"c","conversationProperties":{},' +
        '"activities":[{"eventId":1},{"eventId":2},{"eventId":3}]}',
    );
  });

  it('refuses a Direct body with several activities', () => {
    const envelope = {
      hubId: 'h',
      tenantId: 't',
      integrationId: 'i',
      conversationId: 'c',
      conversationPropertiesJson: '{}',
      shape: 'activity' as const,
      echo: false,
    };
    expect(() => buildBody(envelope, ['{}', '{}'])).toThrow(/exactly one/);
  });
});
