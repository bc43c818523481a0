// Both crypto paths (node:crypto and WebCrypto) against every shared vector, with the same assertions.
import { describe, expect, it } from 'vitest';
import * as nodePath from '../src/index.js';
import * as webPath from '../src/webcrypto.js';
import { hubsterVectors, standardVectors } from './vectors.js';

const paths = [
  { name: 'node:crypto', sdk: nodePath },
  { name: 'WebCrypto', sdk: webPath },
] as const;

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe.each(paths)('$name path', ({ sdk }) => {
  describe('Hubster scheme', () => {
    it('signs every micro vector and every full vector as given', async () => {
      for (const v of hubsterVectors.micro)
        expect(await sdk.signHubster(v.body, v.privateSigningKey)).toBe(v.signature);
      for (const v of hubsterVectors.vectors) {
        expect(await sdk.signHubster(v.body, v.privateSigningKey)).toBe(v.expectedSignature);
        expect(await sdk.signHubster(Buffer.from(v.body), v.privateSigningKey)).toBe(
          v.headers['x-hubster-signature'],
        );
        expect(new TextEncoder().encode(v.body).length).toBe(v.bodyByteLength);
      }
    });

    it('verifies every vector given as a string, a Uint8Array and a Buffer', async () => {
      for (const v of hubsterVectors.vectors) {
        for (const body of [v.body, new TextEncoder().encode(v.body), Buffer.from(v.body)]) {
          expect(await sdk.verifyHubsterSignature(body, v.expectedSignature, v.privateSigningKey)).toBe(true);
        }
      }
      for (const v of hubsterVectors.micro) {
        expect(await sdk.verifyHubsterSignature(v.body, v.signature, v.privateSigningKey)).toBe(true);
      }
    });

    it('rejects every negative signature, the public key as key and a changed body', async () => {
      for (const v of hubsterVectors.vectors) {
        for (const bad of Object.values(v.negativeSignatures)) {
          expect(await sdk.verifyHubsterSignature(v.body, bad, v.privateSigningKey)).toBe(false);
        }
        expect(await sdk.verifyHubsterSignature(v.body, v.expectedSignature, v.publicSigningKey)).toBe(false);
        expect(
          await sdk.verifyHubsterSignature(`${v.body}\n`, v.expectedSignature, v.privateSigningKey),
        ).toBe(false);
        expect(await sdk.verifyHubsterSignature(v.body, '', v.privateSigningKey)).toBe(false);
        expect(
          await sdk.verifyHubsterSignature(v.body, v.expectedSignature.slice(0, -2), v.privateSigningKey),
        ).toBe(false);
      }
    });

    it('rejects a lower-case copy of an upper-case key', async () => {
      const [upper, , lower] = hubsterVectors.micro;
      expect(
        await sdk.verifyHubsterSignature(
          upper!.body,
          upper!.signature,
          upper!.privateSigningKey.toLowerCase(),
        ),
      ).toBe(false);
      expect(await sdk.verifyHubsterSignature(lower!.body, lower!.signature, lower!.privateSigningKey)).toBe(
        true,
      );
    });
  });

  describe('Standard Webhooks scheme', () => {
    const { secret, cases, negatives } = standardVectors;
    const case0 = cases[0]!;
    const now = Number(case0.timestamp) * 1000;
    const headersOf = (signature: string) => ({ id: case0.id, timestamp: case0.timestamp, signature });
    const body0 = fromHex(case0.bodyHex);

    it('signs and verifies every case, non-UTF-8 bodies included', async () => {
      for (const c of cases) {
        const body = fromHex(c.bodyHex);
        expect(await sdk.signStandard(c.id, c.timestamp, body, secret)).toBe(c.expected);
        expect(await sdk.signStandard(c.id, Number(c.timestamp), Buffer.from(body), secret)).toBe(c.expected);
        await sdk.verifyStandard({ id: c.id, timestamp: c.timestamp, signature: c.expected }, body, secret, {
          now,
        });
      }
    });

    it('rejects every negative signature with bad_signature', async () => {
      for (const signature of negatives.signatures) {
        await expect(
          (async () => sdk.verifyStandard(headersOf(signature), body0, secret, { now }))(),
        ).rejects.toMatchObject({ reason: 'bad_signature', header: 'webhook-signature' });
      }
    });

    it('accepts a header holding several signatures when one matches', async () => {
      await sdk.verifyStandard(headersOf(negatives.multiSignaturePositive), body0, secret, { now });
    });

    it('rejects malformed timestamps with bad_timestamp', async () => {
      for (const timestamp of negatives.badTimestamps) {
        await expect(
          (async () =>
            sdk.verifyStandard({ id: case0.id, timestamp, signature: case0.expected }, body0, secret, {
              now,
            }))(),
        ).rejects.toMatchObject({ reason: 'bad_timestamp' });
      }
    });

    it('accepts the tolerance edge and rejects one second beyond it in both directions', async () => {
      const tolerance = negatives.timestampToleranceSeconds * 1000;
      await sdk.verifyStandard(headersOf(case0.expected), body0, secret, { now: now + tolerance });
      await sdk.verifyStandard(headersOf(case0.expected), body0, secret, { now: now - tolerance });
      await expect(
        (async () =>
          sdk.verifyStandard(headersOf(case0.expected), body0, secret, { now: now + tolerance + 1000 }))(),
      ).rejects.toMatchObject({ reason: 'too_old' });
      await expect(
        (async () =>
          sdk.verifyStandard(headersOf(case0.expected), body0, secret, { now: now - tolerance - 1000 }))(),
      ).rejects.toMatchObject({ reason: 'too_new' });
    });

    it('rejects missing headers with missing_header naming the header', async () => {
      for (const [key, header] of [
        ['id', 'webhook-id'],
        ['timestamp', 'webhook-timestamp'],
        ['signature', 'webhook-signature'],
      ] as const) {
        const headers = { ...headersOf(case0.expected), [key]: undefined };
        await expect(
          (async () => sdk.verifyStandard(headers, body0, secret, { now }))(),
        ).rejects.toMatchObject({
          reason: 'missing_header',
          header,
        });
      }
    });

    it('rejects the bad secrets with invalid_secret', async () => {
      for (const bad of negatives.badSecrets) {
        await expect(
          (async () => sdk.verifyStandard(headersOf(case0.expected), body0, bad, { now }))(),
        ).rejects.toBeInstanceOf(nodePath.WebhookVerificationError);
        await expect(
          (async () => sdk.signStandard(case0.id, case0.timestamp, body0, bad))(),
        ).rejects.toMatchObject({
          reason: 'invalid_secret',
        });
      }
    });

    it('derives the whsec_ secret of a Hubster private key that verifies as Standard Webhooks', async () => {
      const v = hubsterVectors.vectors[0]!;
      const derived = sdk.standardSecretFromPrivateKey(v.privateSigningKey);
      expect(derived).toBe(`whsec_${Buffer.from(v.privateSigningKey).toString('base64')}`);
      const signature = await sdk.signStandard('dlv_1', 1700000000, v.body, derived);
      await sdk.verifyStandard({ id: 'dlv_1', timestamp: '1700000000', signature }, v.body, derived, {
        now: 1700000000_000,
      });
    });
  });
});
