// @hookster/sdk on WebCrypto (Deno, Bun, Workers, browsers): the same names as the Node entry, returning promises.
export * from './shared.js';
export {
  signHubster,
  verifyHubsterSignature,
  signStandard,
  standardSecretFromPrivateKey,
  verifyStandard,
} from './webcrypto/sign.js';
export { createReceiver } from './webcrypto/receiver.js';
