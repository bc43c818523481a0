// A hub client written by hand on `ws`, speaking the SignalR JSON protocol directly (no SignalR
// library): it proves the wire format, and it is light enough to open a thousand of.

import WebSocket from 'ws';

const RS = '\x1e';

export interface HubMessage {
  type: number;
  target?: string;
  arguments?: unknown[];
  error?: string;
  allowReconnect?: boolean;
  invocationId?: string;
}

export interface RawHubClient {
  ws: WebSocket;
  /** Every record after the handshake answer, parsed. */
  messages: HubMessage[];
  /** The first argument of every ReceiveDirectActivities invocation. */
  activities: Record<string, unknown>[];
  /** Resolves when `predicate` holds for the received state, rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(text: string): void;
  close(): void;
}

export interface ConnectOptions {
  token?: string;
  /** Send the token as `access_token` in the query instead of the Authorization header. */
  tokenInQuery?: boolean;
  iId: string;
  cId?: string;
  /** Skip the automatic handshake (to test handshake errors). */
  handshake?: string | null;
}

export function hubUrl(baseUrl: string, options: ConnectOptions): string {
  const url = new URL('/engine-chat-hub', baseUrl.replace(/^http/, 'ws'));
  url.searchParams.set('iId', options.iId);
  if (options.cId) url.searchParams.set('cId', options.cId);
  if (options.token && options.tokenInQuery) url.searchParams.set('access_token', options.token);
  return url.toString();
}

/** Opens the websocket; resolves after the handshake answer `{}` (or rejects with the HTTP status). */
export function connectRawHub(baseUrl: string, options: ConnectOptions): Promise<RawHubClient> {
  const headers: Record<string, string> = {};
  if (options.token && !options.tokenInQuery) headers.authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(hubUrl(baseUrl, options), { headers });
  const messages: HubMessage[] = [];
  const activities: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  let handshakeAnswer: string | undefined;

  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const waiter of [...waiters]) waiter();
    });
  });

  const client: RawHubClient = {
    ws,
    messages,
    activities,
    closed,
    send: (text) => ws.send(text),
    close: () => ws.close(),
    waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };

  ws.on('message', (data: Buffer) => {
    pending += data.toString('utf8');
    const parts = pending.split(RS);
    pending = parts.pop() ?? '';
    for (const record of parts) {
      if (handshakeAnswer === undefined) {
        handshakeAnswer = record;
        continue;
      }
      const message = JSON.parse(record) as HubMessage;
      messages.push(message);
      if (message.type === 1 && message.target === 'ReceiveDirectActivities') {
        activities.push(message.arguments?.[0] as Record<string, unknown>);
      }
    }
    for (const waiter of [...waiters]) waiter();
  });

  return new Promise<RawHubClient>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })),
      );
    });
    ws.once('error', reject);
    ws.once('open', () => {
      if (options.handshake === null) {
        resolve(client);
        return;
      }
      ws.send((options.handshake ?? '{"protocol":"json","version":1}') + RS);
      client
        .waitFor(() => handshakeAnswer !== undefined, 10_000, 'the handshake answer')
        .then(() => {
          if (handshakeAnswer === '{}') resolve(client);
          else reject(new Error(`handshake refused: ${handshakeAnswer}`));
        }, reject);
    });
  });
}

/** The handshake answer of a connection opened with `handshake: null`, after sending `text`. */
export function firstRecord(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error('no record within 10 s')), 10_000);
    ws.on('message', (data: Buffer) => {
      pending += data.toString('utf8');
      const end = pending.indexOf(RS);
      if (end >= 0) {
        clearTimeout(timer);
        resolve(pending.slice(0, end));
      }
    });
    ws.send(text);
  });
}
