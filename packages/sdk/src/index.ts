// @hookster/sdk on Node: node:crypto signing and verification (synchronous) plus the runtime-neutral API.
export * from './shared.js';
export {
  signHubster,
  verifyHubsterSignature,
  signStandard,
  standardSecretFromPrivateKey,
  verifyStandard,
} from './node/sign.js';
export { createReceiver } from './node/receiver.js';
