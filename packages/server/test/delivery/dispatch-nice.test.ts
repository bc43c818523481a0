// Linux: the dispatch thread runs HOOKSTER_DISPATCH_THREAD_NICE nice steps below the engine's main
// thread, so that under CPU pressure answering submissions comes before sending (docs/benchmarks.md).

import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../support/engine.js';

/** The nice value of each thread of a process, by thread id (/proc/<pid>/task/<tid>/stat, field 19). */
function niceByThread(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // After "pid (comm) ": field 3 (state) is at 0, field 19 (nice) at 16.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

let engine: RunningEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('dispatch thread priority', () => {
  it('runs the dispatch thread 5 nice steps below the main thread by default, and only that thread', async () => {
    engine = await startEngine({ env: { HOOKSTER_DISPATCH_THREAD: 'true' } });
    const pid = engine.pid();
    const nice = niceByThread(pid);
    const main = nice.get(pid)!;
    const lowered = [...nice].filter(([, value]) => value !== main);
    expect(lowered).toHaveLength(1);
    expect(lowered[0]![1]).toBe(Math.min(19, main + 5));
  });

  it('keeps every thread at the main thread’s priority with HOOKSTER_DISPATCH_THREAD_NICE=0', async () => {
    engine = await startEngine({
      env: { HOOKSTER_DISPATCH_THREAD: 'true', HOOKSTER_DISPATCH_THREAD_NICE: '0' },
    });
    const pid = engine.pid();
    const nice = niceByThread(pid);
    expect(new Set(nice.values())).toEqual(new Set([nice.get(pid)]));
  });
});
