// @hookster/sdk/fastify: the Fastify plugin.
export { hooksterFastify } from './adapters/fastify.js';
export type { FastifyWebhookOptions } from './adapters/fastify.js';
