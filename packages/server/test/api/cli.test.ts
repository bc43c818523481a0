// The `hookster` command: serve --help lists every setting, bad configuration stops the start with a
// clear error, the generated admin token is printed once and reused, migrate, --version, SIGTERM.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { settings } from '../../src/config/schema.js';
import { apiClient } from '../support/client.js';
import { startEngine } from '../support/engine.js';
import { useTempDirs } from '../support/temp-dirs.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const tempDir = useTempDirs();

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOOKSTER_')) clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...clean, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    // 'close', not 'exit': at 'exit' the child's stdout and stderr may not all have been read.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('hookster CLI', () => {
  it('lists every setting with its default and description in serve --help', async () => {
    const result = await run(['serve', '--help']);
    expect(result.code).toBe(0);
    for (const setting of settings) {
      expect(result.stdout).toContain(setting.env);
      if (setting.flag) expect(result.stdout).toContain(`--${setting.flag}`);
    }
    expect(result.stdout).toContain('default: sqlite:./data/hookster.db');
    expect(result.stdout).toContain('default: 2m,4m,6m,8m,10m');
  });

  it('stops at start with an error naming each invalid variable', async () => {
    const dir = tempDir('hookster-cli-');
    const result = await run(['serve', '--port', '99999'], {
      HOOKSTER_DATABASE_URL: `sqlite:${join(dir, 'h.db')}`,
      HOOKSTER_RETRY_SCHEDULE: '2m,later',
      HOOKSTER_EGRESS_ALLOW: '127.0.0.1/32',
      HOOKSTER_LOG_LEVEL: 'loud',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port');
    expect(result.stderr).toContain('HOOKSTER_RETRY_SCHEDULE');
    expect(result.stderr).toContain('HOOKSTER_LOG_LEVEL');
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('reads settings from a --config file and names its invalid keys', async () => {
    const dir = tempDir('hookster-cli-');
    const file = join(dir, 'hookster.json');
    writeFileSync(
      file,
      JSON.stringify({ databaseUrl: `sqlite:${join(dir, 'h.db')}`, deliveryTimeoutMs: 'soon' }),
    );
    const result = await run(['serve', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`deliveryTimeoutMs in ${file}`);
  });

  it('generates the admin token at first start, prints it once and reuses it', async () => {
    const dir = tempDir('hookster-cli-');
    const env = { HOOKSTER_ADMIN_TOKEN: '', HOOKSTER_DATA_DIR: '' };
    // startEngine always sets a token; run serve directly on a database in `dir` without one.
    const first = await startEngine({
      databaseUrl: `sqlite:${join(dir, 'hookster.db')}`,
      env: { ...env, HOOKSTER_DATA_DIR: dir },
      adminToken: '',
    });
    try {
      const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(first.output()).toContain(token);
      expect((await apiClient(first.url, token).get('/api/v1/hubs')).status).toBe(200);
      const before = first.output().split(token).length;
      await first.restart();
      expect(first.output().split(token).length).toBe(before);
      expect((await apiClient(first.url, token).get('/api/v1/hubs')).status).toBe(200);
    } finally {
      await first.stop();
    }
  });

  it('warns at start about a HOOKSTER_* variable that is not a setting, naming the nearest one, and starts', async () => {
    const engine = await startEngine({
      env: { HOOKSTER_SMTP_ULR: 'smtp://127.0.0.1:1', HOOKSTER_TEST_ONLY_FOR_THE_SUITE: '1' },
    });
    try {
      expect(engine.output()).toContain(
        'hookster serve: warning: HOOKSTER_SMTP_ULR is not a setting and is ignored (did you mean HOOKSTER_SMTP_URL?)',
      );
      expect(engine.output()).not.toContain('HOOKSTER_TEST_ONLY_FOR_THE_SUITE');
      expect((await apiClient(engine.url, engine.adminToken).get('/api/v1/hubs')).status).toBe(200);
    } finally {
      await engine.stop();
    }
  });

  it('migrates a new database and prints the version', async () => {
    const dir = tempDir('hookster-cli-');
    const migrated = await run(['migrate', '--database-url', `sqlite:${join(dir, 'm.db')}`]);
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout.trim())).toMatchObject({ msg: 'migrated', store: 'sqlite' });
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = await run(['fly']);
    expect(unknown.code).toBe(2);
  });

  it('refuses a second process beside a --role all one on its SQLite file, in one line', async () => {
    // Before: both ran and each sent deliveries the other had in flight (a quarter to half twice).
    const dir = tempDir('hookster-cli-');
    const file = join(dir, 'h.db');
    const env = {
      HOOKSTER_DATABASE_URL: `sqlite:${file}`,
      HOOKSTER_ADMIN_TOKEN: 'a-long-enough-admin-token',
    };
    const first = await startEngine({ databaseUrl: `sqlite:${file}`, adminToken: env.HOOKSTER_ADMIN_TOKEN });
    try {
      for (const role of ['all', 'worker', 'api']) {
        const second = await run(['serve', '--role', role, '--port', '0', '--host', '127.0.0.1'], env);
        expect(second.code, role).toBe(1);
        expect(second.stderr, role).toContain(`uses ${file}`);
        expect(second.stderr, role).not.toMatch(/\n\s+at /);
      }
      // The first one still serves.
      expect((await apiClient(first.url, first.adminToken).get('/readyz')).status).toBe(200);
    } finally {
      await first.stop();
    }
    // Once it is gone (however it ended), the file is free again.
    const api = await startEngine({
      role: 'api',
      databaseUrl: `sqlite:${file}`,
      adminToken: env.HOOKSTER_ADMIN_TOKEN,
    });
    try {
      const all = await run(['serve', '--port', '0', '--host', '127.0.0.1'], env);
      expect(all.code).toBe(1);
      expect(all.stderr).toContain('must be the only one');
    } finally {
      await api.kill();
      await api.stop();
    }
    const again = await startEngine({ databaseUrl: `sqlite:${file}`, adminToken: env.HOOKSTER_ADMIN_TOKEN });
    await again.stop();
  });

  it('answers a send or listen command line it cannot run with its reason and exit code 2', async () => {
    // Before: exit 1 with the usage wrapped in an Error's stack trace.
    for (const args of [
      ['send'],
      ['send', '--token', 'x'],
      ['send', '--bogus'],
      ['send', '--url', 'notaurl', '--token', 'x', '--conversation', 'c'],
      ['send', '--timeout', 'soon', '--token', 'x', '--conversation', 'c'],
      ['listen'],
      ['listen', '--key', 'a:b', '--port', '99999'],
      ['listen', '--bogus'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^hookster: \S/);
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('answers an unknown serve option with its reason and a pointer to --help, not the whole help', async () => {
    const result = await run(['serve', '--prot', '9000']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^hookster serve: .*--prot/),
      'Every option: hookster serve --help',
    ]);
  });

  it('says a PostgreSQL refusal at start (a role that does not exist) in one line, without a stack', async () => {
    const dir = tempDir('hookster-cli-pg-');
    const result = await run(['serve', '--port', '0', '--data-dir', dir], {
      HOOKSTER_DATABASE_URL: 'postgres://no_such_role_hookster@127.0.0.1:5432/test',
    });
    expect(result.code).toBe(1);
    const line = result.stderr
      .split('\n')
      .find((l) => l.startsWith('hookster: ') && !l.includes('admin token'));
    // PostgreSQL runs here in CI; elsewhere an absent server is the one-line ECONNREFUSED.
    expect(line, result.stderr).toMatch(
      /^hookster: (PostgreSQL: role "no_such_role_hookster" does not exist|.*ECONNREFUSED)/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says a taken port in one line, without a stack', async () => {
    const engine = await startEngine();
    try {
      const port = new URL(engine.url).port;
      const dir = tempDir('hookster-cli-');
      const result = await run(['serve', '--port', port, '--host', '127.0.0.1'], {
        HOOKSTER_DATABASE_URL: `sqlite:${join(dir, 'h.db')}`,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EADDRINUSE');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await engine.stop();
    }
  });

  it('fails with a one-line reason when send gets no answer at its --url, never exit 0 in silence', async () => {
    // A server that closes every connection at once (a wrong port: some other service). Before, the
    // command ended with code 0 and no output; a port fetch refuses to dial printed a stack.
    const closer = createServer((socket) => socket.destroy());
    closer.listen(0, '127.0.0.1');
    await once(closer, 'listening');
    try {
      const port = (closer.address() as AddressInfo).port;
      const cases = [
        [
          `http://127.0.0.1:${port}`,
          /^hookster send: (no answer from|cannot reach) http:\/\/127\.0\.0\.1:\d+/,
        ],
        ['http://127.0.0.1:1', /^hookster send: cannot reach http:\/\/127\.0\.0\.1:1: bad port/],
      ] as const;
      for (const [url, reason] of cases) {
        const args = ['send', '--token', 'x', '--conversation', 'c', '--url', url, '--timeout', '2s'];
        const result = await run(args);
        expect(result.code, `${url}: ${result.stdout} ${result.stderr}`).toBe(1);
        expect(result.stderr, url).toMatch(reason);
        expect(result.stderr.trim().split('\n'), url).toHaveLength(1);
      }
    } finally {
      closer.close();
    }
  });

  it('refuses --role api or worker on an in-memory SQLite database, which no other process can open', async () => {
    // Before: an api process answered submissions 200 that no worker could ever deliver.
    for (const role of ['api', 'worker']) {
      const result = await run(['serve', '--role', role, '--port', '0', '--host', '127.0.0.1'], {
        HOOKSTER_DATABASE_URL: 'sqlite::memory:',
        HOOKSTER_ADMIN_TOKEN: 'a-long-enough-admin-token',
      });
      expect(result.code, role).toBe(2);
      expect(result.stderr, role).toMatch(/--role.*in-memory/);
      expect(result.stderr, role).not.toMatch(/\n\s+at /);
    }
  });

  it('exits cleanly on SIGTERM', async () => {
    const engine = await startEngine();
    const code = await engine.kill('SIGTERM');
    expect(code).toBe(0);
    await engine.stop();
  });
});
