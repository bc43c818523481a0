// Shared run plumbing: settings from the environment, a deadline that stops every child, phases that
// drive the load generator (and the receiver, for end-to-end runs) and collect CPU time per process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, cpuSeconds, forkChild, nextMessage, sleep, stopProcess } from './proc.mjs';

const LIB = fileURLToPath(new URL('.', import.meta.url));

export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

export function envStr(name, fallback) {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

export const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// Runs `main(cleanup)` under a deadline; every function registered with cleanup() runs at the end, in
// reverse order, whether main returned, threw or ran out of time. Exits with main's code (2 = deadline).
export async function runBench(name, deadlineMs, main) {
  const cleanups = [];
  const cleanup = (fn) => cleanups.push(fn);
  const stopAll = async () => {
    while (cleanups.length > 0)
      await cleanups
        .pop()()
        .catch((e) => console.error(`[bench] cleanup failed: ${e.message}`));
  };
  const t0 = Date.now();
  const deadline = setTimeout(async () => {
    console.error(`[bench] ${name}: deadline of ${deadlineMs} ms reached; stopping`);
    await stopAll();
    process.exit(2);
  }, deadlineMs);
  let code = 1;
  try {
    code = await main(cleanup);
  } catch (err) {
    console.error(`[bench] ${name} failed:`, err);
  }
  await stopAll();
  clearTimeout(deadline);
  log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}`);
  process.exit(code);
}

export async function startLoadgen(cleanup) {
  const child = forkChild(join(LIB, 'loadgen.mjs'));
  cleanup(() => stopProcess(child));
  await nextMessage(child, 'ready', 10_000);
  return child;
}

export async function startReceiver(cleanup) {
  const child = forkChild(join(LIB, 'receiver.mjs'));
  cleanup(() => stopProcess(child));
  const { port } = await nextMessage(child, 'ready', 10_000);
  return { child, pid: child.pid, port, url: `http://127.0.0.1:${port}/hook` };
}

/** The machine's CPU time counters (all cores, clock ticks): total and stolen by the hypervisor. */
export function machineTicks() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already counted in user)
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** % of the machine's CPU time stolen by the hypervisor between two machineTicks() samples. */
export function stealPercent(before, after) {
  if (before === undefined || after === undefined || after.total <= before.total) return undefined;
  return Math.round((100 * (after.steal - before.steal)) / (after.total - before.total));
}

export function cpuOf(pids) {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
}

// CPU % (of one core) of each process between two cpuOf() samples over `ms`.
// CPU seconds each process used between two cpuOf() samples.
export function cpuUsed(before, after) {
  const out = {};
  for (const k of Object.keys(after)) {
    if (before[k] !== null && before[k] !== undefined && after[k] !== null) out[k] = after[k] - before[k];
  }
  return out;
}

// CPU ms the system under test spent per activity (the load generator and the receiver excluded): a
// figure that holds up better than rates when other work shares the machine.
export function cpuMsPerActivity(cpuSec, n) {
  let sum = 0;
  for (const [k, v] of Object.entries(cpuSec)) if (k !== 'loadgen' && k !== 'receiver') sum += v;
  return n > 0 ? (1000 * sum) / n : null;
}

export function cpuPercent(before, after, ms) {
  const out = {};
  for (const k of Object.keys(after)) {
    if (before[k] !== null && before[k] !== undefined && after[k] !== null)
      out[k] = Math.round((100 * (after[k] - before[k])) / (ms / 1000));
  }
  return out;
}

// Submissions only: the load generator's own figures.
export async function submitPhase(loadgen, run, { pids = {}, timeoutMs = 120_000 } = {}) {
  const cpu0 = cpuOf(pids);
  const lg = await ask(loadgen, { type: 'run', ...run }, 'result', timeoutMs);
  const cpu1 = cpuOf(pids);
  const cpu = cpuPercent(cpu0, cpu1, lg.finishedAt - lg.startedAt);
  return { loadgen: lg, cpu, cpuMsPerActivity: cpuMsPerActivity(cpuUsed(cpu0, cpu1), lg.ok) };
}

// End to end: reset the receiver, drive the load generator, wait until every activity of the phase arrived
// (or `timeoutMs`). deliveriesPerSec = activities received / (last first receipt − first submit).
export async function deliveryPhase(
  receiver,
  loadgen,
  run,
  { pids = {}, timeoutMs = 120_000, graceMs = 300 } = {},
) {
  await ask(receiver.child, { type: 'reset', phase: run.phase, expected: run.n }, 'reset-ok');
  const cpu0 = cpuOf(pids);
  const ticks0 = machineTicks();
  const done = nextMessage(receiver.child, 'done', timeoutMs);
  done.catch(() => {});
  const lg = await ask(loadgen, { type: 'run', ...run }, 'result', timeoutMs);
  if (lg.errors > 0) receiver.child.send({ type: 'expect', expected: lg.ok });
  let timedOut = false;
  try {
    await done;
  } catch {
    timedOut = true;
  }
  const cpu1 = cpuOf(pids);
  const ticks1 = machineTicks();
  await sleep(graceMs); // late duplicates still count
  const st = await ask(receiver.child, { type: 'stats' }, 'stats');
  const windowMs = (st.lastAt ?? lg.finishedAt) - lg.startedAt;
  return {
    loadgen: lg,
    receiver: st,
    timedOut,
    windowMs,
    deliveriesPerSec: st.unique / (windowMs / 1000),
    cpu: cpuPercent(cpu0, cpu1, windowMs),
    cpuMsPerActivity: cpuMsPerActivity(cpuUsed(cpu0, cpu1), st.unique),
    // A virtual machine's hypervisor may take CPU time from it ("steal"): a phase that lost much of
    // it measured the neighbours as much as the system under test.
    stealPercent: stealPercent(ticks0, ticks1),
  };
}
