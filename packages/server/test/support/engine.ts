// Starts a REAL engine as a child process (`hookster serve` through tsx, no build needed) on 127.0.0.1
// port 0 with its own SQLite file (or HOOKSTER_TEST_DATABASE_URL when set), for black-box tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface StartEngineOptions {
  /** Extra HOOKSTER_* variables (override the test defaults below). */
  env?: Record<string, string>;
  role?: 'all' | 'api' | 'worker';
  /** Reuse an existing SQLite file (e.g. a second process on the same database). */
  dbPath?: string;
  /** Use this database URL instead of a fresh SQLite file. */
  databaseUrl?: string;
  adminToken?: string;
  /** More command-line arguments after `serve`. */
  args?: string[];
  /** Extra node arguments, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeArgs?: string[];
}

export interface RunningEngine {
  /** Base URL, e.g. http://127.0.0.1:41234 (changes after restart()). */
  url: string;
  adminToken: string;
  /** The SQLite file, or undefined on PostgreSQL. */
  dbPath: string | undefined;
  databaseUrl: string;
  dataDir: string;
  /** Everything the process wrote to stdout/stderr so far (for diagnostics). */
  output(): string;
  /** The engine process's id (changes after restart()). */
  pid(): number;
  /** Sends a signal (default SIGKILL: a crash) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops gracefully (SIGTERM) and starts again on the same database and admin token. */
  restart(): Promise<void>;
  /** Stops gracefully and removes the temporary folder. */
  stop(): Promise<void>;
}

/** Test defaults: fast retries, loopback egress allowed, quiet logs. */
export const TEST_ENV: Record<string, string> = {
  HOOKSTER_RETRY_SCHEDULE: '50ms,100ms,150ms,200ms,250ms',
  HOOKSTER_DELIVERY_TIMEOUT: '2s',
  HOOKSTER_EGRESS_ALLOW: '127.0.0.1/32',
  HOOKSTER_NOTIFY_WINDOW: '15m',
  HOOKSTER_LOG_LEVEL: 'warn',
};

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HOOKSTER_')) env[key] = value;
  }
  return { ...env, ...extra };
}

interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Set when the test asked for the exit (kill/stop/restart). */
  expected: { exit: boolean };
}

function launch(args: string[], env: NodeJS.ProcessEnv, log: string[], nodeArgs: string[]): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', MAIN, 'serve', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const expected = { exit: false };
  // Never leave an engine behind when the test process ends early.
  const reap = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', reap);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // An engine that dies on its own is a finding: show what it printed.
      if (!expected.exit) {
        process.stderr.write(
          `\n[engine exited unexpectedly: code ${code}, signal ${signal}]\n${log.join('')}\n`,
        );
      }
      process.off('exit', reap);
      resolve(code);
    }),
  );
  return new Promise<Child>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine did not start within ${START_TIMEOUT_MS} ms:\n${log.join('')}`));
    }, START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => log.push(chunk));
    child.stdout.on('data', (chunk: string) => {
      log.push(chunk);
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === 'listening' && typeof parsed.url === 'string') {
            clearTimeout(timer);
            resolve({ process: child, url: parsed.url, exited, expected });
          }
        } catch {
          // not a JSON line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with code ${code} before listening:\n${log.join('')}`));
    });
  });
}

async function terminate(child: Child, signal: NodeJS.Signals): Promise<number | null> {
  child.expected.exit = true;
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.exited;
  child.process.kill(signal);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/**
 * With HOOKSTER_TEST_DATABASE_URL set (a PostgreSQL URL: the whole suite's PostgreSQL run), each engine
 * gets a schema of its own, so tests isolate by namespace and never by cleanup order.
 */
export function isolatedTestDatabaseUrl(): string | undefined {
  const base = process.env.HOOKSTER_TEST_DATABASE_URL;
  if (base === undefined || base === '') return undefined;
  const url = new URL(base);
  url.searchParams.set('schema', `hk_e2e_${randomBytes(6).toString('hex')}`);
  return url.toString();
}

/** Drops the schema an isolatedTestDatabaseUrl() named (best effort: a leftover never affects a test). */
export async function dropIsolatedSchema(isolatedUrl: string): Promise<void> {
  const url = new URL(isolatedUrl);
  const schema = url.searchParams.get('schema');
  if (schema === null || !schema.startsWith('hk_e2e_')) return;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } catch (error) {
    process.stderr.write(`[could not drop test schema ${schema}: ${String(error)}]\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts `hookster serve` on 127.0.0.1:0 and resolves once it printed its URL. */
export async function startEngine(options: StartEngineOptions = {}): Promise<RunningEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookster-engine-'));
  // A schema this engine made for itself is dropped by stop(); a given databaseUrl belongs to the caller.
  const ownUrl = options.databaseUrl === undefined ? isolatedTestDatabaseUrl() : undefined;
  const sharedUrl = options.databaseUrl ?? ownUrl;
  const dbPath = sharedUrl ? undefined : (options.dbPath ?? join(dataDir, 'hookster.db'));
  const databaseUrl = sharedUrl ?? `sqlite:${dbPath}`;
  const adminToken = options.adminToken ?? `admin-${randomBytes(16).toString('hex')}`;
  const env = childEnv({
    ...TEST_ENV,
    HOOKSTER_DATABASE_URL: databaseUrl,
    HOOKSTER_ADMIN_TOKEN: adminToken,
    HOOKSTER_DATA_DIR: dataDir,
    ...(options.env ?? {}),
  });
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--role',
    options.role ?? 'all',
    ...(options.args ?? []),
  ];
  const log: string[] = [];
  const nodeArgs = options.nodeArgs ?? [];
  let child = await launch(args, env, log, nodeArgs);
  const engine: RunningEngine = {
    url: child.url,
    adminToken,
    dbPath,
    databaseUrl,
    dataDir,
    output: () => log.join(''),
    pid: () => child.process.pid!,
    kill: (signal = 'SIGKILL') => terminate(child, signal),
    async restart() {
      await terminate(child, 'SIGTERM');
      child = await launch(args, env, log, nodeArgs);
      engine.url = child.url;
    },
    async stop() {
      await terminate(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
      if (ownUrl !== undefined) await dropIsolatedSchema(ownUrl);
    },
  };
  return engine;
}
