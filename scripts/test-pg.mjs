// The PostgreSQL part of `npm test`: the scale-out tests (alone, as they restart PostgreSQL), then the
// engine's end-to-end suite (packages/server/test) a second time on PostgreSQL, every engine a test
// starts in a schema of its own in the `test` database. Under CI=true PostgreSQL is mandatory;
// elsewhere the run is skipped with a visible message when no server answers.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.HOOKSTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ci = process.env.CI === 'true';

async function reachable() {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    // Schemas left by earlier runs (hk_* : one per engine or store under test) are dropped first.
    const { rows } = await client.query("select nspname from pg_namespace where nspname ~ '^hk_'");
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
    return true;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => {});
  }
}

const status = await reachable();
if (status !== true) {
  const message = `PostgreSQL at ${url} is not reachable (${status?.message ?? status})`;
  if (ci) {
    console.error(`FAIL: ${message}; it is mandatory under CI=true`);
    process.exit(1);
  }
  console.warn(`\n*** SKIPPED the PostgreSQL run of the engine suite: ${message} ***\n`);
  process.exit(0);
}
function vitest(title, args, env) {
  console.log(`\n=== ${title} ===\n`);
  const run = spawnSync('npx', ['vitest', 'run', ...args], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

// Alone first: these tests kill workers and restart PostgreSQL itself.
vitest(
  'Scale-out on PostgreSQL: 1 API + 3 workers, kill -9, PostgreSQL restart',
  ['packages/server/test/scale'],
  {
    HOOKSTER_TEST_SCALE: '1',
  },
);
vitest(`The engine suite on PostgreSQL (${url})`, ['packages/server/test', ...process.argv.slice(2)], {
  HOOKSTER_TEST_DATABASE_URL: url,
});
