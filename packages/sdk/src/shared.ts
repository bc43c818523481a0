// Exports that are the same on every runtime: errors, header names, receiver types, payload types and parser.
export type { WebhookBody } from './core/body.js';
export { WebhookVerificationError, isWebhookVerificationError } from './core/errors.js';
export type { WebhookVerificationReason } from './core/errors.js';
export { HEADER, readHeader } from './core/headers.js';
export type { HeaderSource } from './core/headers.js';
export { DEFAULT_TOLERANCE_SECONDS } from './core/standard.js';
export type { StandardHeaders, StandardVerifyOptions } from './core/standard-types.js';
export type {
  Delivery,
  PrivateKeyLookup,
  Receiver,
  ReceiverOptions,
  SignatureScheme,
  VerifiedRequest,
} from './core/receiver.js';
export {
  PayloadError,
  decodeBody,
  parseActivity,
  parseInboundActivity,
  parseMessage,
  parseWebhookPayload,
} from './payload/parse.js';
export type { ParseResult, PayloadIssue } from './payload/parse.js';
export type * from './payload/types.js';
export * from './payload/vocabulary.js';
export { HooksterClient, HooksterApiError } from './client/client.js';
export type { HooksterClientOptions } from './client/client.js';
