// @hookster/sdk/web: the Web Request adapter (Hono, Next.js, Workers, Deno, Bun).
export { hooksterWebHandler, readRequestBody } from './adapters/web.js';
export type { WebHandlerOptions } from './adapters/web.js';
export { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './adapters/outcome.js';
