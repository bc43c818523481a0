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

interface CommandModule {
  [name: string]: (argv: string[]) => Promise<number | void>;
}

/** listen/send live in modules of the SDK part; loaded on demand by a computed specifier. */
async function runExternal(file: string, exportName: string, argv: string[]): Promise<number> {
  const specifier = `./${file}.js`;
  const module = (await import(specifier)) as CommandModule;
  const run = module[exportName];
  if (!run) throw new Error(`${file}: ${exportName} is missing`);
  return (await run(argv)) ?? 0;
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
    case 'listen':
      return runExternal('listen', 'runListen', rest);
    case 'send':
      return runExternal('send', 'runSend', rest);
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

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running (it resolves with -1 and exits on a signal); everything else exits now.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`hookster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
