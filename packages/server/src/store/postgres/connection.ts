// PostgreSQL connection settings: parses a `postgres://…?schema=name` URL and builds pools and clients
// that resolve names in that schema, parse bigint as number and never crash the process on errors.

import pg from 'pg';
import { parsePostgresUrl, type PostgresSettings } from './url.js';

export { parsePostgresUrl, type PostgresSettings };

// Why a private type map: epoch milliseconds and counters are bigint columns; as JS numbers they stay
// exact below 2^53, and the global pg.types registry is left alone for any other user of the driver.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

function clientConfig(settings: PostgresSettings): pg.ClientConfig {
  return {
    connectionString: settings.connectionString,
    // search_path is set in the startup packet: no extra round trip, and it survives reconnects.
    options: `-c search_path=${settings.schema}`,
    keepAlive: true,
    types,
    application_name: 'hookster',
  };
}

export type ErrorSink = (message: string, error: unknown) => void;

/**
 * A pool whose idle-client errors (a restarted server, a terminated backend) are reported, not thrown:
 * an unhandled 'error' event would kill the process. Queries running at that moment reject normally.
 */
export function createPool(settings: PostgresSettings, onError: ErrorSink): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(settings),
    max: settings.poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', (error) => onError('idle PostgreSQL connection failed', error));
  pool.on('connect', (client) => {
    client.on('error', (error) => onError('PostgreSQL connection failed', error));
  });
  return pool;
}

/** A standalone client (the LISTEN connection); the caller handles its 'error' and 'end' events. */
export function createClient(settings: PostgresSettings): pg.Client {
  return new pg.Client(clientConfig(settings));
}

/** Double-quotes an identifier (schema or channel name) for SQL text. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
