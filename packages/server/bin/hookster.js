#!/usr/bin/env node
// The `hookster` command as npm links it (node_modules/.bin/hookster). A committed file, so that `npm ci`
// links it in a fresh clone, before anything is built; the CLI itself is the build output it imports.

import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);

if (!existsSync(main)) {
  process.stderr.write(
    'hookster: the engine is not built yet (no packages/server/dist): run `npm run build` first\n',
  );
  process.exit(1);
}

await import(main.href);
