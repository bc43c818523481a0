// The receiver: finds the private key by public key, checks the Hubster and/or Standard Webhooks signature,
// and parses the payload. Runtime-neutral: the crypto comes in as a backend (node:crypto or WebCrypto).
import type { WebhookBody } from './body.js';
import { WebhookVerificationError } from './errors.js';
import { HEADER, readHeader, type HeaderSource } from './headers.js';
import { checkTimestamp, requireHeader, toleranceOf, v1Signatures } from './standard.js';
import { decodeBody, parseWebhookPayload, PayloadError } from '../payload/parse.js';
import type { Activity, WebhookPayload } from '../payload/types.js';

/** Returns the private signing key of a public key, or undefined when the key is unknown. May be async. */
export type PrivateKeyLookup = (
  publicKey: string,
) => string | undefined | null | PromiseLike<string | undefined | null>;

/** Which signature headers must be present and valid. */
export type SignatureScheme = 'hubster' | 'standard' | 'both';

export interface ReceiverOptions {
  /**
   * The private key(s): a lookup callback (sync or async, e.g. a database read), a map or record from
   * public key to private key, or a single private key string when there is only one integration.
   * During a key rotation the lookup simply knows both pairs, so no delivery is rejected.
   */
  keys: PrivateKeyLookup | ReadonlyMap<string, string> | Readonly<Record<string, string>> | string;
  /**
   * `both` (default) requires x-hubster-signature and the Standard Webhooks headers, so a replayed
   * request is refused; `hubster` accepts what Hubster itself sends; `standard` checks only webhook-*.
   */
  scheme?: SignatureScheme;
  /** Allowed distance between webhook-timestamp and the clock, both directions. Default 300 s. */
  toleranceSeconds?: number;
  /** The clock in epoch ms; defaults to Date.now. */
  now?: () => number;
}

/** What a verified request tells about itself (headers only; the body is not parsed). */
export interface VerifiedRequest {
  publicKey: string | undefined;
  hubId: string | undefined;
  integrationId: string | undefined;
  conversationId: string | undefined;
  sourceSystem: string | undefined;
  /** webhook-id (the delivery id) when the Standard Webhooks headers were checked. */
  webhookId: string | undefined;
  /** webhook-timestamp in unix seconds when the Standard Webhooks headers were checked. */
  timestamp: number | undefined;
}

/** A verified and parsed delivery. `activities` holds the System batch or the single Direct activity. */
export interface Delivery extends VerifiedRequest {
  payload: WebhookPayload;
  activities: Activity[];
}

/** The crypto a receiver needs; each runtime entry supplies one. */
export interface SignatureBackend<R> {
  hubsterMatches(body: WebhookBody, signature: string, privateKey: string): R;
  /** True when one of `signatures` is the v1 digest of "id.timestamp.body" under the UTF-8 key bytes. */
  standardMatches(
    id: string,
    timestamp: string,
    body: WebhookBody,
    signatures: string[],
    privateKey: string,
  ): R;
}

export interface Receiver {
  /** Verifies headers and signature(s); throws WebhookVerificationError with a reason otherwise. */
  verify(headers: HeaderSource, body: WebhookBody): Promise<VerifiedRequest>;
  /** Verifies, then parses the body; throws WebhookVerificationError or PayloadError. */
  receive(headers: HeaderSource, body: WebhookBody): Promise<Delivery>;
}

/** Builds a receiver over one crypto backend. */
export function createReceiverWith(
  backend: SignatureBackend<boolean | Promise<boolean>>,
  options: ReceiverOptions,
): Receiver {
  const scheme = options.scheme ?? 'both';
  const tolerance = toleranceOf(options.toleranceSeconds);
  const now = options.now ?? Date.now;
  const lookup = toLookup(options.keys);
  // Why refused here: an empty key (an unset or blank environment variable) would make every signature
  // computable by anyone; failing at start-up is louder than a receiver that accepts forgeries.
  if (lookup === '') throw new WebhookVerificationError('invalid_secret');
  // A Standard Webhooks secret (whsec_…) is derived from the private key, not the key itself: every
  // signature would fail to match, with nothing saying why.
  if (typeof lookup === 'string' && lookup.startsWith('whsec_')) {
    throw new WebhookVerificationError(
      'invalid_secret',
      undefined,
      "keys takes the integration's privateSigningKey, not a whsec_ Standard Webhooks secret derived from it",
    );
  }

  async function verify(headers: HeaderSource, body: WebhookBody): Promise<VerifiedRequest> {
    const publicKey = readHeader(headers, HEADER.publicKey);
    const checkHubster = scheme !== 'standard';
    const checkStandard = scheme !== 'hubster';
    const signature = checkHubster
      ? requireHeader(readHeader(headers, HEADER.signature), HEADER.signature)
      : '';
    const id = checkStandard ? requireHeader(readHeader(headers, HEADER.webhookId), HEADER.webhookId) : '';
    const timestampText = checkStandard
      ? requireHeader(readHeader(headers, HEADER.webhookTimestamp), HEADER.webhookTimestamp)
      : '';
    const standardHeader = checkStandard
      ? requireHeader(readHeader(headers, HEADER.webhookSignature), HEADER.webhookSignature)
      : '';
    let privateKey: string;
    if (typeof lookup === 'string') {
      privateKey = lookup;
    } else {
      const found = await lookup(requireHeader(publicKey, HEADER.publicKey));
      if (found === undefined || found === null || found === '') {
        throw new WebhookVerificationError('unknown_key', HEADER.publicKey);
      }
      privateKey = found;
    }
    const timestamp = checkStandard
      ? checkTimestamp(timestampText, Math.floor(now() / 1000), tolerance)
      : undefined;
    if (checkHubster && !(await backend.hubsterMatches(body, signature, privateKey))) {
      throw new WebhookVerificationError('bad_signature', HEADER.signature);
    }
    if (checkStandard) {
      const candidates = v1Signatures(standardHeader);
      if (!(await backend.standardMatches(id, timestampText, body, candidates, privateKey))) {
        throw new WebhookVerificationError('bad_signature', HEADER.webhookSignature);
      }
    }
    return {
      publicKey,
      hubId: readHeader(headers, HEADER.hubId),
      integrationId: readHeader(headers, HEADER.integrationId),
      conversationId: readHeader(headers, HEADER.conversationId),
      sourceSystem: readHeader(headers, HEADER.sourceSystem),
      webhookId: checkStandard ? id : undefined,
      timestamp,
    };
  }

  async function receive(headers: HeaderSource, body: WebhookBody): Promise<Delivery> {
    const verified = await verify(headers, body);
    const parsed = parseWebhookPayload(decodeBody(body));
    if (!parsed.ok) throw new PayloadError(parsed.errors);
    const payload = parsed.value;
    const activities = 'activities' in payload ? payload.activities : [payload.activity];
    return { ...verified, payload, activities };
  }

  return { verify, receive };
}

function toLookup(keys: ReceiverOptions['keys']): PrivateKeyLookup | string {
  if (typeof keys === 'string' || typeof keys === 'function') return keys;
  if (keys instanceof Map) return (publicKey) => keys.get(publicKey);
  const record = keys as Readonly<Record<string, string>>;
  return (publicKey) => (Object.hasOwn(record, publicKey) ? record[publicKey] : undefined);
}
