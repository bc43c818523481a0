// A PostgreSQL database URL: `postgres://…?schema=name&pool=n`. Separate from connection.ts so the
// configuration can check it at start without loading the driver.

export interface PostgresSettings {
  /** The URL without Hookster's own parameters, for the pg driver. */
  connectionString: string;
  /** Every table lives in this schema (created by migrate()); `public` when the URL names none. */
  schema: string;
  /** Most pooled connections of this process. */
  poolSize: number;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Reads `schema` and `pool` from the query string; the rest goes to the driver unchanged. */
export function parsePostgresUrl(url: string): PostgresSettings {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_RE.test(schema) || schema.startsWith('pg_')) {
    throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _`);
  }
  const poolText = parsed.searchParams.get('pool');
  const poolSize = poolText === null ? 10 : Number(poolText);
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`invalid pool size "${poolText}"`);
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('pool');
  return { connectionString: parsed.toString(), schema, poolSize };
}
