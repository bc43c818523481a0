// @hookster/sdk/node: the node:http and Express adapter.
export { hooksterNodeHandler, readRawBody } from './adapters/node.js';
export type { NodeHandlerOptions, NodeWebhookHandler } from './adapters/node.js';
export { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './adapters/outcome.js';
