// A real webhook receiver on 127.0.0.1:0 that records every request (raw body bytes and headers) and
// answers with scriptable status codes, for delivery tests.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query string as received. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The exact body bytes. */
  raw: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  receivedAt: number;
  /** The body parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (e.g. to provoke the delivery timeout). */
  delayMs?: number;
}

/** Decides the answer to the n-th request (0-based); a number is a status code. */
export type Responder = (request: ReceivedRequest, index: number) => number | Reply;

export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:41234 — any path is accepted. */
  url: string;
  requests: ReceivedRequest[];
  /** Replaces how the next requests are answered. */
  respond(responder: Responder | number): void;
  /** Resolves with the requests once at least `count` arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(responder: Responder | number = 200): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let current: Responder = typeof responder === 'number' ? () => responder : responder;
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        text,
        receivedAt: Date.now(),
        json: <T>() => JSON.parse(text) as T,
      };
      const index = requests.length;
      requests.push(received);
      for (const wake of waiters) wake();
      const answer = current(received, index);
      const reply: Reply = typeof answer === 'number' ? { status: answer } : answer;
      const send = (): void => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(next) {
      current = typeof next === 'number' ? () => next : next;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const wake = (): void => {
          if (requests.length < count) return;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(requests.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`receiver got ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
