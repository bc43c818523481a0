// Configuration: precedence, validation errors, the generated admin token and the generated docs.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminToken } from './admin-token.js';
import { renderConfigurationMarkdown, renderServeHelp } from './describe.js';
import { ConfigError, loadConfig, unknownSettingVariables } from './load.js';
import { settings } from './schema.js';
import { useTempDirs } from '../../test/support/temp-dirs.js';

const tempDir = useTempDirs();

describe('loadConfig', () => {
  it('resolves the documented defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config.databaseUrl).toBe('sqlite:./data/hookster.db');
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8080);
    expect(config.retryScheduleMs).toEqual([120_000, 240_000, 360_000, 480_000, 600_000]);
    expect(config.deliveryTimeoutMs).toBe(10_000);
    expect(config.egressAllow).toEqual([]);
    expect(config.smtpUrl).toBeUndefined();
    expect(config.notifyWindowMs).toBe(900_000);
    expect(config.sourceSystem).toBe('engine.hubster.io');
    expect(config.bodyLimitBytes).toBe(1_048_576);
    expect(config.batchMaxBytes).toBe(262_144);
    expect(config.role).toBe('all');
    expect(config.adminToken).toBe('');
    expect(config.dataDir).toBe(join(process.cwd(), 'data'));
  });

  it('applies file < env < flags', () => {
    const dir = tempDir('hookster-config-');
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ port: 7000, host: '127.0.0.1', egressAllow: ['10.0.0.0/8', 'a.b'] }),
    );
    const config = loadConfig({
      configFile: file,
      env: { HOOKSTER_PORT: '7001', HOOKSTER_RETRY_SCHEDULE: '100ms,1s', HOOKSTER_SMTP_URL: '' },
      flags: { port: '7002' },
    });
    expect(config.port).toBe(7002);
    expect(config.host).toBe('127.0.0.1');
    expect(config.egressAllow).toEqual(['10.0.0.0/8', 'a.b']);
    expect(config.retryScheduleMs).toEqual([100, 1000]);
    expect(config.smtpUrl).toBeUndefined();
  });

  it('reads an empty list in the config file as "none" for the retry schedule and as empty elsewhere', () => {
    const dir = tempDir('hookster-config-');
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ retryScheduleMs: [], egressAllow: [] }));
    const config = loadConfig({ configFile: file, env: {} });
    expect(config.retryScheduleMs).toEqual([]);
    expect(config.egressAllow).toEqual([]);
  });

  it('accepts CIDRs, addresses and host names in the egress allow-list and refuses anything else', () => {
    const allow =
      '127.0.0.1/32, ::1, fd00::/8, 10.1.2.3, hooks.internal, *.corp.example, localhost, Vm., hook_receiver';
    expect(loadConfig({ env: { HOOKSTER_EGRESS_ALLOW: allow } }).egressAllow).toHaveLength(9);
    for (const bad of [
      '127.0.0.1/33',
      'http://127.0.0.1:7602',
      '300.1.1.1',
      'notacidr/99',
      'host:8080',
      '-x.example',
      // IPv4 in hex: URLs parse such a host as an address, so as a host name it would match nothing.
      '0x7f000001',
      '127.0.0.0x1',
      // Two prefixes: which one was meant is unknown (the first, wider one was taken).
      '10.0.0.0/8/32',
    ]) {
      expect(() => loadConfig({ env: { HOOKSTER_EGRESS_ALLOW: `10.0.0.0/8,${bad}` } }), bad).toThrow(
        new RegExp(`HOOKSTER_EGRESS_ALLOW.*'${bad.replace(/[.*/]/g, '\\$&')}'`),
      );
    }
  });

  it('never shows a refused secret back: the admin token by its length, URL passwords masked', () => {
    const refusal = (env: Record<string, string>): string => {
      try {
        loadConfig({ env });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    const token = refusal({ HOOKSTER_ADMIN_TOKEN: 'correct horse battery-SECRET' });
    expect(token).toMatch(/HOOKSTER_ADMIN_TOKEN: the value \(28 characters\) is invalid/);
    expect(token).not.toMatch(/SECRET/);
    const pg = refusal({ HOOKSTER_DATABASE_URL: 'postgres://app:hunter2@db:5432/app?pool=x' });
    expect(pg).toMatch(/postgres:\/\/\*\*\*@db:5432\/app\?…/);
    expect(pg).not.toMatch(/hunter2/);
    const smtp = refusal({ HOOKSTER_SMTP_URL: 'smtpx://mailer:s3cret@mail.example:587' });
    expect(smtp).not.toMatch(/s3cret/);
    // Passwords a refused URL may hold in any shape: with '/', with '@', in the query.
    for (const url of [
      'postgres://app:ab/cd+SECRET=@db:5432/app',
      'postgres://app:pa@ss-SECRET@db:5432/app?pool=x',
      'postgres://app@db/app?pool=x&sslpassword=SECRET',
      // No scheme (mistyped): the credentials are still before the last '@'.
      'app:SECRET@db:5432/app',
      '//app:SECRET@db/app',
    ]) {
      const shown = refusal({ HOOKSTER_DATABASE_URL: url });
      expect(shown, url).not.toMatch(/SECRET/);
      expect(shown, url).toMatch(url.startsWith('postgres') ? /postgres:\/\// : /\*\*\*@db/);
    }
    const bare = refusal({ HOOKSTER_SMTP_URL: 'mailer:SECRET@mail.example:587' });
    expect(bare).not.toMatch(/SECRET/);
    expect(bare).toMatch(/\*\*\*@mail\.example:587/);
  });

  it('reads HOOKSTER_SYNC as commit (0) or an interval, and refuses anything else', () => {
    expect(loadConfig({ env: {} }).syncIntervalMs).toBe(0);
    expect(loadConfig({ env: { HOOKSTER_SYNC: 'Commit' } }).syncIntervalMs).toBe(0);
    expect(loadConfig({ env: { HOOKSTER_SYNC: '1s' } }).syncIntervalMs).toBe(1000);
    expect(loadConfig({ flags: { sync: '200ms' } }).syncIntervalMs).toBe(200);
    for (const bad of ['0ms', '2m', 'never', 'everysec']) {
      expect(() => loadConfig({ env: { HOOKSTER_SYNC: bad } }), bad).toThrow(/HOOKSTER_SYNC/);
    }
  });

  it('reads HOOKSTER_PG_STATEMENT_TIMEOUT as a duration of at least 100 ms or 0 (off), 60 s by default', () => {
    expect(loadConfig({ env: {} }).pgStatementTimeoutMs).toBe(60_000);
    expect(loadConfig({ env: { HOOKSTER_PG_STATEMENT_TIMEOUT: '0' } }).pgStatementTimeoutMs).toBe(0);
    expect(loadConfig({ env: { HOOKSTER_PG_STATEMENT_TIMEOUT: '2m' } }).pgStatementTimeoutMs).toBe(120_000);
    expect(loadConfig({ flags: { 'pg-statement-timeout': '500ms' } }).pgStatementTimeoutMs).toBe(500);
    // A bare number is milliseconds: `30` meant as seconds would cut off every statement.
    for (const bad of ['30', '0.4', '-1s', 'forever', '600h']) {
      expect(() => loadConfig({ env: { HOOKSTER_PG_STATEMENT_TIMEOUT: bad } }), bad).toThrow(
        /HOOKSTER_PG_STATEMENT_TIMEOUT: .* is invalid: expected 0 \(no limit\) or a duration from 100ms/,
      );
    }
  });

  it('reports every invalid value with the name of its variable, flag or key', () => {
    const dir = tempDir('hookster-config-');
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ nonsense: 1 }));
    const attempt = (): unknown =>
      loadConfig({
        env: { HOOKSTER_PORT: 'eighty', HOOKSTER_RETRY_SCHEDULE: '2m,soon', HOOKSTER_SMTP_URL: 'http://x' },
        flags: { role: 'boss' },
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const text = (error as Error).message;
      expect(text).toContain('HOOKSTER_PORT');
      expect(text).toContain('HOOKSTER_RETRY_SCHEDULE');
      expect(text).toContain('HOOKSTER_SMTP_URL');
      expect(text).toContain('--role');
    }
    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(/nonsense/);
  });

  it('refuses durations a timer cannot wait and retry steps over a week', () => {
    // setTimeout fires after 1 ms for anything over 2^31 − 1 ms; a longer retry wait overflowed dates.
    expect(() => loadConfig({ env: { HOOKSTER_NOTIFY_WINDOW: '597h' } })).toThrow(/HOOKSTER_NOTIFY_WINDOW/);
    expect(loadConfig({ env: { HOOKSTER_NOTIFY_WINDOW: '596h' } }).notifyWindowMs).toBe(596 * 3_600_000);
    expect(() => loadConfig({ env: { HOOKSTER_RETRY_SCHEDULE: '1m,169h' } })).toThrow(
      /HOOKSTER_RETRY_SCHEDULE/,
    );
    expect(loadConfig({ env: { HOOKSTER_RETRY_SCHEDULE: '1m,168h' } }).retryScheduleMs).toEqual([
      60_000,
      168 * 3_600_000,
    ]);
  });

  it('refuses a size too large to be a whole number of bytes instead of failing later with a stack', () => {
    // Number('9'.repeat(400)) is Infinity: Fastify then refused bodyLimit at start with a stack trace.
    const huge = '9'.repeat(400);
    for (const env of ['HOOKSTER_BODY_LIMIT', 'HOOKSTER_BATCH_MAX_BYTES', 'HOOKSTER_WS_SEND_BUFFER']) {
      expect(() => loadConfig({ env: { [env]: huge } }), env).toThrow(new RegExp(`${env}: .* is invalid`));
      expect(() => loadConfig({ env: { [env]: '99999999999999999999MiB' } }), env).toThrow(ConfigError);
    }
    expect(loadConfig({ env: { HOOKSTER_BODY_LIMIT: '1024MiB' } }).bodyLimitBytes).toBe(1024 * 1_048_576);
  });

  it('derives the data folder from the SQLite path', () => {
    const config = loadConfig({ env: { HOOKSTER_DATABASE_URL: 'sqlite:/var/tmp/x/hookster.db' } });
    expect(config.dataDir).toBe('/var/tmp/x');
  });
});

describe('unknownSettingVariables', () => {
  it('names HOOKSTER_* variables no setting reads, with the nearest setting, and nothing else', () => {
    expect(
      unknownSettingVariables({
        HOOKSTER_SMTP_ULR: 'smtp://mail:25',
        HOOKSTER_CONCURENCY: '8',
        HOOKSTER_FROBNICATE: '1',
        HOOKSTER_SMTP_URL: 'smtp://mail:25',
        HOOKSTER_TEST_DATABASE_URL: 'postgres://x',
        HOOKSTER_SCALE_CONVERSATIONS: '4',
        HOOKSTER_PG_URL: 'postgres://x',
        PATH: '/usr/bin',
        hookster_port: '1',
      }),
    ).toEqual([
      { variable: 'HOOKSTER_CONCURENCY', suggestion: 'HOOKSTER_CONCURRENCY' },
      { variable: 'HOOKSTER_FROBNICATE' },
      { variable: 'HOOKSTER_SMTP_ULR', suggestion: 'HOOKSTER_SMTP_URL' },
    ]);
    const every = Object.fromEntries(settings.map((setting) => [setting.env, 'x']));
    expect(unknownSettingVariables(every)).toEqual([]);
  });
});

describe('resolveAdminToken', () => {
  it('generates the token once, keeps it in the data folder and reuses it', () => {
    const dir = tempDir('hookster-token-');
    const config = loadConfig({ env: { HOOKSTER_DATA_DIR: dir } });
    const lines: string[] = [];
    const first = resolveAdminToken(config, (line) => lines.push(line));
    const second = resolveAdminToken(config, (line) => lines.push(line));
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(first);
    expect(readFileSync(join(dir, 'admin-token'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'admin-token')).mode & 0o077).toBe(0);
  });

  it('holds a stored token to the rule of HOOKSTER_ADMIN_TOKEN (an edited file is refused, not trusted)', () => {
    const dir = tempDir('hookster-token-');
    writeFileSync(join(dir, 'admin-token'), 'abc def\n');
    const config = loadConfig({ env: { HOOKSTER_DATA_DIR: dir } });
    expect(() => resolveAdminToken(config, () => undefined)).toThrow(ConfigError);
    expect(() => resolveAdminToken(config, () => undefined)).toThrow(
      /admin-token: expected at least 16 characters/,
    );
  });

  it('prefers the configured token', () => {
    const config = loadConfig({ env: { HOOKSTER_ADMIN_TOKEN: 'configured-token-0123456789' } });
    expect(resolveAdminToken(config, () => undefined)).toBe('configured-token-0123456789');
  });
});

describe('configuration docs', () => {
  it('keeps docs/configuration.md in step with the schema', () => {
    const committed = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigurationMarkdown());
  });

  it('lists every setting with its default in serve --help', () => {
    const help = renderServeHelp();
    for (const setting of settings) expect(help).toContain(setting.env);
    expect(help).toContain('default: 2m,4m,6m,8m,10m');
  });
});
