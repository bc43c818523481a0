// Hubster and Standard Webhooks signing and verification on node:crypto: synchronous, no dependency.
import { createHmac } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { WebhookBody } from '../core/body.js';
import { sameBase64 } from '../core/compare.js';
import { WebhookVerificationError } from '../core/errors.js';
import {
  toleranceOf,
  checkTimestamp,
  requireHeader,
  standardKeyBytes,
  v1Signatures,
} from '../core/standard.js';
import type { StandardHeaders, StandardVerifyOptions } from '../core/standard-types.js';

/** `base64(HMAC-SHA256(key = UTF-8 bytes of privateKey, message = raw body))`: the x-hubster-signature value. */
export function signHubster(body: WebhookBody, privateKey: string): string {
  return createHmac('sha256', privateKey).update(body).digest('base64');
}

/**
 * True when `signature` is the Hubster signature of `body` under `privateKey` (constant-time comparison).
 * Throws WebhookVerificationError `invalid_secret` for an empty key, under which anyone can sign.
 */
export function verifyHubsterSignature(body: WebhookBody, signature: string, privateKey: string): boolean {
  if (privateKey === '') throw new WebhookVerificationError('invalid_secret');
  return sameBase64(createHmac('sha256', privateKey).update(body).digest('base64'), signature);
}

/** The Standard Webhooks secret (`whsec_` + base64 of the UTF-8 key bytes) that matches a Hubster private key. */
export function standardSecretFromPrivateKey(privateKey: string): string {
  return `whsec_${Buffer.from(privateKey, 'utf8').toString('base64')}`;
}

/** The webhook-signature value `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for a `whsec_` secret. */
export function signStandard(
  id: string,
  timestamp: number | string,
  body: WebhookBody,
  secret: string,
): string {
  return `v1,${standardDigest(id, String(timestamp), body, secretKey(secret))}`;
}

/**
 * Verifies a Standard Webhooks request: headers present, timestamp within tolerance, and at least one
 * `v1` signature in the header matching. Throws WebhookVerificationError with the reason otherwise.
 */
export function verifyStandard(
  headers: StandardHeaders,
  body: WebhookBody,
  secret: string,
  options: StandardVerifyOptions = {},
): void {
  const id = requireHeader(headers.id, 'webhook-id');
  const timestamp = requireHeader(headers.timestamp, 'webhook-timestamp');
  const signature = requireHeader(headers.signature, 'webhook-signature');
  const key = secretKey(secret);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  checkTimestamp(timestamp, nowSeconds, toleranceOf(options.toleranceSeconds));
  if (standardMatches(id, timestamp, body, v1Signatures(signature), key)) return;
  throw new WebhookVerificationError('bad_signature', 'webhook-signature');
}

/** True when one of the base64 `signatures` is the v1 digest of "id.timestamp.body" under `key`. */
export function standardMatches(
  id: string,
  timestamp: string,
  body: WebhookBody,
  signatures: readonly string[],
  key: string | Uint8Array,
): boolean {
  const expected = standardDigest(id, timestamp, body, key);
  let matched = false;
  // Why every candidate is compared: stopping early would reveal which position matched.
  for (const candidate of signatures) matched = sameBase64(expected, candidate) || matched;
  return matched;
}

function standardDigest(id: string, timestamp: string, body: WebhookBody, key: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

const SECRET_CACHE_LIMIT = 256;
// Why a cache: decoding the whsec_ secret costs a tenth of a 1 KiB verification; receivers reuse few secrets.
const secretCache = new Map<string, Buffer>();

function secretKey(secret: string): Buffer {
  let key = secretCache.get(secret);
  if (key === undefined) {
    key = Buffer.from(standardKeyBytes(secret));
    if (secretCache.size >= SECRET_CACHE_LIMIT) secretCache.clear();
    secretCache.set(secret, key);
  }
  return key;
}
