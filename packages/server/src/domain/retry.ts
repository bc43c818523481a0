// Pure retry maths (DESIGN §3): what happens after one webhook attempt, given the schedule and `now`.

import type { EpochMs } from './types.js';

/** The next state of a delivery after an attempt (the store's AttemptNext has the same shape). */
export type RetryDecision =
  { status: 'delivered' } | { status: 'pending'; nextAttemptAt: EpochMs } | { status: 'failed' };

/** Waits before attempts 2..6 after the previous attempt failed: the seed's table (2, 4, 6, 8, 10 min). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [120_000, 240_000, 360_000, 480_000, 600_000];

/** What the transport observed for one attempt (a value, never an exception). */
export interface AttemptResult {
  statusCode?: number;
  /** Set when no HTTP status was obtained: timeout, DNS/connect/TLS error, reset, egress refused. */
  error?: string;
  /** The raw `Retry-After` header value, when present. */
  retryAfter?: string;
}

export interface OutcomeInput {
  /** 1-based number of the attempt just made. */
  attemptNumber: number;
  /** Waits in ms before attempts 2..N; N = schedule.length + 1 attempts in all. */
  schedule: readonly number[];
  result: AttemptResult;
  now: EpochMs;
}

/** 2xx → delivered; 410 → failed at once; anything else → pending at the scheduled time, or failed when exhausted. */
export function decideOutcome(input: OutcomeInput): RetryDecision {
  const { attemptNumber, schedule, result, now } = input;
  const status = result.statusCode;
  if (result.error === undefined && status !== undefined && status >= 200 && status < 300) {
    return { status: 'delivered' };
  }
  // The receiver said Gone: that stands even when its body then failed (cut off, timed out).
  if (status === 410) return { status: 'failed' };
  const wait = schedule[attemptNumber - 1];
  if (wait === undefined) return { status: 'failed' };
  let delay = wait;
  if ((status === 429 || status === 503) && result.retryAfter !== undefined) {
    const asked = parseRetryAfter(result.retryAfter, now);
    // Why clamped: a receiver may slow us down (up to twice the schedule) but never speed us up,
    // and a huge Retry-After must not park a conversation's head for hours.
    if (asked !== undefined) delay = Math.min(Math.max(asked, wait), 2 * wait);
  }
  return { status: 'pending', nextAttemptAt: now + delay };
}

/** The obsolete asctime form of an HTTP date, the one form without a zone. */
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4}$/i;

/** `Retry-After` as a delay in ms: delta-seconds or an HTTP date; undefined when unparseable. */
export function parseRetryAfter(value: string, now: EpochMs): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  // Why " GMT" is added to the asctime form ("Sun Nov  6 08:49:37 1994"): it writes no zone, and
  // Date.parse would read it in the host's local time zone; every HTTP date is GMT (RFC 9110 §5.6.7).
  const at = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Total attempts a schedule allows. */
export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}
