// `hookster migrate`: applies pending migrations to the configured database and exits.

import { ConfigError, loadConfig } from '../config/load.js';
import { openStore } from '../store/open.js';
import { parseSettingFlags } from './options.js';

export async function runMigrate(argv: string[]): Promise<number> {
  let config;
  try {
    const parsed = parseSettingFlags(argv);
    if (parsed.help) {
      process.stdout.write('Usage: hookster migrate [--database-url <url>] [--config <file>]\n');
      return 0;
    }
    config = loadConfig({ flags: parsed.flags, configFile: parsed.configFile });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError) {
      process.stderr.write(`hookster migrate: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
  const store = await openStore(config.databaseUrl);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  process.stdout.write(JSON.stringify({ msg: 'migrated', store: store.kind }) + '\n');
  return 0;
}
