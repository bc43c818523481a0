// The BullMQ + Redis reference sender (../shared/baselines/bullmq-sender), run from a private copy:
// copied to a temporary folder and `npm ci`-ed there on first use (../shared may be read-only), then
// its own submit-server.mjs and worker.mjs are forked next to a private redis-server.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkChild, nextMessage, sleep, spawnChild, stopProcess } from './proc.mjs';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BASELINE_SRC = resolve(
  process.env.BASELINE_SRC ?? join(REPO_ROOT, '..', 'shared', 'baselines', 'bullmq-sender'),
);
export const BASELINE_DIR = resolve(
  process.env.BASELINE_DIR ?? join(tmpdir(), 'hookster-bench', 'bullmq-sender'),
);
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6390);
// The one durable mode the comparison uses: AOF on, fsync once per second (BullMQ's usual production setting).
export const REDIS_PERSISTENCE = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];

function makeWritable(path) {
  const st = statSync(path);
  chmodSync(path, st.mode | 0o200);
  if (st.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

// Copies the baseline and installs its pinned dependencies unless an up-to-date copy is already there.
export function ensureBaseline(log) {
  if (!existsSync(join(BASELINE_SRC, 'package.json'))) {
    throw new Error(`baseline not found at ${BASELINE_SRC} (set BASELINE_SRC)`);
  }
  const lock = (dir) =>
    existsSync(join(dir, 'package-lock.json')) ? readFileSync(join(dir, 'package-lock.json'), 'utf8') : null;
  const fresh =
    existsSync(join(BASELINE_DIR, 'node_modules', 'bullmq', 'package.json')) &&
    lock(BASELINE_DIR) === lock(BASELINE_SRC);
  if (fresh) return BASELINE_DIR;
  log(`copying the baseline to ${BASELINE_DIR} and running npm ci there`);
  rmSync(BASELINE_DIR, { recursive: true, force: true });
  cpSync(BASELINE_SRC, BASELINE_DIR, { recursive: true, filter: (src) => !src.includes('node_modules') });
  makeWritable(BASELINE_DIR);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: BASELINE_DIR,
    stdio: 'inherit',
  });
  return BASELINE_DIR;
}

export function baselineVersions() {
  const v = (name) =>
    JSON.parse(readFileSync(join(BASELINE_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  let redis = null;
  try {
    redis =
      /v=(\S+)/.exec(
        execFileSync(process.env.REDIS_SERVER || 'redis-server', ['--version']).toString(),
      )?.[1] ?? null;
  } catch {
    redis = null;
  }
  return { bullmq: v('bullmq'), ioredis: v('ioredis'), redis };
}

function pingRedis(port) {
  return new Promise((resolvePing) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok) => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

// A private redis-server on 127.0.0.1:REDIS_PORT in a fresh data folder; stop() ends it by pid.
export async function startRedis() {
  if (await pingRedis(REDIS_PORT))
    throw new Error(`something already answers on 127.0.0.1:${REDIS_PORT}; set REDIS_PORT`);
  const dir = mkdtempSync(join(tmpdir(), 'hookster-bench-redis-'));
  const child = spawnChild(process.env.REDIS_SERVER || 'redis-server', [
    '--port',
    String(REDIS_PORT),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
    ...REDIS_PERSISTENCE,
  ]);
  const spawned = await new Promise((ok) => {
    child.once('spawn', () => ok(true));
    child.once('error', () => ok(false));
  });
  if (!spawned)
    throw new Error(
      'could not run redis-server: install it (apt-get install -y redis-server) or set REDIS_SERVER',
    );
  for (let i = 0; i < 100 && !(await pingRedis(REDIS_PORT)); i += 1) await sleep(100);
  if (!(await pingRedis(REDIS_PORT))) {
    await stopProcess(child, 1000);
    throw new Error(`redis-server did not answer on ${REDIS_PORT}:\n${child.tail}`);
  }
  return {
    pid: child.pid,
    async stop() {
      await stopProcess(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const childEnv = () => ({ REDIS_PORT: String(REDIS_PORT), QUEUE_NAME: 'webhooks' });

// The baseline's submit endpoint (bare node:http → queue.add()); resolves with its URL once ready.
export async function startBaselineSubmit() {
  const child = forkChild(join(BASELINE_DIR, 'submit-server.mjs'), {
    cwd: BASELINE_DIR,
    env: { ...childEnv(), SUBMIT_PORT: '0' },
  });
  const { port } = await nextMessage(child, 'ready', 20_000);
  return {
    child,
    pid: child.pid,
    url: `http://127.0.0.1:${port}/activities`,
    stop: () => stopProcess(child),
  };
}

// The baseline's BullMQ worker (concurrency 64 by default), delivering to `webhookUrl`.
export async function startBaselineWorker(webhookUrl, concurrency) {
  const child = forkChild(join(BASELINE_DIR, 'worker.mjs'), {
    cwd: BASELINE_DIR,
    env: { ...childEnv(), WEBHOOK_URL: webhookUrl, WORKER_CONCURRENCY: String(concurrency) },
  });
  await nextMessage(child, 'ready', 20_000);
  return { child, pid: child.pid, stop: () => stopProcess(child) };
}

// One Redis command over RESP with an integer answer (e.g. LLEN), or null.
export function redisInteger(...args) {
  return new Promise((ok) => {
    const socket = net.connect({ host: '127.0.0.1', port: REDIS_PORT });
    let answer = '';
    const done = (value) => {
      socket.destroy();
      ok(value);
    };
    socket.setTimeout(2000, () => done(null));
    socket.on('error', () => done(null));
    socket.on('connect', () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n'))
        done(answer.startsWith(':') ? Number(answer.slice(1, answer.indexOf('\r\n'))) : null);
    });
  });
}
