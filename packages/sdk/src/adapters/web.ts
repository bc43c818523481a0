// Web `Request` adapter for Hono, Next.js route handlers, Cloudflare Workers, Deno and Bun.
import type { Delivery, Receiver } from '../core/receiver.js';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, rejectionOf } from './outcome.js';

export interface WebHandlerOptions {
  receiver: Receiver;
  /** Called with each verified, parsed delivery. A returned Response is sent; otherwise 200. */
  onDelivery: (
    delivery: Delivery,
    request: Request,
  ) => Response | void | undefined | Promise<Response | void | undefined>;
  /** Largest body read; larger requests get 413. Default 5 MiB. */
  maxBodyBytes?: number;
}

/** `(request) => Promise<Response>`: answers 403 on a bad signature, 400 on a bad payload. */
export function hooksterWebHandler(options: WebHandlerOptions): (request: Request) => Promise<Response> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (request) => {
    try {
      const body = await readRequestBody(request, limit);
      const delivery = await options.receiver.receive(request.headers, body);
      return (await options.onDelivery(delivery, request)) ?? new Response(null, { status: 200 });
    } catch (error) {
      const rejection = rejectionOf(error);
      if (rejection === undefined) throw error;
      return Response.json(rejection.body, { status: rejection.status });
    }
  };
}

/** The exact bytes of a Fetch request body, refusing more than `maxBytes`. */
export async function readRequestBody(
  request: Request,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  if (request.bodyUsed || request.body.locked) {
    // Why an explicit error (like the Node adapter's for a parsed body): the stream's own TypeError
    // ("ReadableStream is locked") does not say that a middleware read the bytes the signature covers.
    throw new Error(
      '@hookster/sdk: the request body was already read (request.json()? Hono c.req.json() in a middleware?); hand the handler the Request before anything reads its body',
    );
  }
  // Counted while streaming: a body without content-length (chunked) that grows past the limit is
  // refused as soon as it does, not after being read into memory whole (or never, if it is endless).
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
