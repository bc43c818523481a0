// Maps what went wrong while receiving to the HTTP answer every adapter gives: 403, 400, 413 or a rethrow.
import { isWebhookVerificationError } from '../core/errors.js';
import { PayloadError } from '../payload/parse.js';

/** Default largest body an adapter reads (engine batches are capped far below this). */
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Thrown by the body readers when a request is larger than the limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'HOOKSTER_BODY_TOO_LARGE' as const;
  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** A rejection answer, or undefined when the error is not one the adapter answers itself. */
export interface Rejection {
  status: 400 | 403 | 413;
  body: { error: string; message: string; errors?: { path: string; message: string }[] };
}

export function rejectionOf(error: unknown): Rejection | undefined {
  if (isWebhookVerificationError(error)) {
    // Why 403 for every reason: Hubster's sample answers 403 to any verification failure, and the engine
    // treats it as a failed attempt; the reason in the body helps whoever reads the delivery log.
    return { status: 403, body: { error: error.reason, message: error.message } };
  }
  if (error instanceof PayloadError) {
    return { status: 400, body: { error: 'invalid_payload', message: error.message, errors: error.errors } };
  }
  if (error instanceof BodyTooLargeError) {
    return { status: 413, body: { error: 'body_too_large', message: error.message } };
  }
  return undefined;
}
