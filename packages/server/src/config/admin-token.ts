// The admin token when HOOKSTER_ADMIN_TOKEN is unset: generated once, kept in the data folder, reused.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secret } from '../domain/ids.js';
import { ConfigError } from './load.js';
import { parseToken } from './schema.js';
import type { HooksterConfig } from './types.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Returns the configured admin token, else the one stored in `<dataDir>/admin-token`, else a new one
 * written there (mode 0600) and announced once through `announce` (stderr by default).
 */
export function resolveAdminToken(
  config: HooksterConfig,
  announce: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): string {
  if (config.adminToken !== '') return config.adminToken;
  const path = join(config.dataDir, ADMIN_TOKEN_FILE);
  const existing = readToken(path);
  if (existing) return existing;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const token = secret();
  try {
    // 'wx' fails if another process created the file first; then that process's token wins.
    writeFileSync(path, token + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = readToken(path);
      if (raced) return raced;
    }
    throw error;
  }
  announce(`hookster: generated the admin token (kept in ${path}; shown only this once): ${token}`);
  return token;
}

/** The stored token, held to the same rule as HOOKSTER_ADMIN_TOKEN (an edited file could weaken it). */
function readToken(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === '') return undefined;
    try {
      return parseToken(text);
    } catch (error) {
      throw new ConfigError([`${path}: ${(error as Error).message}`]);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
