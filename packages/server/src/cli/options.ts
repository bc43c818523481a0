// Command-line options shared by serve and migrate: every configuration setting's flag plus --config.

import { parseArgs } from 'node:util';
import { settings } from '../config/schema.js';

/** A command line that cannot be run as given: said in one line with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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
  const { values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  const flags: Record<string, string | undefined> = {};
  for (const setting of settings) {
    const value = setting.flag ? values[setting.flag] : undefined;
    if (typeof value === 'string') flags[setting.flag as string] = value;
  }
  const parsed: ParsedOptions = { flags, help: values.help === true };
  if (typeof values.config === 'string') parsed.configFile = values.config;
  return parsed;
}
