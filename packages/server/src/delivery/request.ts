// Builds the signed webhook request of one attempt (DESIGN §3): Hubster's headers and Standard Webhooks'.

import { Buffer } from 'node:buffer';
import { signHubster, signStandard, standardSecretFromPrivateKey } from '@hookster/sdk';
import type { ClaimedDelivery } from '../store/contract.js';
import type { WebhookRequest } from './transport.js';

// whsec_ secrets by private key: derived once per key rather than once per attempt.
const secrets = new Map<string, string>();

function standardSecret(privateKey: string): string {
  let secret = secrets.get(privateKey);
  if (secret === undefined) {
    secret = standardSecretFromPrivateKey(privateKey);
    if (secrets.size >= 10_000) secrets.clear();
    secrets.set(privateKey, secret);
  }
  return secret;
}

/**
 * The exact request for one attempt. The body is the delivery's fixed bytes (identical on every retry);
 * `webhook-timestamp` is the attempt's send time, so the Standard signature is fresh on each attempt.
 */
export function buildWebhookRequest(
  delivery: ClaimedDelivery,
  sourceSystem: string,
  timeoutMs: number,
  nowMs: number,
): WebhookRequest {
  const timestamp = Math.floor(nowMs / 1000);
  // Encoded once: both signatures and the request are made from the same bytes.
  const body = Buffer.from(delivery.body, 'utf8');
  return {
    url: delivery.webhookUrl,
    timeoutMs,
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-source-system': sourceSystem,
      'x-hub-id': delivery.hubId,
      'x-integration-id': delivery.integrationId,
      'x-conversation-id': delivery.conversationId,
      'x-hubster-public-key': delivery.publicSigningKey,
      'x-hubster-signature': signHubster(body, delivery.privateSigningKey),
      'webhook-id': delivery.deliveryId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandard(
        delivery.deliveryId,
        timestamp,
        body,
        standardSecret(delivery.privateSigningKey),
      ),
    },
  };
}
