// Identifiers in Hubster's formats: sequential GUIDs (v4 with the last 6 bytes = epoch ms) and
// signing keys (32 upper-case hex characters of a random v4 GUID). Randomness comes from the CSPRNG.

import { randomBytes, randomUUID } from 'node:crypto';

/** A v4 GUID whose final 12 hex digits are `now` in milliseconds, big-endian (hubster-wire §1.1). */
export function sequentialGuid(now: number = Date.now()): string {
  const base = randomUUID();
  const tail = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  return base.slice(0, 24) + tail;
}

/** A signing key: a random v4 GUID without dashes, upper case (32 hex characters). */
export function signingKey(): string {
  return randomUUID().replace(/-/g, '').toUpperCase();
}

/** Conversation tokenId: base64 of 16 random bytes (24 characters). */
export function tokenId(): string {
  return randomBytes(16).toString('base64');
}

/** An opaque secret (client secrets, access tokens): 32 random bytes, base64url. */
export function secret(): string {
  return randomBytes(32).toString('base64url');
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID_RE.test(value);
}

/** GUIDs are stored and compared lower-case; upper case is accepted on input. */
export function normalizeGuid(value: string): string {
  return value.toLowerCase();
}
