// The SignalR JSON hub protocol, version 1 (hubster-wire §6): record-separated JSON frames. Pure.

/** Every JSON record ends with this byte (ASCII record separator). */
export const RECORD_SEPARATOR = '\x1e';

/** Message types of the hub protocol. */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

/** The server → client method that carries one bare activity. */
export const RECEIVE_METHOD = 'ReceiveDirectActivities';

export const HANDSHAKE_OK_FRAME = `{}${RECORD_SEPARATOR}`;
export const PING_FRAME = `{"type":6}${RECORD_SEPARATOR}`;

/** Splits received text into complete records; `rest` is an unterminated tail to keep for the next frame. */
export function splitRecords(buffered: string): { records: string[]; rest: string } {
  const parts = buffered.split(RECORD_SEPARATOR);
  const rest = parts.pop() ?? '';
  return { records: parts, rest };
}

export type HandshakeResult = { ok: true } | { ok: false; error: string };

/** Validates the client's handshake record (`{"protocol":"json","version":1}`). */
export function parseHandshake(record: string): HandshakeResult {
  let value: unknown;
  try {
    value = JSON.parse(record);
  } catch {
    return { ok: false, error: 'Handshake request is not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null) {
    return { ok: false, error: 'Handshake request must be a JSON object.' };
  }
  const { protocol, version } = value as { protocol?: unknown; version?: unknown };
  if (typeof protocol !== 'string') return { ok: false, error: 'Handshake request is missing "protocol".' };
  if (protocol !== 'json') return { ok: false, error: `The protocol '${protocol}' is not supported.` };
  if (version !== 1)
    return {
      ok: false,
      error: `The server does not support version ${String(version)} of the 'json' protocol.`,
    };
  return { ok: true };
}

export function handshakeErrorFrame(error: string): string {
  return JSON.stringify({ error }) + RECORD_SEPARATOR;
}

/**
 * A close message. With `error` the client surfaces it ("Server returned an error on close"); with
 * `allowReconnect` a client configured for automatic reconnect reconnects instead of stopping.
 */
export function closeFrame(error?: string, allowReconnect = false): string {
  const message: { type: number; error?: string; allowReconnect?: true } = { type: MessageType.Close };
  if (error !== undefined) message.error = error;
  if (allowReconnect) message.allowReconnect = true;
  return JSON.stringify(message) + RECORD_SEPARATOR;
}

/**
 * The push of one activity. The activity JSON is spliced in as-is (already serialised once by the
 * store), so a frame is built once per activity and shared by every connection.
 */
export function invocationFrame(activityJson: string): string {
  return `{"type":1,"target":"${RECEIVE_METHOD}","arguments":[${activityJson}]}${RECORD_SEPARATOR}`;
}

/** The echo copy: the first `"isEcho":false` of the serialised activity becomes true. */
export function echoActivityJson(activityJson: string): string {
  return activityJson.replace('"isEcho":false', '"isEcho":true');
}

/** What the server does with one record received after the handshake. */
export type ClientMessage =
  | { kind: 'ignore' }
  | { kind: 'close' }
  | { kind: 'reply'; frame: string }
  | { kind: 'invalid'; error: string };

/**
 * Interprets a client record. The hub has no client-callable methods: an invocation that expects an
 * answer gets a completion with an error; pings, acks and cancellations need nothing.
 */
export function interpretClientRecord(record: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(record);
  } catch {
    return { kind: 'invalid', error: 'Message is not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null)
    return { kind: 'invalid', error: 'Message must be a JSON object.' };
  const message = value as { type?: unknown; invocationId?: unknown; target?: unknown };
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation: {
      if (typeof message.invocationId !== 'string') return { kind: 'ignore' };
      const target = typeof message.target === 'string' ? message.target : '';
      const frame =
        JSON.stringify({
          type: MessageType.Completion,
          invocationId: message.invocationId,
          error: `Failed to invoke '${target}' because it does not exist.`,
        }) + RECORD_SEPARATOR;
      return { kind: 'reply', frame };
    }
    case MessageType.Close:
      return { kind: 'close' };
    case MessageType.Ping:
    case MessageType.StreamItem:
    case MessageType.Completion:
    case MessageType.CancelInvocation:
    case MessageType.Ack:
    case MessageType.Sequence:
      return { kind: 'ignore' };
    default:
      return { kind: 'invalid', error: `Unknown message type '${String(message.type)}'.` };
  }
}
