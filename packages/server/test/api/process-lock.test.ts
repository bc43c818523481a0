// Engine e2e: a `--role all` process must be the only process on its SQLite file (process-lock.ts), as it
// hands fresh deliveries to its dispatcher in memory. A second one is refused at start — also when it
// names the file through another path (a symbolic link), which SQLite resolves to the same database.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../support/engine.js';
import { useTempDirs } from '../support/temp-dirs.js';

const tempDir = useTempDirs();
const running: RunningEngine[] = [];
afterAll(async () => {
  for (const engine of running.reverse()) await engine.stop();
});

async function start(dbPath: string): Promise<RunningEngine> {
  const engine = await startEngine({ dbPath });
  running.push(engine);
  return engine;
}

describe.skipIf(process.env.HOOKSTER_TEST_DATABASE_URL)('one --role all process per SQLite file', () => {
  it('refuses a second --role all process on the same path', async () => {
    const dbPath = join(tempDir('hookster-lock-'), 'hookster.db');
    await start(dbPath);
    await expect(start(dbPath)).rejects.toThrow(/Another Hookster process uses/);
  });

  it('refuses a second --role all process that names the file through a symbolic link', async () => {
    const dir = tempDir('hookster-lock-');
    const dbPath = join(dir, 'hookster.db');
    await start(dbPath);
    const alias = join(dir, 'alias.db');
    symlinkSync(dbPath, alias);
    await expect(start(alias)).rejects.toThrow(/Another Hookster process uses/);
  });
});
