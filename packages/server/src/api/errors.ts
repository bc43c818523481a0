// The single place that turns failures into HTTP responses: HooksterError → `{status, errors}`,
// Fastify's own request errors → their catalogue entry, anything else → logged + a bare 500.

import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errorItem, HooksterError, type ErrorItem, type ErrorName } from '../domain/errors.js';

export interface ErrorResponse {
  status: number;
  errors: ErrorItem[];
}

/** Fastify's error codes for problems of the request itself (never a server fault). */
const FASTIFY_ERRORS: Record<string, { status: number; name: ErrorName; detail?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, name: 'MalformedJson' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, name: 'MissingBody' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, name: 'PayloadTooLarge' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    name: 'UnsupportedMediaType',
    detail: 'Unsupported content type: send application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    name: 'InvalidValue',
    detail: 'Content-Length does not match the body.',
  },
  FST_ERR_NOT_FOUND: { status: 404, name: 'NotFound' },
  FST_ERR_BAD_URL: { status: 400, name: 'InvalidValue', detail: 'The URL is not valid.' },
  // Every path parameter is an id (a GUID, 36 characters): one past the router's 100 is a malformed id.
  FST_ERR_MAX_PARAM_LENGTH: { status: 400, name: 'InvalidGuid', detail: 'An id in the path is not a GUID.' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, name: 'InvalidValue', detail: 'The request is not valid.' },
};

export function errorResponse(status: number, errors: ErrorItem[]): ErrorResponse {
  return { status, errors };
}

/** Maps any thrown value to a response; unknown failures are logged here with their cause. */
export function toErrorResponse(error: unknown, logger: Logger): ErrorResponse {
  if (error instanceof HooksterError) {
    // A server-side failure is logged once here, with the driver's error that caused it.
    if (error.status >= 500) {
      const cause = (error as { cause?: unknown }).cause;
      logger[error.status === 503 ? 'warn' : 'error']({ err: cause ?? error }, error.message);
    }
    return errorResponse(error.status, error.errors);
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  const known = fastifyError?.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) return errorResponse(known.status, [errorItem(known.name, known.detail)]);
  const status = fastifyError?.statusCode;
  // Other 4xx from the HTTP layer are about the request (e.g. secure-json-parse refusing __proto__).
  if (error instanceof SyntaxError) return errorResponse(400, [errorItem('MalformedJson')]);
  if (status === 400) return errorResponse(400, [errorItem('InvalidValue', 'The request is not valid.')]);
  if (status === 413) return errorResponse(413, [errorItem('PayloadTooLarge')]);
  if (status === 415) return errorResponse(415, [errorItem('UnsupportedMediaType')]);
  if (status === 404) return errorResponse(404, [errorItem('NotFound')]);
  if (status === 405) return errorResponse(405, [errorItem('MethodNotAllowed')]);
  logger.error({ err: error }, 'unexpected error while handling a request');
  return errorResponse(500, [errorItem('SystemError')]);
}

/**
 * An answer given before the request's body was read (a 401 from the auth hook, a 404, a 415) closes
 * the connection: the unread rest would otherwise be read on as the next request, or time out into a
 * second, unasked answer on the same connection.
 */
function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) void reply.header('connection', 'close');
}

/** Fastify error handler: the one path every failing request takes. */
export function errorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    closeIfBodyUnread(request, reply);
    const response = toErrorResponse(error, logger);
    if (response.status === 503) void reply.header('retry-after', '1');
    void reply.code(response.status).type('application/json; charset=utf-8').send(response);
  };
}

/** 404 for unknown routes (and wrong methods on known paths, which Fastify treats alike). */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  closeIfBodyUnread(request, reply);
  void reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(errorResponse(404, [errorItem('NotFound', 'No such route.')]));
}

/** A `--role worker` process serves health, readiness and metrics only: say so instead of "no such route". */
export function workerNotFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  closeIfBodyUnread(request, reply);
  void reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(
      errorResponse(404, [
        errorItem(
          'NotFound',
          'This process runs the webhook dispatcher only (--role worker): it serves /healthz, /readyz and /metrics; the HTTP API is served by the api (or all) processes.',
        ),
      ]),
    );
}

/**
 * Malformed HTTP (oversized headers, broken request lines) is refused by Node before Fastify routes the
 * request; the answer still has the error shape, and the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, text] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request was not received in time (HOOKSTER_REQUEST_TIMEOUT).']
        : [400, 'Bad Request', 'Malformed HTTP request.'];
  const body = JSON.stringify(errorResponse(status, [errorItem('InvalidValue', text)]));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}
