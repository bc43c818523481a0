// Pure: the notification stored when a webhook delivery is exhausted (code 7512, DESIGN §3).

import { ErrorCodes, numericCode } from '../domain/errors.js';
import { sequentialGuid } from '../domain/ids.js';
import type { EpochMs, Guid, Notification } from '../domain/types.js';

/** What the dispatcher knows about a delivery that has just failed for good. */
export interface ExhaustedDelivery {
  deliveryId: Guid;
  tenantId: Guid;
  hubId: Guid;
  integrationId: Guid;
  webhookUrl: string;
  /** Attempts made in this delivery's budget (including the last one). */
  attempts: number;
  /** When the delivery was created: what `recover {since}` compares (absent in e-mails owed before). */
  createdAt?: EpochMs;
  statusCode?: number;
  error?: string;
}

const TEXT_FIELDS = ['deliveryId', 'tenantId', 'hubId', 'integrationId', 'webhookUrl'] as const;

/**
 * An owed e-mail's stored details (the JSON of an ExhaustedDelivery), or undefined when they are not
 * that: not JSON, or JSON of another shape (edited by hand, an unknown older one), which the digest
 * cannot be written from.
 */
export function parseExhaustedDelivery(text: string): ExhaustedDelivery | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  const optional = (key: string, type: 'number' | 'string') => f[key] === undefined || typeof f[key] === type;
  const valid =
    TEXT_FIELDS.every((key) => typeof f[key] === 'string') &&
    typeof f.attempts === 'number' &&
    optional('createdAt', 'number') &&
    optional('statusCode', 'number') &&
    optional('error', 'string');
  return valid ? (value as ExhaustedDelivery) : undefined;
}

/** The last status or error, as the notification and the e-mail state it. */
export function failureReason(failure: Pick<ExhaustedDelivery, 'statusCode' | 'error'>): string {
  if (failure.error !== undefined) {
    return failure.statusCode === undefined
      ? `last error: ${failure.error}`
      : `last error: ${failure.error} (after status ${failure.statusCode})`;
  }
  if (failure.statusCode === 410) return 'last status 410 Gone (the receiver asked to stop)';
  return `last status ${failure.statusCode ?? 'unknown'}`;
}

export function exhaustionNotification(failure: ExhaustedDelivery, now: EpochMs): Notification {
  const plural = failure.attempts === 1 ? 'attempt' : 'attempts';
  return {
    notificationId: sequentialGuid(now),
    tenantId: failure.tenantId,
    hubId: failure.hubId,
    integrationId: failure.integrationId,
    deliveryId: failure.deliveryId,
    code: numericCode(ErrorCodes.UnreachableEndpoint.code),
    caption: ErrorCodes.UnreachableEndpoint.text,
    details:
      `Delivery ${failure.deliveryId} to ${failure.webhookUrl} failed after ${failure.attempts} ${plural}; ` +
      `${failureReason(failure)}.`,
    createdAt: new Date(now).toISOString(),
  };
}
