// Hubster and Standard Webhooks signing and verification on WebCrypto (async): Deno, Bun, Workers, browsers.
import { encodeBase64 } from '../core/base64.js';
import { sameBase64 } from '../core/compare.js';
import { bodyBytes, utf8Bytes, type WebhookBody } from '../core/body.js';
import { WebhookVerificationError } from '../core/errors.js';
import {
  toleranceOf,
  checkTimestamp,
  requireHeader,
  standardKeyBytes,
  v1Signatures,
} from '../core/standard.js';
import type { StandardHeaders, StandardVerifyOptions } from '../core/standard-types.js';

const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const;
const KEY_CACHE_LIMIT = 256;

// Why a cache: importKey costs about as much as the HMAC of a small body; receivers see few keys.
const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(raw: Uint8Array, cacheId: string): Promise<CryptoKey> {
  let key = keyCache.get(cacheId);
  if (key === undefined) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    key = crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, HMAC, false, ['sign']);
    keyCache.set(cacheId, key);
  }
  return key;
}

async function hmac(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data as Uint8Array<ArrayBuffer>));
}

function hubsterKey(privateKey: string): Promise<CryptoKey> {
  return importKey(utf8Bytes(privateKey), `h:${privateKey}`);
}

function standardKey(keyBytes: Uint8Array): Promise<CryptoKey> {
  return importKey(keyBytes, `s:${encodeBase64(keyBytes)}`);
}

function standardContent(id: string, timestamp: string, body: WebhookBody): Uint8Array {
  const prefix = utf8Bytes(`${id}.${timestamp}.`);
  const bytes = bodyBytes(body);
  const content = new Uint8Array(prefix.length + bytes.length);
  content.set(prefix, 0);
  content.set(bytes, prefix.length);
  return content;
}

function sameDigest(expected: Uint8Array, signature: string): boolean {
  return sameBase64(encodeBase64(expected), signature);
}

/** `base64(HMAC-SHA256(key = UTF-8 bytes of privateKey, message = raw body))`. */
export async function signHubster(body: WebhookBody, privateKey: string): Promise<string> {
  return encodeBase64(await hmac(await hubsterKey(privateKey), bodyBytes(body)));
}

/**
 * True when `signature` is the Hubster signature of `body` under `privateKey` (constant-time comparison).
 * Rejects with WebhookVerificationError `invalid_secret` for an empty key, under which anyone can sign.
 */
export async function verifyHubsterSignature(
  body: WebhookBody,
  signature: string,
  privateKey: string,
): Promise<boolean> {
  if (privateKey === '') throw new WebhookVerificationError('invalid_secret');
  return sameDigest(await hmac(await hubsterKey(privateKey), bodyBytes(body)), signature);
}

/** The Standard Webhooks secret (`whsec_` + base64 of the UTF-8 key bytes) that matches a Hubster private key. */
export function standardSecretFromPrivateKey(privateKey: string): string {
  return `whsec_${encodeBase64(utf8Bytes(privateKey))}`;
}

/** The webhook-signature value `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for a `whsec_` secret. */
export async function signStandard(
  id: string,
  timestamp: number | string,
  body: WebhookBody,
  secret: string,
): Promise<string> {
  const key = await standardKey(standardKeyBytes(secret));
  return `v1,${encodeBase64(await hmac(key, standardContent(id, String(timestamp), body)))}`;
}

/** True when one of the base64 `signatures` is the v1 digest of "id.timestamp.body" under the key bytes. */
export async function standardMatches(
  id: string,
  timestamp: string,
  body: WebhookBody,
  signatures: readonly string[],
  keyBytes: Uint8Array,
): Promise<boolean> {
  const expected = await hmac(await standardKey(keyBytes), standardContent(id, timestamp, body));
  let matched = false;
  for (const candidate of signatures) matched = sameDigest(expected, candidate) || matched;
  return matched;
}

/** Verifies a Standard Webhooks request; rejects with WebhookVerificationError and its reason otherwise. */
export async function verifyStandard(
  headers: StandardHeaders,
  body: WebhookBody,
  secret: string,
  options: StandardVerifyOptions = {},
): Promise<void> {
  const id = requireHeader(headers.id, 'webhook-id');
  const timestamp = requireHeader(headers.timestamp, 'webhook-timestamp');
  const signature = requireHeader(headers.signature, 'webhook-signature');
  const key = standardKeyBytes(secret);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  checkTimestamp(timestamp, nowSeconds, toleranceOf(options.toleranceSeconds));
  if (await standardMatches(id, timestamp, body, v1Signatures(signature), key)) return;
  throw new WebhookVerificationError('bad_signature', 'webhook-signature');
}
