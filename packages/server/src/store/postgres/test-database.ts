// Test support: a fresh random schema on the machine's PostgreSQL per store, and whether it is reachable.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where tests find PostgreSQL (trust auth on loopback); HOOKSTER_TEST_POSTGRES_URL overrides it. */
export const TEST_POSTGRES_URL =
  process.env['HOOKSTER_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A URL naming a schema nobody else uses; migrate() creates it. */
export function freshSchemaUrl(prefix = 't'): { url: string; schema: string } {
  const schema = `hk_${prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), schema };
}

/** Drops test schemas (best effort: a leftover schema never affects another test). */
export async function dropSchemas(schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Resolves true when PostgreSQL answers. Under CI=true an unreachable server is an error (the
 * PostgreSQL run is mandatory there); elsewhere the caller skips with a visible message.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env['CI'] === 'true') {
      throw new Error(`PostgreSQL is required under CI=true but ${TEST_POSTGRES_URL} is unreachable`, {
        cause: error,
      });
    }
    console.warn(`PostgreSQL tests SKIPPED: ${TEST_POSTGRES_URL} is unreachable (${String(error)})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
