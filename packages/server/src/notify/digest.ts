// Pure: the text of one notification e-mail, a digest of the deliveries of one integration that failed.

import type { Notification } from '../domain/types.js';
import { type ExhaustedDelivery, failureReason } from './exhaustion.js';

export interface DigestItem {
  failure: ExhaustedDelivery;
  notification: Notification;
}

const LISTED = 20;

/** Control characters and line/paragraph separators, which would start new lines in the e-mail. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** User-given text (an integration's name) on one line: it cannot add lines to the e-mail. */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAKING, ' ');
}

export function digestMail(
  items: readonly DigestItem[],
  /** The integration's name; null when the integration has been deleted since. */
  integrationName: string | undefined | null,
  windowMs: number,
  /** More failures are owed than this e-mail carries (they follow in the next one). */
  more = false,
): { subject: string; text: string } {
  const first = items[0];
  if (first === undefined) throw new Error('a digest needs at least one failed delivery');
  // recover resends failed deliveries *created* since the time given: the earliest creation among
  // these (a delivery gives up after its whole retry schedule, 30 minutes by default, so the time of
  // the notification would miss every one of them).
  const since = new Date(
    Math.min(...items.map((item) => item.failure.createdAt ?? Date.parse(item.notification.createdAt))),
  ).toISOString();
  const { integrationId, hubId } = first.failure;
  // The webhookUrl may have changed between the failures: each endpoint they went to, once.
  const endpoints = [
    ...new Set(
      items.map((item) =>
        item.failure.webhookUrl === ''
          ? 'none (the integration has no webhookUrl any more)'
          : item.failure.webhookUrl,
      ),
    ),
  ];
  // A delivery resent by hand can fail for good again inside one window: it is one delivery, counted
  // (and its reason given) once, by its last failure; the list below shows every failure.
  const last = new Map<string, DigestItem>();
  for (const item of items) last.set(item.failure.deliveryId, item);
  const count = last.size;
  const noun = count === 1 ? 'delivery' : 'deliveries';
  const deleted = integrationName === null;
  const name = integrationName == null ? undefined : oneLine(integrationName);
  const label = name ? `"${name}" (${integrationId})` : integrationId;
  const reasons = new Map<string, number>();
  for (const item of last.values()) {
    const reason = failureReason(item.failure);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const lines = [
    `${count} webhook ${noun} to integration ${label} of hub ${hubId} failed for good.`,
    `${endpoints.length === 1 ? 'Endpoint' : 'Endpoints'}: ${endpoints.join(', ')}`,
    '',
    'Why:',
    ...[...reasons].map(([reason, n]) => `  - ${n} × ${reason}`),
    '',
    `Failed ${noun}:`,
    ...items
      .slice(0, LISTED)
      .map((item) => `  - ${item.notification.createdAt} ${item.notification.details}`),
    ...(items.length > LISTED ? [`  … and ${items.length - LISTED} more (GET /api/v1/notifications).`] : []),
    ...(more ? ['', 'More failures of this integration follow in the next e-mail.'] : []),
    '',
    // A deleted integration's deliveries cannot be resent: recover would answer 404.
    ...(deleted
      ? ['The integration has been deleted since: its failed deliveries cannot be resent.']
      : [
          'Fix the endpoint, then resend them with',
          `  POST /api/v1/integrations/${integrationId}/recover {"since": "${since}"}`,
        ]),
    '',
    `You get at most one such e-mail per integration every ${formatWindow(windowMs)}.`,
  ];
  return {
    subject: `Hookster: ${count} webhook ${noun} failed (ENG007512) for integration ${name || integrationId}`,
    text: lines.join('\n'),
  };
}

/** The window in the largest unit that states it exactly (a 90 s window is not "2 minutes"). */
function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  if (ms % 1000 === 0) return plural(ms / 1000, 'second');
  return `${ms} ms`;
}

function plural(n: number, unit: string): string {
  return n === 1 ? unit : `${n} ${unit}s`;
}
