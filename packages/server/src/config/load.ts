// Resolves HooksterConfig: defaults < JSON config file < HOOKSTER_* env < CLI flags. The only module that
// reads process.env; every invalid value is reported at once, naming the variable, key or flag.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ConfigFileSchema, settings, type Setting } from './schema.js';
import type { HooksterConfig } from './types.js';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigSources {
  /** Flag values by flag name (without dashes), as parsed from the command line. */
  flags?: Record<string, string | undefined>;
  /** Path of a JSON config file (--config). */
  configFile?: string;
  /** Environment; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** Reads the environment of this process (the one place that does). */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`--config ${path}: cannot read a JSON object (${(error as Error).message})`);
    return {};
  }
  if (!Value.Check(ConfigFileSchema, parsed)) {
    for (const error of Value.Errors(ConfigFileSchema, parsed)) {
      const key = error.path.replace(/^\//, '') || '(root)';
      problems.push(`--config ${path}: ${key}: ${error.message}`);
    }
    return {};
  }
  return parsed as Record<string, unknown>;
}

/**
 * A refused value as the error shows it (these lines end up in supervisors' logs): a secret setting by
 * its length only; a URL (database, SMTP) without its user part and query, where credentials live — a
 * refused URL cannot be trusted to parse, so everything up to the last '@' goes.
 */
function shown(setting: Setting, text: string): string {
  if (setting.secret === true) return `the value (${text.length} characters)`;
  const url = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text);
  // Without a scheme (mistyped), a URL setting's text may still hold `user:pass@`.
  if (url === null && setting.credentials !== true) return JSON.stringify(text);
  let rest = url === null ? text : (url[2] ?? '');
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = `***@${rest.slice(at + 1)}`;
  const query = rest.indexOf('?');
  if (query >= 0) rest = `${rest.slice(0, query)}?…`;
  return JSON.stringify(`${url?.[1] ?? ''}${rest}`);
}

function fileText(value: unknown, emptyList = ''): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? emptyList : value.map(String).join(',');
  return String(value);
}

interface Raw {
  text: string;
  source: string;
}

function pickRaw(
  setting: Setting,
  flags: Record<string, string | undefined>,
  env: Record<string, string | undefined>,
  file: Record<string, unknown>,
  configFile: string | undefined,
): Raw | undefined {
  const flag = setting.flag ? flags[setting.flag] : undefined;
  if (flag !== undefined) return { text: flag, source: `--${setting.flag}` };
  // An empty variable counts as unset, as most process managers cannot unset a variable.
  const fromEnv = env[setting.env];
  if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, source: setting.env };
  const fromFile = fileText(file[setting.key], setting.emptyList);
  if (fromFile !== undefined)
    return { text: fromFile, source: `${setting.key} in ${configFile ?? 'config file'}` };
  if (setting.default !== undefined) return { text: setting.default, source: `default of ${setting.env}` };
  return undefined;
}

/** The data folder: explicit, else the SQLite file's folder, else ./data (PostgreSQL). */
function deriveDataDir(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path !== ':memory:') return dirname(resolve(path));
  }
  return resolve('data');
}

/**
 * HOOKSTER_* variables of the test suite and benchmarks (test/, bench/, scripts/): they share the prefix
 * but are not settings of the engine, so they are not reported as unknown.
 */
const TOOL_VARIABLE = /^HOOKSTER_(TEST_|SCALE_|PG_URL$)/;

/** Edit distance between two names (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * HOOKSTER_* variables set in `env` that no setting reads (a misspelt HOOKSTER_SMTP_URL would otherwise
 * silently leave exhaustion e-mails off), each with the closest setting's variable when one is near.
 * Not an error: other tools may use the prefix; `hookster serve` prints them as warnings.
 */
export function unknownSettingVariables(
  env: Record<string, string | undefined> = processEnv(),
): { variable: string; suggestion?: string }[] {
  const known = new Set(settings.map((setting) => setting.env));
  const unknown: { variable: string; suggestion?: string }[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('HOOKSTER_') || known.has(variable) || TOOL_VARIABLE.test(variable)) continue;
    let best: { name: string; distance: number } | undefined;
    for (const name of known) {
      const d = distance(variable, name);
      if (best === undefined || d < best.distance) best = { name, distance: d };
    }
    unknown.push(
      best !== undefined && best.distance <= 3 ? { variable, suggestion: best.name } : { variable },
    );
  }
  return unknown;
}

/**
 * Resolves the configuration. `adminToken` is '' when not configured: resolveAdminToken() fills it.
 * Throws ConfigError listing every invalid value.
 */
export function loadConfig(sources: ConfigSources = {}): HooksterConfig {
  const problems: string[] = [];
  const env = sources.env ?? processEnv();
  const flags = sources.flags ?? {};
  const file = sources.configFile ? readConfigFile(sources.configFile, problems) : {};
  const values: Record<string, unknown> = {};
  const sourceOf: Record<string, string> = {};
  for (const setting of settings) {
    const raw = pickRaw(setting, flags, env, file, sources.configFile);
    if (raw === undefined) continue;
    sourceOf[setting.key] = raw.source;
    try {
      values[setting.key] = setting.parse(raw.text);
    } catch (error) {
      problems.push(`${raw.source}: ${shown(setting, raw.text)} is invalid: ${(error as Error).message}`);
    }
  }
  // A split role works through a database the other processes open too: an in-memory SQLite database
  // lives inside one process (an api process would accept submissions no worker could ever deliver).
  if (problems.length === 0 && values.role !== 'all' && values.databaseUrl === 'sqlite::memory:') {
    problems.push(
      `${sourceOf.role ?? '--role'}: "${String(values.role)}" needs a database other processes open too ` +
        `(a SQLite file or PostgreSQL); the in-memory database of ${sourceOf.databaseUrl ?? 'the database URL'} ` +
        `works only with --role all`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const databaseUrl = values.databaseUrl as string;
  return {
    ...(values as Omit<HooksterConfig, 'adminToken' | 'dataDir'>),
    adminToken: (values.adminToken as string | undefined) ?? '',
    dataDir: values.dataDir !== undefined ? resolve(values.dataDir as string) : deriveDataDir(databaseUrl),
  };
}
