// Percentiles by nearest rank, rounding and number formatting for the benchmark tables.

export function summarize(values, count = values.length) {
  if (count === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = Float64Array.from(
    values.subarray ? values.subarray(0, count) : values.slice(0, count),
  ).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const rank = (p) => sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))];
  return { count, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[count - 1], mean: sum / count };
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// 12345.6 → "12,346"; null → "—".
export function int(value) {
  return value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : Math.round(value).toLocaleString('en-US');
}

export function fixed(value, digits = 1) {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

export function ratio(a, b, digits = 2) {
  return a && b ? (a / b).toFixed(digits) : '—';
}

// A Markdown table (the same text reads well in a terminal and pastes into docs/benchmarks.md).
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r, first) =>
    '| ' +
    r.map((c, i) => (i === 0 || first ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') +
    ' |';
  const sep =
    '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(all[0], true), sep, ...all.slice(1).map((r) => line(r, false))].join('\n');
}
