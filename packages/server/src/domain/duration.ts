// Durations as written in configuration: "250ms", "10s", "2m", "1h" (a bare number is milliseconds).

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Longer text is no duration (and is not handed to a regular expression at all). */
const MAX_DURATION_CHARS = 64;
/** Trimmed first: two runs of spaces around an optional unit backtracked quadratically (12 s for 200,000). */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Parses one duration; returns undefined when the text is not a valid non-negative duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed.length > MAX_DURATION_CHARS) return undefined;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  const value = Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

/**
 * The longest wait between two attempts of a retry schedule (a week; Stripe retries for three days,
 * Svix for about a day and a half). A longer step is refused rather than stored: it would also overflow
 * a timer (at most 2^31 − 1 ms) and, far enough, a date.
 */
export const MAX_RETRY_WAIT_MS = 7 * 24 * 3_600_000;

/** Timers (setTimeout) take at most 2^31 − 1 ms: a longer setting would fire after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses "2m,4m,6m" into milliseconds; undefined if any element is invalid or the list is empty. */
export function parseDurationList(text: string): number[] | undefined {
  // Room for 100 steps of the longest duration (a retry schedule has at most 50): only a bound on work.
  if (text.length > 100 * (MAX_DURATION_CHARS + 1)) return undefined;
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) return undefined;
  const values = parts.map(parseDuration);
  return values.every((v): v is number => v !== undefined) ? values : undefined;
}
