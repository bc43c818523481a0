// Fastify plugin: an encapsulated route whose body parser keeps the raw bytes, verified before the handler runs.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Delivery, Receiver } from '../core/receiver.js';
import { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES, rejectionOf } from './outcome.js';

export interface FastifyWebhookOptions {
  receiver: Receiver;
  /** Route path inside the plugin's prefix. Default `/`. */
  path?: string;
  /** Called with each verified, parsed delivery; answers 200 unless it sent a reply itself. */
  onDelivery: (delivery: Delivery, request: FastifyRequest, reply: FastifyReply) => unknown;
  /** Largest body read; larger requests get 413. Default 5 MiB. */
  maxBodyBytes?: number;
}

/**
 * Register with `app.register(hooksterFastify, { prefix: '/webhooks', receiver, onDelivery })`.
 * Why it is not wrapped in fastify-plugin: encapsulation keeps the raw-body parser inside this route,
 * so the rest of the application still parses JSON as usual.
 */
export const hooksterFastify: FastifyPluginAsync<FastifyWebhookOptions> = async (app, options) => {
  const bodyLimit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  app.removeAllContentTypeParsers();
  // Why an error handler of its own: the body limit is enforced by Fastify before the route runs, so its
  // 413 went through the application's error handler (with Fastify's body, or a 500 from a handler that
  // ignores statusCode) instead of the 413 body_too_large every adapter answers. Other errors (a throwing
  // onDelivery) are thrown on to the application's handler, as before.
  // Async, because Fastify 4 passes an error thrown by an async error handler on to the parent's.
  app.setErrorHandler(async (error: { code?: unknown }, _request, reply) => {
    if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
    const rejection = rejectionOf(new BodyTooLargeError(bodyLimit))!;
    reply.code(rejection.status);
    return rejection.body;
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  app.post(options.path ?? '/', { bodyLimit }, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      const delivery = await options.receiver.receive(request.headers, body);
      const answer = options.onDelivery(delivery, request, reply);
      // Why the reply itself is not awaited: a Fastify reply is a thenable that settles only once it is
      // sent, so awaiting the reply an arrow returned (`reply.header(…)`) would leave the request hanging.
      if (answer !== reply) await answer;
    } catch (error) {
      const rejection = rejectionOf(error);
      if (rejection === undefined) throw error;
      return reply.code(rejection.status).send(rejection.body);
    }
    if (!reply.sent) return reply.code(200).send();
    return reply;
  });
};
