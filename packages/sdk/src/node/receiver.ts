// The receiver on node:crypto.
import { createReceiverWith, type Receiver, type ReceiverOptions } from '../core/receiver.js';
import { standardMatches, verifyHubsterSignature } from './sign.js';

const nodeBackend = {
  hubsterMatches: verifyHubsterSignature,
  standardMatches: (
    id: string,
    timestamp: string,
    body: Uint8Array | string,
    signatures: string[],
    privateKey: string,
  ) => standardMatches(id, timestamp, body, signatures, privateKey),
};

/**
 * A receiver that verifies deliveries with node:crypto. The private key is found by the
 * x-hubster-public-key header through `options.keys` (a callback, map, record or single key).
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  return createReceiverWith(nodeBackend, options);
}
