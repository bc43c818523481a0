// @hookster/sdk main entry on Node: node:crypto signing and verification (synchronous).
export type { WebhookBody } from './core/body.js';
export { WebhookVerificationError, isWebhookVerificationError } from './core/errors.js';
export type { WebhookVerificationReason } from './core/errors.js';
export { DEFAULT_TOLERANCE_SECONDS } from './core/standard.js';
export {
  signHubster,
  verifyHubsterSignature,
  signStandard,
  standardSecretFromPrivateKey,
  verifyStandard,
} from './node/sign.js';
export type { StandardHeaders, StandardVerifyOptions } from './node/sign.js';
