// The SignalR JSON hub protocol helpers: framing, handshake, frames, client records.

import { describe, expect, it } from 'vitest';
import {
  RECORD_SEPARATOR,
  closeFrame,
  echoActivityJson,
  interpretClientRecord,
  invocationFrame,
  parseHandshake,
  splitRecords,
} from './protocol.js';

describe('SignalR JSON hub protocol', () => {
  it('splits several records of one frame and keeps an unterminated tail', () => {
    const { records, rest } = splitRecords(`{"type":6}${RECORD_SEPARATOR}{"type":6}${RECORD_SEPARATOR}{"ty`);
    expect(records).toEqual(['{"type":6}', '{"type":6}']);
    expect(rest).toBe('{"ty');
  });

  it('accepts the json protocol version 1 handshake and refuses others', () => {
    expect(parseHandshake('{"protocol":"json","version":1}')).toEqual({ ok: true });
    expect(parseHandshake('{"protocol":"messagepack","version":1}')).toEqual({
      ok: false,
      error: "The protocol 'messagepack' is not supported.",
    });
    expect(parseHandshake('{"protocol":"json","version":2}').ok).toBe(false);
    expect(parseHandshake('not json').ok).toBe(false);
  });

  it('wraps the bare activity in a ReceiveDirectActivities invocation without an invocation id', () => {
    const activity = '{"type":"message","eventId":1,"isEcho":false,"message":{"type":"text","text":"é"}}';
    const frame = invocationFrame(activity);
    expect(frame.endsWith(RECORD_SEPARATOR)).toBe(true);
    expect(JSON.parse(frame.slice(0, -1))).toEqual({
      type: 1,
      target: 'ReceiveDirectActivities',
      arguments: [JSON.parse(activity)],
    });
  });

  it('marks only the activity-level isEcho of the echo copy', () => {
    const activity =
      '{"type":"message","isEcho":false,"message":{"type":"text","text":"\\"isEcho\\":false"}}';
    const echo = JSON.parse(echoActivityJson(activity)) as { isEcho: boolean; message: { text: string } };
    expect(echo.isEcho).toBe(true);
    expect(echo.message.text).toBe('"isEcho":false');
  });

  it('writes close messages with an error and a reconnect permission', () => {
    expect(closeFrame()).toBe(`{"type":7}${RECORD_SEPARATOR}`);
    expect(JSON.parse(closeFrame('bye', true).slice(0, -1))).toEqual({
      type: 7,
      error: 'bye',
      allowReconnect: true,
    });
  });

  it('answers a blocking invocation of an unknown method with a completion error and ignores pings', () => {
    expect(interpretClientRecord('{"type":6}')).toEqual({ kind: 'ignore' });
    expect(interpretClientRecord('{"type":1,"target":"Send","arguments":[]}')).toEqual({ kind: 'ignore' });
    const reply = interpretClientRecord('{"type":1,"invocationId":"7","target":"Send","arguments":[]}');
    expect(reply.kind).toBe('reply');
    if (reply.kind === 'reply') {
      expect(JSON.parse(reply.frame.slice(0, -1))).toMatchObject({ type: 3, invocationId: '7' });
    }
    expect(interpretClientRecord('{"type":7}')).toEqual({ kind: 'close' });
    expect(interpretClientRecord('{"type":42}').kind).toBe('invalid');
    expect(interpretClientRecord('[').kind).toBe('invalid');
  });
});
