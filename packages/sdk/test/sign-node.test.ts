// The node:crypto path against every shared vector.
import { describe, expect, it } from 'vitest';
import {
  signHubster,
  signStandard,
  standardSecretFromPrivateKey,
  verifyHubsterSignature,
  verifyStandard,
  WebhookVerificationError,
} from '../src/index.js';
import { hubsterVectors, standardVectors } from './vectors.js';

describe('node:crypto Hubster scheme', () => {
  it('signs every micro vector and every full vector as given', () => {
    for (const v of hubsterVectors.micro) expect(signHubster(v.body, v.privateSigningKey)).toBe(v.signature);
    for (const v of hubsterVectors.vectors) {
      expect(signHubster(v.body, v.privateSigningKey)).toBe(v.expectedSignature);
      expect(signHubster(Buffer.from(v.body), v.privateSigningKey)).toBe(v.headers['x-hubster-signature']);
      expect(
        verifyHubsterSignature(new TextEncoder().encode(v.body), v.expectedSignature, v.privateSigningKey),
      ).toBe(true);
    }
  });

  it('rejects every negative signature of every vector', () => {
    for (const v of hubsterVectors.vectors) {
      for (const bad of Object.values(v.negativeSignatures)) {
        expect(verifyHubsterSignature(v.body, bad, v.privateSigningKey)).toBe(false);
      }
      expect(verifyHubsterSignature(v.body, v.expectedSignature, v.publicSigningKey)).toBe(false);
      expect(verifyHubsterSignature(`${v.body}\n`, v.expectedSignature, v.privateSigningKey)).toBe(false);
    }
  });
});

describe('node:crypto Standard Webhooks scheme', () => {
  const { secret, cases, negatives } = standardVectors;
  const case0 = cases[0]!;
  const now = Number(case0.timestamp) * 1000;
  const headersOf = (signature: string) => ({ id: case0.id, timestamp: case0.timestamp, signature });
  const body0 = Buffer.from(case0.bodyHex, 'hex');

  it('signs and verifies every case, non-UTF-8 bodies included', () => {
    for (const c of cases) {
      const body = Buffer.from(c.bodyHex, 'hex');
      expect(signStandard(c.id, c.timestamp, body, secret)).toBe(c.expected);
      expect(signStandard(c.id, Number(c.timestamp), new Uint8Array(body), secret)).toBe(c.expected);
      verifyStandard({ id: c.id, timestamp: c.timestamp, signature: c.expected }, body, secret, { now });
    }
  });

  it('rejects every negative signature with bad_signature', () => {
    for (const signature of negatives.signatures) {
      expect(() => verifyStandard(headersOf(signature), body0, secret, { now })).toThrow(
        expect.objectContaining({ reason: 'bad_signature' }),
      );
    }
  });

  it('accepts a header holding several signatures when one matches', () => {
    verifyStandard(headersOf(negatives.multiSignaturePositive), body0, secret, { now });
  });

  it('rejects malformed timestamps with bad_timestamp', () => {
    for (const timestamp of negatives.badTimestamps) {
      expect(() =>
        verifyStandard({ id: case0.id, timestamp, signature: case0.expected }, body0, secret, { now }),
      ).toThrow(expect.objectContaining({ reason: 'bad_timestamp' }));
    }
  });

  it('rejects timestamps outside the tolerance in both directions', () => {
    const tolerance = negatives.timestampToleranceSeconds * 1000;
    verifyStandard(headersOf(case0.expected), body0, secret, { now: now + tolerance });
    verifyStandard(headersOf(case0.expected), body0, secret, { now: now - tolerance });
    expect(() =>
      verifyStandard(headersOf(case0.expected), body0, secret, { now: now + tolerance + 1000 }),
    ).toThrow(expect.objectContaining({ reason: 'too_old' }));
    expect(() =>
      verifyStandard(headersOf(case0.expected), body0, secret, { now: now - tolerance - 1000 }),
    ).toThrow(expect.objectContaining({ reason: 'too_new' }));
  });

  it('rejects empty secrets with invalid_secret', () => {
    for (const bad of negatives.badSecrets) {
      expect(() => verifyStandard(headersOf(case0.expected), body0, bad, { now })).toThrow(
        WebhookVerificationError,
      );
      expect(() => signStandard(case0.id, case0.timestamp, body0, bad)).toThrow(
        expect.objectContaining({ reason: 'invalid_secret' }),
      );
    }
  });

  it('derives the whsec_ secret that verifies what the engine signs with a Hubster private key', () => {
    const v = hubsterVectors.vectors[0]!;
    const derived = standardSecretFromPrivateKey(v.privateSigningKey);
    expect(derived).toBe(`whsec_${Buffer.from(v.privateSigningKey).toString('base64')}`);
    const signature = signStandard('dlv_1', 1700000000, v.body, derived);
    verifyStandard({ id: 'dlv_1', timestamp: '1700000000', signature }, v.body, derived, {
      now: 1700000000_000,
    });
  });
});
