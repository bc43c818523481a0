// The webhook HTTP transport on undici: one keep-alive Agent with the egress-guarded connector, one
// overall timeout per attempt, a response excerpt capped while streaming, redirects never followed,
// and every outcome returned as a value (never thrown).

import { Buffer } from 'node:buffer';
import { Agent, type Dispatcher } from 'undici';
import { createEgressGuard, createGuardedConnector } from './egress.js';

/** Largest response excerpt kept on an attempt (DESIGN §2: ≤ 4 KiB). */
export const EXCERPT_BYTES = 4096;

export interface WebhookRequest {
  url: string;
  /** Header names and values; content-length is added by undici. */
  headers: Record<string, string>;
  /** The exact bytes to send. */
  body: string | Buffer;
  /** One bound on connect + request + response headers + response body. */
  timeoutMs: number;
}

export interface TransportOutcome {
  statusCode?: number;
  /** Set when no complete HTTP response was obtained (timeout, refused, reset, DNS, TLS, egress). */
  error?: string;
  /** Raw `Retry-After` header of the response, if any. */
  retryAfter?: string;
  /** The first ≤ 4 KiB of the response body, decoded as UTF-8. */
  excerpt: string;
  durationMs: number;
}

export interface TransportOptions {
  /** CIDRs and host names the egress guard lets through. */
  egressAllow: readonly string[];
  /** Bound on establishing a new connection (the attempt timeout still bounds the whole attempt). */
  connectTimeoutMs: number;
  /** How long an idle keep-alive connection is kept (a server's Keep-Alive hint may lower it). */
  keepAliveTimeoutMs?: number;
}

export interface Transport {
  send(request: WebhookRequest): Promise<TransportOutcome>;
  close(): Promise<void>;
}

interface Target {
  origin: string;
  path: string;
}

export function createTransport(options: TransportOptions): Transport {
  const guard = createEgressGuard(options.egressAllow);
  const agent = new Agent({
    connect: createGuardedConnector(guard, options.connectTimeoutMs),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1,
  });
  // Parsed URLs by webhook URL: the same few endpoints are hit thousands of times per second.
  const targets = new Map<string, Target | string>();

  function target(url: string): Target | string {
    let found = targets.get(url);
    if (found === undefined) {
      found = parseTarget(url);
      if (targets.size >= 10_000) targets.clear();
      targets.set(url, found);
    }
    return found;
  }

  return {
    send(request) {
      const started = performance.now();
      const where = target(request.url);
      if (typeof where === 'string') {
        return Promise.resolve({ error: where, excerpt: '', durationMs: 0 });
      }
      return new Promise<TransportOutcome>((resolve) => {
        const handler = new AttemptHandler(resolve, started, request.timeoutMs);
        try {
          agent.dispatch(
            {
              origin: where.origin,
              path: where.path,
              method: 'POST',
              headers: request.headers,
              body: request.body,
              headersTimeout: request.timeoutMs,
              bodyTimeout: request.timeoutMs,
            },
            handler,
          );
        } catch (error) {
          handler.fail(error);
        }
      });
    },
    close: () => agent.close(),
  };
}

function parseTarget(url: string): Target | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid webhook URL: ${url}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `unsupported URL scheme ${parsed.protocol}`;
  }
  if (parsed.username !== '' || parsed.password !== '') return 'webhook URL must not contain credentials';
  return { origin: parsed.origin, path: parsed.pathname + parsed.search };
}

/** Follows one attempt through undici's handler callbacks and resolves exactly once. */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode: number | undefined;
  private retryAfter: string | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (outcome: TransportOutcome) => void,
    private readonly started: number,
    private readonly timeoutMs: number,
  ) {
    // Why our own timer: undici's connect, headers and body timeouts are per phase; this one bounds
    // the whole attempt, so an attempt always ends well inside its lease.
    this.timer = setTimeout(() => this.expire(), timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('attempt already finished'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    const retryAfter = headers['retry-after'];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= EXCERPT_BYTES) {
      // Why abort: the rest of the body is never read; closing the connection is cheaper than draining it.
      this.finish(undefined);
      controller.abort(new Error('response excerpt complete'));
    }
  }

  onResponseEnd(): void {
    this.finish(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  fail(error: unknown): void {
    this.finish(describeError(error, this.timeoutMs));
  }

  private expire(): void {
    if (this.settled) return;
    this.finish(`timeout after ${this.timeoutMs} ms`);
    this.controller?.abort(new Error('attempt timed out'));
  }

  private finish(error: string | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const outcome: TransportOutcome = {
      excerpt: this.excerpt(),
      durationMs: Math.round(performance.now() - this.started),
    };
    if (this.statusCode !== undefined) outcome.statusCode = this.statusCode;
    if (error !== undefined) outcome.error = error;
    if (this.retryAfter !== undefined) outcome.retryAfter = this.retryAfter;
    this.chunks = [];
    this.resolve(outcome);
  }

  private excerpt(): string {
    if (this.size === 0) return '';
    const first = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return first ? utf8Excerpt(first, EXCERPT_BYTES) : '';
  }
}

/** The longest prefix of at most `limit` bytes that ends on a character boundary of `bytes`. */
function boundaryPrefix(bytes: Buffer, limit: number): Buffer {
  if (bytes.length <= limit) return bytes;
  let end = limit;
  // Back off over continuation bytes (10xxxxxx) to the lead byte of the cut character, and drop it.
  while (end > 0 && end > limit - 3 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * A response body as text of at most `limit` UTF-8 bytes: no character cut in two (which would show as
 * U+FFFD), and bytes that are not UTF-8 — each shown as U+FFFD, three bytes — counted as they are stored.
 * NUL is shown as U+FFFD too: PostgreSQL text cannot hold it, and an attempt whose excerpt cannot be
 * stored would never be recorded (sent again at every lease expiry, with the batch recorded with it).
 */
export function utf8Excerpt(bytes: Buffer, limit: number): string {
  const text = boundaryPrefix(bytes, limit).toString('utf8').replaceAll('\u0000', '\ufffd');
  if (Buffer.byteLength(text) <= limit) return text;
  // Replacement characters made it longer: cut the (now valid) UTF-8 again.
  return boundaryPrefix(Buffer.from(text, 'utf8'), limit).toString('utf8');
}

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the receiver',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** A short, stable reason for a failed attempt: what the notification and the delivery log show. */
export function describeError(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'HOOKSTER_EGRESS_REFUSED') return error.message;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return `timeout after ${timeoutMs} ms`;
  if (typeof code === 'string') {
    const text = ERROR_TEXT[code];
    if (text !== undefined) return `${text} (${code})`;
    if (code.startsWith('ERR_TLS') || /CERT|SSL|TLS/.test(code))
      return `TLS error: ${error.message} (${code})`;
    return `${error.message} (${code})`;
  }
  return error.message;
}
