// Pure Standard Webhooks rules shared by both crypto paths: secret decoding, timestamp tolerance, signature header parsing.
import { decodeBase64 } from './base64.js';
import { WebhookVerificationError } from './errors.js';

/** Default tolerance between webhook-timestamp and the receiver's clock, in both directions. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

/** Key bytes of a Standard Webhooks secret (`whsec_` + base64; the prefix is optional, as in other libraries). */
export function standardKeyBytes(secret: string): Uint8Array {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = decodeBase64(encoded);
  if (key === undefined || key.length === 0) throw new WebhookVerificationError('invalid_secret');
  return key;
}

/**
 * The tolerance option, or the default when absent. Why NaN (e.g. `Number(process.env.X)` of an unset
 * variable) is refused: every comparison with it is false, so no timestamp would ever be too old.
 */
export function toleranceOf(toleranceSeconds: number | undefined): number {
  if (toleranceSeconds === undefined) return DEFAULT_TOLERANCE_SECONDS;
  if (!(toleranceSeconds >= 0)) {
    throw new RangeError(
      `toleranceSeconds must be a number of seconds >= 0, got ${String(toleranceSeconds)}`,
    );
  }
  return toleranceSeconds;
}

/**
 * Checks webhook-timestamp against `nowSeconds` and returns it as a number.
 * Only plain decimal digits are accepted (no sign, fraction or exponent).
 */
export function checkTimestamp(timestamp: string, nowSeconds: number, toleranceSeconds: number): number {
  if (!/^[0-9]{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('bad_timestamp', 'webhook-timestamp');
  }
  const seconds = Number(timestamp);
  if (nowSeconds - seconds > toleranceSeconds) {
    throw new WebhookVerificationError('too_old', 'webhook-timestamp');
  }
  if (seconds - nowSeconds > toleranceSeconds) {
    throw new WebhookVerificationError('too_new', 'webhook-timestamp');
  }
  return seconds;
}

/** The base64 parts of every `v1,` entry of a webhook-signature header (other versions are ignored). */
export function v1Signatures(header: string): string[] {
  if (!header.includes(' ')) return header.startsWith('v1,') && header.length > 3 ? [header.slice(3)] : [];
  const found: string[] = [];
  // Why the trailing comma is dropped: Fetch's Headers.get joins repeated headers with ", ".
  for (const raw of header.split(' ')) {
    const entry = raw.endsWith(',') && raw.length > 3 ? raw.slice(0, -1) : raw;
    if (entry.startsWith('v1,') && entry.length > 3) found.push(entry.slice(3));
  }
  return found;
}

/** Throws missing_header unless the value is a non-empty string. */
export function requireHeader(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new WebhookVerificationError('missing_header', name);
  return value;
}
