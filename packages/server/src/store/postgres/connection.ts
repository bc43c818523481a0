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

/** How the pooled sessions run (HOOKSTER_SYNC and HOOKSTER_PG_STATEMENT_TIMEOUT). */
export interface SessionOptions {
  /** `synchronous_commit = off` (HOOKSTER_SYNC set to a duration); see createPool. */
  asyncCommit?: boolean;
  /** Longest a statement may run, in ms (0 or absent: no limit); see createPool. */
  statementTimeoutMs?: number;
  /**
   * Longest a session may stay idle inside a transaction, in ms (0: no limit); see createPool. Absent:
   * the statement timeout, but at least MIN_IDLE_IN_TRANSACTION_MS (none without a statement timeout).
   */
  idleInTransactionTimeoutMs?: number;
}

/** Shortest idle_in_transaction_session_timeout derived from the statement timeout; see createPool. */
const MIN_IDLE_IN_TRANSACTION_MS = 60_000;

function clientConfig(settings: PostgresSettings, session: SessionOptions = {}): pg.ClientConfig {
  const timeout = Math.max(0, Math.floor(session.statementTimeoutMs ?? 0));
  const idle = Math.max(
    0,
    Math.floor(
      session.idleInTransactionTimeoutMs ?? (timeout > 0 ? Math.max(timeout, MIN_IDLE_IN_TRANSACTION_MS) : 0),
    ),
  );
  // search_path, synchronous_commit and the timeouts are set in the startup packet: no extra round
  // trip, and they survive reconnects.
  const options = [`-c search_path=${settings.schema}`];
  if (session.asyncCommit === true) options.push('-c synchronous_commit=off');
  if (timeout > 0) options.push(`-c statement_timeout=${timeout}`);
  if (idle > 0) options.push(`-c idle_in_transaction_session_timeout=${idle}`);
  return {
    connectionString: settings.connectionString,
    options: options.join(' '),
    keepAlive: true,
    types,
    application_name: 'hookster',
  };
}

/** How long a new connection may take, and how long a query waits for a pooled connection. */
const CONNECT_TIMEOUT_MS = 10_000;

export type ErrorSink = (message: string, error: unknown) => void;

/**
 * A pool whose idle-client errors (a restarted server, a terminated backend) are reported, not thrown:
 * an unhandled 'error' event would kill the process. Queries running at that moment reject normally.
 *
 * `asyncCommit`: the pool's sessions run `synchronous_commit = off` (HOOKSTER_SYNC set to a duration):
 * a COMMIT returns before its WAL is flushed; the server's WAL writer flushes it within ~3 ×
 * wal_writer_delay (600 ms by default). A crash of Hookster loses nothing answered; a crash of the
 * PostgreSQL server, of the OS or a power failure can undo the commits of that last moment.
 *
 * `statementTimeoutMs` (HOOKSTER_PG_STATEMENT_TIMEOUT, above 0): the server cancels a statement that
 * runs longer, waiting on a lock included (SQLSTATE 57014, answered Busy by errors.ts), so a lock held
 * by another session (a stuck transaction, a migration's DDL) cannot leave a call pending for ever. Why
 * `idle_in_transaction_session_timeout` too, with the same value but at least a minute: it protects the
 * other processes from this one. Hookster never waits on anything but the database inside a
 * transaction, so a session of ours idle in one for a minute belongs to a process that is frozen
 * (stopped, its network silent); the server then ends the session and lets go of its locks. Why not
 * less, with a short statement timeout: between two statements the session also waits for this
 * process's event loop (a garbage collection, a starved CPU, other requests' work), and an ended
 * session fails its transaction (25P03) and is opened again. No `lock_timeout`: statement_timeout already
 * bounds lock waits, and a shorter bound would refuse the brief waits of ordinary contention. Migrations
 * turn the statement timeout off for their transaction (migrate.ts).
 */
export function createPool(
  settings: PostgresSettings,
  onError: ErrorSink,
  session: SessionOptions = {},
): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(settings, session),
    max: settings.poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  pool.on('error', (error) => onError('idle PostgreSQL connection failed', error));
  pool.on('connect', (client) => {
    client.on('error', (error) => onError('PostgreSQL connection failed', error));
  });
  return pool;
}

/**
 * A standalone client (the LISTEN connections); the caller handles its 'error' and 'end' events. Why a
 * connect timeout, as the pool has: a reconnect that meets a server (or a load balancer in front of it)
 * that accepts the connection but never answers would otherwise wait forever, and the process would
 * never be woken by other processes' commits nor carry websocket announcements again.
 */
export function createClient(settings: PostgresSettings): pg.Client {
  return new pg.Client({ ...clientConfig(settings), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
}

/** How often a standalone connection is checked, and how long its answer may take. */
const HEARTBEAT_MS = 5_000;

/**
 * Why a heartbeat on the LISTEN connections: a connection whose network went silent (no FIN, no RST: a
 * peer or middlebox gone) looks open, delivers no notification and, idle, sends nothing that could
 * fail; TCP keepalive would notice after hours. A `SELECT 1` unanswered within HEARTBEAT_MS destroys
 * the socket and calls `onSilent` (the caller re-opens). One query per connection every HEARTBEAT_MS;
 * it stops by itself once `done()` is true.
 */
export function watchConnection(client: pg.Client, done: () => boolean, onSilent: () => void): void {
  let pinging = false;
  const timer = setInterval(() => {
    if (done()) {
      clearInterval(timer);
      return;
    }
    if (pinging) return;
    pinging = true;
    const deadline = setTimeout(() => {
      clearInterval(timer);
      if (done()) return;
      client.connection.stream.destroy();
      onSilent();
    }, HEARTBEAT_MS);
    deadline.unref();
    const answered = (): void => {
      // A lost connection also ends through its 'error'/'end' events; otherwise check again later.
      pinging = false;
      clearTimeout(deadline);
    };
    client.query('SELECT 1').then(answered, answered);
  }, HEARTBEAT_MS);
  timer.unref();
}

/** Double-quotes an identifier (schema or channel name) for SQL text. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
