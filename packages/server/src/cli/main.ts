#!/usr/bin/env node
// The `hookster` command: serve, migrate, listen, send, --version. Argument parsing and output only.

import { readFileSync } from 'node:fs';

const USAGE = `Usage: hookster <command> [options]

Commands:
  serve     Run the engine (HTTP API, websocket gateway, webhook dispatcher); see hookster serve --help
  migrate   Apply pending database migrations and exit
  listen    Run a local receiver that verifies and prints deliveries (hookster listen --help)
  send      Submit a test activity (hookster send --help)

Options:
  --version  Print the version
  --help     Print this help
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { runServe } = await import('./serve.js');
      return runServe(rest);
    }
    case 'migrate': {
      const { runMigrate } = await import('./migrate.js');
      return runMigrate(rest);
    }
    case 'listen': {
      // listen and send belong to the SDK part; loaded only when asked for.
      const { runListen } = await import('./listen.js');
      return runListen(rest);
    }
    case 'send': {
      const { runSend } = await import('./send.js');
      return runSend(rest);
    }
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`hookster: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

/** A one-line message for failures caused by the environment, not by Hookster; undefined otherwise. */
function operationalMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: unknown; syscall?: unknown; operational?: unknown };
  if (e.operational === true) return e.message;
  // Node's system errors (EADDRINUSE, ECONNREFUSED, EACCES, ENOTDIR…) carry the failed call.
  if (typeof e.code === 'string' && typeof e.syscall === 'string') return e.message;
  if (e.name === 'SqliteError') return `SQLite: ${e.message}`;
  // The PostgreSQL server's refusals (a role or database that does not exist, a wrong password) carry
  // its severity and SQLSTATE; the driver's own "does not support SSL" is one more setting to fix.
  const pg = error as { severity?: unknown };
  if (typeof pg.severity === 'string' && typeof e.code === 'string') return `PostgreSQL: ${e.message}`;
  if (/server does not support SSL connections/.test(e.message)) return `PostgreSQL: ${e.message}`;
  // fetch's "fetch failed" carries the system error (ECONNREFUSED …) as its cause.
  const cause = operationalMessage(e.cause);
  if (cause !== undefined) return `${e.message}: ${cause}`;
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running (it resolves with -1 and exits on a signal); everything else exits now.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // A command line that cannot be run (util.parseArgs' own refusals included): its reason, exit 2.
    const code = (error as { code?: unknown } | undefined)?.code;
    if (
      error instanceof Error &&
      (error.name === 'UsageError' || String(code).startsWith('ERR_PARSE_ARGS') || code === 'ERR_INVALID_URL')
    ) {
      process.stderr.write(`hookster: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    // The environment's refusals (port taken, database unreachable or in use, a path that is not a
    // folder) are said in one line; anything else shows its stack: a bug to diagnose.
    const operational = operationalMessage(error);
    process.stderr.write(
      `hookster: ${operational ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    process.exitCode = 1;
  },
);
