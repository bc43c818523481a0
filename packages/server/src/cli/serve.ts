// `hookster serve`: resolves the configuration, starts the engine, prints where it listens (a JSON line
// on stdout) and shuts down gracefully on SIGTERM/SIGINT.

import { resolveAdminToken } from '../config/admin-token.js';
import { renderServeHelp } from '../config/describe.js';
import { ConfigError, loadConfig, unknownSettingVariables } from '../config/load.js';
import { createEngine } from '../engine.js';
import { parseSettingFlags } from './options.js';

/** Resolves -1 while serving (the process lives on), or an exit code. */
export async function runServe(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseSettingFlags(argv);
  } catch (error) {
    // The reason alone: the full help (80 lines) would push it off the screen.
    process.stderr.write(
      `hookster serve: ${(error as Error).message}\nEvery option: hookster serve --help\n`,
    );
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(renderServeHelp());
    return 0;
  }
  let config;
  try {
    config = loadConfig({ flags: parsed.flags, configFile: parsed.configFile });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hookster serve: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // Before the start, in the same plain form as a configuration error: a misspelt setting is ignored.
  for (const { variable, suggestion } of unknownSettingVariables()) {
    process.stderr.write(
      `hookster serve: warning: ${variable} is not a setting and is ignored` +
        (suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`) +
        '; every setting: hookster serve --help\n',
    );
  }
  try {
    config.adminToken = resolveAdminToken(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hookster serve: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const engine = await createEngine(config);

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`hookster: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    engine.logger.info({ signal }, 'shutting down');
    engine.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        engine.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Installed before listening, so a signal that arrives as soon as the URL is printed is handled.
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const url = await engine.start();
  // Printed whatever the log level (scripts and supervisors wait for it, e.g. with port 0), shaped like
  // the other log lines (pino's info level) so log shippers take it as one.
  process.stdout.write(
    JSON.stringify({ level: 30, time: Date.now(), msg: 'listening', url, role: config.role }) + '\n',
  );
  return -1;
}
