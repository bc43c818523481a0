// Process plumbing for the benchmarks: /proc figures, forked children with IPC, bounded waits.
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

// Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one machine.
export function nowMs() {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A field of /proc/<pid>/status in kB (VmHWM = peak resident set, VmRSS = current); null once gone.
export function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function rssMb(pid) {
  const kb = statusKb(pid, 'VmRSS');
  return kb === null ? null : kb / 1024;
}

export function peakRssMb(pid) {
  const kb = statusKb(pid, 'VmHWM');
  return kb === null ? null : kb / 1024;
}

// CPU seconds (user + system) the process has used so far; null once gone.
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

// A Node child with an IPC channel; its output goes to ours.
export function forkChild(file, { env = {}, cwd, execArgv = [] } = {}) {
  return fork(file, [], {
    cwd,
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

// A non-Node child (or a Node one without IPC); the last 8 KiB of its output are kept for error messages.
export function spawnChild(command, args, { env = {}, cwd, echo = false } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.tail = '';
  const keep = (chunk) => {
    child.tail = (child.tail + chunk.toString()).slice(-8192);
    if (echo) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

// Resolves with the first IPC message of `type` from `child`, or rejects on timeout or exit.
export function nextMessage(child, type, timeoutMs, pred = () => true) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg && msg.type === type && pred(msg)) {
        cleanup();
        resolve(msg);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`child exited (${code ?? signal}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${type}'`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export function ask(child, msg, replyType, timeoutMs = 10_000) {
  const reply = nextMessage(child, replyType, timeoutMs);
  child.send(msg);
  return reply;
}

// SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone.
export function stopProcess(child, graceMs = 5000) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// Polls `check` (async, truthy = done) every `everyMs` until it holds or `timeoutMs` passes.
export async function waitUntil(what, check, timeoutMs, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
