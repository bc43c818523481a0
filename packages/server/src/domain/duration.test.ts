import { describe, expect, it } from 'vitest';
import { parseDuration, parseDurationList } from './duration.js';

describe('parseDuration', () => {
  it('reads numbers with units, bare milliseconds and spaces around them', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(' 10s ')).toBe(10_000);
    expect(parseDuration('2 m')).toBe(120_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration('10x')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });

  it('refuses a long run of spaces before a bad unit at once (it used to take seconds: a tenant could stall the API)', () => {
    // A complexity guard, not a speed test: quadratic backtracking took ~12 s here, linear takes µs.
    const started = performance.now();
    expect(parseDuration(`1${' '.repeat(200_000)}x`)).toBeUndefined();
    expect(parseDurationList(`1${' '.repeat(200_000)}x`)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(parseDurationList(Array(50).fill('10 m').join(', '))).toHaveLength(50);
  });
});
