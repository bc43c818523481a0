// The retry maths: delivered, retry at the scheduled offset, failed; Retry-After and the attempt budget.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS, decideOutcome, maxAttempts, parseRetryAfter } from './retry.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const schedule = DEFAULT_RETRY_SCHEDULE_MS;

describe('decideOutcome', () => {
  it('marks any 2xx as delivered', () => {
    for (const statusCode of [200, 201, 204, 299]) {
      expect(decideOutcome({ attemptNumber: 1, schedule, result: { statusCode }, now })).toEqual({
        status: 'delivered',
      });
    }
  });

  it('follows the seed table: offsets 0, 2, 6, 12, 20, 30 minutes, then failed', () => {
    let at = now;
    const offsets = [0];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const next = decideOutcome({ attemptNumber: attempt, schedule, result: { statusCode: 500 }, now: at });
      if (attempt === 6) {
        expect(next).toEqual({ status: 'failed' });
        break;
      }
      expect(next.status).toBe('pending');
      if (next.status !== 'pending') return;
      at = next.nextAttemptAt;
      offsets.push((at - now) / 60_000);
    }
    expect(offsets).toEqual([0, 2, 6, 12, 20, 30]);
    expect(maxAttempts(schedule)).toBe(6);
  });

  it('fails at once on 410 Gone', () => {
    expect(decideOutcome({ attemptNumber: 1, schedule, result: { statusCode: 410 }, now })).toEqual({
      status: 'failed',
    });
  });

  it('fails at once on 410 Gone whose body then timed out', () => {
    const result = { statusCode: 410, error: 'timeout after 10000 ms' };
    expect(decideOutcome({ attemptNumber: 1, schedule, result, now })).toEqual({ status: 'failed' });
  });

  it('retries redirects, client errors, timeouts, network errors and refused egress', () => {
    const results = [
      { statusCode: 302 },
      { statusCode: 404 },
      { statusCode: 403 },
      { error: 'timeout after 10000 ms' },
      { error: 'ECONNREFUSED' },
      { error: 'egress refused: 127.0.0.1 is loopback' },
    ];
    for (const result of results) {
      expect(decideOutcome({ attemptNumber: 2, schedule, result, now })).toEqual({
        status: 'pending',
        nextAttemptAt: now + 240_000,
      });
    }
  });

  it('honours Retry-After on 429 and 503 within [wait, 2 × wait]', () => {
    const at = (statusCode: number, retryAfter: string) =>
      decideOutcome({ attemptNumber: 1, schedule, result: { statusCode, retryAfter }, now });
    expect(at(429, '180')).toEqual({ status: 'pending', nextAttemptAt: now + 180_000 });
    expect(at(503, '10')).toEqual({ status: 'pending', nextAttemptAt: now + 120_000 });
    expect(at(503, '100000')).toEqual({ status: 'pending', nextAttemptAt: now + 240_000 });
    const date = new Date(now + 200_000).toUTCString();
    expect(at(429, date)).toEqual({ status: 'pending', nextAttemptAt: now + 200_000 });
    expect(at(429, 'soon')).toEqual({ status: 'pending', nextAttemptAt: now + 120_000 });
  });

  it('ignores Retry-After on other statuses', () => {
    expect(
      decideOutcome({ attemptNumber: 1, schedule, result: { statusCode: 500, retryAfter: '200' }, now }),
    ).toEqual({ status: 'pending', nextAttemptAt: now + 120_000 });
  });

  it('does not extend the attempt budget because of Retry-After', () => {
    expect(
      decideOutcome({ attemptNumber: 6, schedule, result: { statusCode: 429, retryAfter: '1' }, now }),
    ).toEqual({ status: 'failed' });
  });

  it('supports millisecond schedules and a single attempt', () => {
    expect(
      decideOutcome({ attemptNumber: 1, schedule: [50, 100], result: { statusCode: 500 }, now }),
    ).toEqual({
      status: 'pending',
      nextAttemptAt: now + 50,
    });
    expect(decideOutcome({ attemptNumber: 1, schedule: [], result: { statusCode: 500 }, now })).toEqual({
      status: 'failed',
    });
  });

  it('treats an error as a failure even when a status was seen', () => {
    const next = decideOutcome({
      attemptNumber: 1,
      schedule,
      result: { statusCode: 200, error: 'reset' },
      now,
    });
    expect(next.status).toBe('pending');
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0);
  });

  it('rejects anything else', () => {
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('tomorrow', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });
});

describe('Retry-After in the obsolete HTTP-date forms, on a host whose time zone is not UTC', () => {
  // RFC 9110 §5.6.7: recipients MUST accept all three forms, and all three are GMT. V8 reads an
  // asctime date (no zone written) in the host's local time zone: hours off on a host with TZ set.
  const zones = ['America/New_York', 'Asia/Tokyo'];
  const asctime = (ms: number) => {
    const d = new Date(ms);
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
    const month = d.toUTCString().slice(8, 11);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${day} ${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  };

  it('reads an asctime date as GMT whatever TZ says', () => {
    const saved = process.env.TZ;
    try {
      for (const zone of zones) {
        process.env.TZ = zone;
        const text = asctime(now + 180_000); // "Thu Jan  1 12:03:00 2026"
        expect(parseRetryAfter(text, now), `${zone}: ${text}`).toBe(180_000);
        expect(
          decideOutcome({ attemptNumber: 1, schedule, result: { statusCode: 503, retryAfter: text }, now }),
          zone,
        ).toEqual({ status: 'pending', nextAttemptAt: now + 180_000 });
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
