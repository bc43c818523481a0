// The one error type the verify path throws, with a stable reason code per failure.

/** Why a webhook request failed verification. */
export type WebhookVerificationReason =
  | 'missing_header'
  | 'unknown_key'
  | 'bad_signature'
  | 'bad_timestamp'
  | 'too_old'
  | 'too_new'
  | 'invalid_secret';

const messages: Record<WebhookVerificationReason, string> = {
  missing_header: 'a required signature header is missing',
  unknown_key: 'no private key is known for the public key of the request',
  bad_signature: 'no signature in the request matches the body',
  bad_timestamp: 'the webhook-timestamp header is not a whole number of seconds',
  too_old: 'the webhook-timestamp is older than the tolerance',
  too_new: 'the webhook-timestamp is further in the future than the tolerance',
  invalid_secret: 'the signing secret is empty or not whsec_ followed by base64',
};

/** Thrown when a delivery cannot be trusted; `reason` tells why, `header` names the header at fault. */
export class WebhookVerificationError extends Error {
  readonly code = 'HOOKSTER_WEBHOOK_VERIFICATION' as const;
  readonly reason: WebhookVerificationReason;
  readonly header: string | undefined;

  constructor(reason: WebhookVerificationReason, header?: string, detail?: string) {
    const where = header === undefined ? '' : ` (${header})`;
    super(`${messages[reason]}${where}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
    this.header = header;
  }
}

/** True for a WebhookVerificationError, also across copies of the package (duck-typed on `code`). */
export function isWebhookVerificationError(error: unknown): error is WebhookVerificationError {
  return (
    error instanceof WebhookVerificationError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { code?: unknown }).code === 'HOOKSTER_WEBHOOK_VERIFICATION')
  );
}
