// Command-line options shared by serve and migrate: every configuration setting's flag plus --config.

import { parseArgs } from 'node:util';
import { settings } from '../config/schema.js';

/** A command line that cannot be run as given: said in one line with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * `--name value` → `--name=value` for these string options. util.parseArgs refuses a separate value
 * that starts with a dash as ambiguous, but tokens and keys may (base64url: one in 64 tokens does).
 * A following argument that is itself one of the options is left alone (the value is then missing).
 */
export function withAttachedValues(argv: readonly string[], names: readonly string[]): string[] {
  const flags = new Set(names.map((name) => `--${name}`));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (flags.has(arg) && next !== undefined && next.startsWith('-') && !flags.has(next.split('=')[0]!)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export interface ParsedOptions {
  flags: Record<string, string | undefined>;
  configFile?: string;
  help: boolean;
}

export function parseSettingFlags(argv: string[]): ParsedOptions {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
  };
  for (const setting of settings) if (setting.flag) options[setting.flag] = { type: 'string' };
  const stringFlags = Object.keys(options).filter((name) => options[name]!.type === 'string');
  const { values } = parseArgs({
    args: withAttachedValues(argv, stringFlags),
    options,
    allowPositionals: false,
    strict: true,
  });
  const flags: Record<string, string | undefined> = {};
  for (const setting of settings) {
    const value = setting.flag ? values[setting.flag] : undefined;
    if (typeof value === 'string') flags[setting.flag as string] = value;
  }
  const parsed: ParsedOptions = { flags, help: values.help === true };
  if (typeof values.config === 'string') parsed.configFile = values.config;
  return parsed;
}
