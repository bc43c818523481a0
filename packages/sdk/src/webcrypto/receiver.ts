// The receiver on WebCrypto.
import { utf8Bytes } from '../core/body.js';
import { createReceiverWith, type Receiver, type ReceiverOptions } from '../core/receiver.js';
import { standardMatches, verifyHubsterSignature } from './sign.js';

const webBackend = {
  hubsterMatches: verifyHubsterSignature,
  standardMatches: (
    id: string,
    timestamp: string,
    body: Uint8Array | string,
    signatures: string[],
    privateKey: string,
  ) => standardMatches(id, timestamp, body, signatures, utf8Bytes(privateKey)),
};

/** A receiver that verifies deliveries with WebCrypto (any runtime with `crypto.subtle`). */
export function createReceiver(options: ReceiverOptions): Receiver {
  return createReceiverWith(webBackend, options);
}
