// The receiver object on both crypto paths: key lookup, schemes, reason codes, parsing.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import * as nodePath from '../src/index.js';
import * as webPath from '../src/webcrypto.js';
import { hubsterVectors } from './vectors.js';

const [v1, v2] = hubsterVectors.vectors as [
  (typeof hubsterVectors.vectors)[0],
  (typeof hubsterVectors.vectors)[0],
];
const NOW = 1_700_000_000_000;
const TIMESTAMP = String(NOW / 1000);

function signedHeaders(body: string, publicKey: string, privateKey: string): Record<string, string> {
  const secret = nodePath.standardSecretFromPrivateKey(privateKey);
  return {
    'x-hubster-public-key': publicKey,
    'x-hubster-signature': nodePath.signHubster(body, privateKey),
    'webhook-id': 'dlv_01',
    'webhook-timestamp': TIMESTAMP,
    'webhook-signature': nodePath.signStandard('dlv_01', TIMESTAMP, body, secret),
    'x-hub-id': 'hub',
    'x-integration-id': 'integration',
    'x-conversation-id': 'conversation',
    'x-source-system': 'engine.hubster.io',
  };
}

describe.each([
  { name: 'node:crypto', sdk: nodePath },
  { name: 'WebCrypto', sdk: webPath },
] as const)('$name receiver', ({ sdk }) => {
  const keys = { [v1.publicSigningKey]: v1.privateSigningKey };
  const receiver = sdk.createReceiver({ keys, now: () => NOW });

  it('verifies and parses a delivery signed with both schemes', async () => {
    const delivery = await receiver.receive(
      signedHeaders(v1.body, v1.publicSigningKey, v1.privateSigningKey),
      v1.body,
    );
    expect(delivery.publicKey).toBe(v1.publicSigningKey);
    expect(delivery.webhookId).toBe('dlv_01');
    expect(delivery.timestamp).toBe(NOW / 1000);
    expect(delivery.integrationId).toBe('integration');
    expect(delivery.activities).toHaveLength(1);
    expect(delivery.activities[0]!.eventTrigger).toBe('message:customer');
  });

  it('reads Fetch Headers as well as a plain record with mixed-case names', async () => {
    const headers = signedHeaders(v1.body, v1.publicSigningKey, v1.privateSigningKey);
    await receiver.verify(new Headers(headers), new TextEncoder().encode(v1.body));
    const mixed = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    await receiver.verify(mixed, v1.body);
  });

  it('finds keys through an async callback so a rotated pair and the old pair both verify', async () => {
    const store = new Map([
      [v1.publicSigningKey, v1.privateSigningKey],
      [v2.publicSigningKey, v2.privateSigningKey],
    ]);
    const rotating = sdk.createReceiver({ keys: async (publicKey) => store.get(publicKey), now: () => NOW });
    await rotating.verify(signedHeaders(v1.body, v1.publicSigningKey, v1.privateSigningKey), v1.body);
    await rotating.verify(signedHeaders(v2.body, v2.publicSigningKey, v2.privateSigningKey), v2.body);
    store.delete(v1.publicSigningKey);
    await expect(
      rotating.verify(signedHeaders(v1.body, v1.publicSigningKey, v1.privateSigningKey), v1.body),
    ).rejects.toMatchObject({ reason: 'unknown_key', header: 'x-hubster-public-key' });
  });

  it('accepts the unmodified Hubster request of every vector in hubster mode', async () => {
    const all = new Map(hubsterVectors.vectors.map((v) => [v.publicSigningKey, v.privateSigningKey]));
    const hubster = sdk.createReceiver({ keys: all, scheme: 'hubster' });
    for (const v of hubsterVectors.vectors) {
      const delivery = await hubster.receive(v.headers, Buffer.from(v.body));
      expect(delivery.payload.integrationId).toBe(v.headers['x-integration-id']);
    }
  });

  it('rejects every negative signature of every vector with bad_signature on x-hubster-signature', async () => {
    const all = new Map(hubsterVectors.vectors.map((v) => [v.publicSigningKey, v.privateSigningKey]));
    const hubster = sdk.createReceiver({ keys: all, scheme: 'hubster' });
    for (const v of hubsterVectors.vectors) {
      for (const bad of Object.values(v.negativeSignatures)) {
        await expect(
          hubster.verify({ ...v.headers, 'x-hubster-signature': bad }, v.body),
        ).rejects.toMatchObject({
          reason: 'bad_signature',
          header: 'x-hubster-signature',
        });
      }
    }
  });

  it('rejects a tampered body, a missing header, a replay and a foreign key with their reasons', async () => {
    const headers = signedHeaders(v1.body, v1.publicSigningKey, v1.privateSigningKey);
    const tampered = v1.body.replace('order #4471', 'order #4472');
    await expect(receiver.verify(headers, tampered)).rejects.toMatchObject({
      reason: 'bad_signature',
      header: 'x-hubster-signature',
    });
    const noSignature = { ...headers, 'x-hubster-signature': undefined };
    await expect(receiver.verify(noSignature, v1.body)).rejects.toMatchObject({
      reason: 'missing_header',
      header: 'x-hubster-signature',
    });
    const noPublicKey = { ...headers, 'x-hubster-public-key': undefined };
    await expect(receiver.verify(noPublicKey, v1.body)).rejects.toMatchObject({
      reason: 'missing_header',
      header: 'x-hubster-public-key',
    });
    const noTimestamp = { ...headers, 'webhook-timestamp': undefined };
    await expect(receiver.verify(noTimestamp, v1.body)).rejects.toMatchObject({
      reason: 'missing_header',
      header: 'webhook-timestamp',
    });
    const late = sdk.createReceiver({ keys, now: () => NOW + 301_000 });
    await expect(late.verify(headers, v1.body)).rejects.toMatchObject({ reason: 'too_old' });
    const early = sdk.createReceiver({ keys, now: () => NOW - 301_000 });
    await expect(early.verify(headers, v1.body)).rejects.toMatchObject({ reason: 'too_new' });
    const wrongStandard = {
      ...headers,
      'webhook-signature': signedHeaders(v2.body, 'x', v1.privateSigningKey)['webhook-signature']!,
    };
    await expect(receiver.verify(wrongStandard, v1.body)).rejects.toMatchObject({
      reason: 'bad_signature',
      header: 'webhook-signature',
    });
    const foreign = signedHeaders(v1.body, v1.publicSigningKey, v2.privateSigningKey);
    await expect(receiver.verify(foreign, v1.body)).rejects.toBeInstanceOf(nodePath.WebhookVerificationError);
  });

  it('checks only the Standard Webhooks headers in standard mode, with one private key', async () => {
    const standard = sdk.createReceiver({ keys: v1.privateSigningKey, scheme: 'standard', now: () => NOW });
    const {
      'x-hubster-signature': _drop,
      'x-hubster-public-key': _key,
      ...headers
    } = signedHeaders(v1.body, '', v1.privateSigningKey);
    const verified = await standard.verify(headers, v1.body);
    expect(verified.webhookId).toBe('dlv_01');
  });

  it('rejects a verified body that is not a payload with a PayloadError listing paths', async () => {
    const body = JSON.stringify({ hubId: 'h', activity: { type: 'message', eventId: 'x' } });
    const error = await receiver
      .receive(signedHeaders(body, v1.publicSigningKey, v1.privateSigningKey), body)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(nodePath.PayloadError);
    const paths = (error as InstanceType<typeof nodePath.PayloadError>).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['$.tenantId', '$.activity.eventId', '$.activity.message']));
  });

  it('refuses an empty private key instead of accepting what anyone can sign with it', async () => {
    // An empty key is what `keys: process.env.KEY ?? ''` gives when the variable is unset or blank;
    // HMAC under it is computable by anyone, so nothing may verify against it.
    const forgedHubster = createHmac('sha256', '').update(v1.body).digest('base64');
    const forgedStandard = createHmac('sha256', '').update(`dlv_01.${TIMESTAMP}.${v1.body}`).digest('base64');
    const forged = {
      'x-hubster-signature': forgedHubster,
      'webhook-id': 'dlv_01',
      'webhook-timestamp': TIMESTAMP,
      'webhook-signature': `v1,${forgedStandard}`,
    };
    for (const scheme of ['both', 'hubster', 'standard'] as const) {
      expect(() => sdk.createReceiver({ keys: '', scheme, now: () => NOW })).toThrow(
        expect.objectContaining({ reason: 'invalid_secret' }),
      );
    }
    const fromLookup = sdk.createReceiver({ keys: () => '', now: () => NOW });
    await expect(
      fromLookup.verify({ ...forged, 'x-hubster-public-key': 'p' }, v1.body),
    ).rejects.toMatchObject({
      reason: 'unknown_key',
    });
    await expect(
      Promise.resolve().then(() => sdk.verifyHubsterSignature(v1.body, forgedHubster, '')),
    ).rejects.toMatchObject({ reason: 'invalid_secret' });
  });

  it('refuses a whsec_ secret given as the private key, saying which key it wants', () => {
    const secret = sdk.standardSecretFromPrivateKey(v1.privateSigningKey);
    expect(secret.startsWith('whsec_')).toBe(true);
    expect(() => sdk.createReceiver({ keys: secret, now: () => NOW })).toThrow(
      expect.objectContaining({
        reason: 'invalid_secret',
        message: expect.stringMatching(/privateSigningKey/),
      }),
    );
  });

  it('refuses a tolerance that is not a number of seconds instead of accepting any timestamp', async () => {
    // NaN is what `Number(process.env.TOLERANCE)` gives when the variable is unset: every comparison with
    // it is false, so a request signed long ago would pass the too_old check.
    for (const toleranceSeconds of [Number.NaN, -1]) {
      expect(() => sdk.createReceiver({ keys, toleranceSeconds, now: () => NOW })).toThrow(RangeError);
    }
    const secret = sdk.standardSecretFromPrivateKey(v1.privateSigningKey);
    const old = '1000000000';
    const signature = await sdk.signStandard('dlv_old', old, v1.body, secret);
    await expect(
      Promise.resolve().then(() =>
        sdk.verifyStandard({ id: 'dlv_old', timestamp: old, signature }, v1.body, secret, {
          now: NOW,
          toleranceSeconds: Number.NaN,
        }),
      ),
    ).rejects.toThrow(RangeError);
  });

  it('produces Standard Webhooks signatures that the standardwebhooks and svix libraries accept', async () => {
    const secret = sdk.standardSecretFromPrivateKey(v2.privateSigningKey);
    const signature = await sdk.signStandard('dlv_9', Math.floor(Date.now() / 1000), v2.body, secret);
    const payload = new Webhook(secret).verify(v2.body, {
      'webhook-id': 'dlv_9',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': signature,
    });
    expect(payload).toMatchObject({ integrationId: '5f1e2d3c-4b5a-4968-a7b6-01757bd29640' });
    const viaSvix = new SvixWebhook(secret).verify(v2.body, {
      'svix-id': 'dlv_9',
      'svix-timestamp': String(Math.floor(Date.now() / 1000)),
      'svix-signature': signature,
    });
    expect(viaSvix).toMatchObject({ hubId: '7d2e8b41-a6c3-4f0b-8e57-01757bbcb278' });
  });

  it('verifies what the standardwebhooks library signs', async () => {
    const secret = sdk.standardSecretFromPrivateKey(v1.privateSigningKey);
    const at = new Date(NOW);
    const signature = new Webhook(secret).sign('msg_lib', at, v1.body);
    await sdk.verifyStandard({ id: 'msg_lib', timestamp: String(NOW / 1000), signature }, v1.body, secret, {
      now: NOW,
    });
  });
});
