// node:http and Express adapter: reads the raw body (or takes express.raw()'s Buffer), verifies, answers 403/400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Delivery, Receiver } from '../core/receiver.js';
import type { WebhookBody } from '../core/body.js';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, rejectionOf } from './outcome.js';

export interface NodeHandlerOptions<Req extends IncomingMessage, Res extends ServerResponse> {
  receiver: Receiver;
  /** Called with each verified, parsed delivery. Answer 200 unless it already wrote a response. */
  onDelivery: (delivery: Delivery, req: Req, res: Res) => unknown;
  /** Largest body read; larger requests get 413. Default 5 MiB. */
  maxBodyBytes?: number;
}

/** `(req, res, next?)`: works as a node:http request listener and as Express (4 or 5) middleware. */
export type NodeWebhookHandler<Req extends IncomingMessage, Res extends ServerResponse> = (
  req: Req,
  res: Res,
  next?: (error?: unknown) => void,
) => void;

/**
 * A handler for node:http or Express. Mount it before any JSON body parser (or after `express.raw()`),
 * because the signature covers the exact bytes sent.
 */
export function hooksterNodeHandler<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
>(options: NodeHandlerOptions<Req, Res>): NodeWebhookHandler<Req, Res> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (req, res, next) => {
    void handle(req, res).catch((error: unknown) => {
      const rejection = rejectionOf(error);
      if (rejection !== undefined && !res.headersSent) {
        sendJson(res, rejection.status, rejection.body);
      } else if (next !== undefined) {
        next(error);
      } else if (!res.headersSent) {
        sendJson(res, 500, { error: 'handler_failed', message: 'the delivery handler failed' });
      } else {
        res.destroy(error instanceof Error ? error : undefined);
      }
    });
  };

  async function handle(req: Req, res: Res): Promise<void> {
    const body = await readRawBody(req, limit);
    const delivery = await options.receiver.receive(req.headers, body);
    await options.onDelivery(delivery, req, res);
    if (!res.headersSent && !res.writableEnded) {
      res.statusCode = 200;
      res.end();
    }
  }
}

/**
 * The exact body bytes of a request: the Buffer or string left by express.raw()/express.text(), the
 * `req.rawBody` kept beside a parsed body (Google Cloud Functions, Firebase, an express.json() verify hook),
 * or the stream read to its end. A body parsed into an object without its bytes is refused loudly.
 */
export async function readRawBody(
  req: IncomingMessage,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<WebhookBody> {
  const { body: parsed, rawBody } = req as IncomingMessage & { body?: unknown; rawBody?: unknown };
  if (parsed instanceof Uint8Array || typeof parsed === 'string') return parsed;
  if (rawBody instanceof Uint8Array || typeof rawBody === 'string') return rawBody;
  if (parsed !== undefined && req.readableEnded) {
    throw new Error(
      '@hookster/sdk: the request body was already parsed (express.json()?); mount the webhook route before the JSON parser or use express.raw({ type: "*/*" })',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
