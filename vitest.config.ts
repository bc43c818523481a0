import { configDefaults, defineConfig } from 'vitest/config';

// The scale tests restart the machine's PostgreSQL, so they never run beside other files:
// scripts/test-pg.mjs runs them alone (HOOKSTER_TEST_SCALE=1) before the PostgreSQL pass.
const scaleOnly = process.env.HOOKSTER_TEST_SCALE === '1';

export default defineConfig({
  test: {
    include: scaleOnly
      ? ['packages/server/test/scale/**/*.test.ts']
      : ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(scaleOnly ? [] : ['packages/server/test/scale/**'])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
