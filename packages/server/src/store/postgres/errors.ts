// Turns the PostgreSQL driver's "no connection to be had" errors, a statement cut off by the statement
// timeout, a session ended for idling inside a transaction and a transaction aborted to break a deadlock
// into the catalogue's Busy (503), and a server that cannot be reached into DatabaseUnreachable
// (503), so a client is told to try again shortly instead of getting a bare 500. Every other error passes
// unchanged.

import { HooksterError } from '../../domain/errors.js';

/** pg-pool's error when every pooled connection stayed taken for the pool's whole wait (no code). */
const POOL_WAIT_EXPIRED = 'timeout exceeded when trying to connect';
/** SQLSTATE too_many_connections: the server's max_connections (or the role's limit) is reached. */
const TOO_MANY_CONNECTIONS = '53300';
/**
 * SQLSTATE query_canceled: the statement ran past HOOKSTER_PG_STATEMENT_TIMEOUT (most often waiting on
 * a lock another session holds) or was cancelled by an operator. Its transaction is rolled back:
 * nothing changed, and the client may try again, as after SQLite's busy_timeout.
 */
const QUERY_CANCELED = '57014';
/**
 * SQLSTATE idle_in_transaction_session_timeout: the server ended a session this process left idle
 * inside a transaction for longer than allowed (connection.ts), i.e. the process was held up between
 * two statements (stopped, starved of CPU). The transaction is rolled back and the connection dropped
 * (tx.ts): the client may try again. And idle_session_timeout (PostgreSQL 14), which an operator may
 * set on the server: a session idle outside a transaction ended just as a statement was sent on it.
 */
const SESSION_TIMED_OUT = new Set(['25P03', '57P05']);
/**
 * SQLSTATE deadlock_detected: PostgreSQL aborted the transaction to let another one through (the lock
 * orders of store/postgres are meant to leave no deadlock among its own statements; a transaction
 * elsewhere, e.g. in a psql shell, can still make one). Nothing was changed: the client may try again.
 */
const DEADLOCK_DETECTED = '40P01';
/** Answered Busy (503): nothing was changed, and the same request may well succeed shortly. */
const BUSY_CODES = new Set([TOO_MANY_CONNECTIONS, QUERY_CANCELED, ...SESSION_TIMED_OUT, DEADLOCK_DETECTED]);

/**
 * The server cannot be reached or is going away: a restart or fail-over (admin_shutdown,
 * crash_shutdown, cannot_connect_now), a refused or cut connection. Answered 503 (the client tries
 * again, as after a restart it must anyway), not 500.
 */
const UNREACHABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);
/** pg's errors for a connection that ended under a query, or before it (no code). */
const CONNECTION_ENDED =
  /^Connection terminated|^Client has encountered a connection error and is not queryable/;

export function translatePostgresError(error: unknown): never {
  if (error instanceof HooksterError) throw error;
  const driver = error as { code?: unknown; message?: unknown } | undefined;
  if (
    driver?.message === POOL_WAIT_EXPIRED ||
    (typeof driver?.code === 'string' && BUSY_CODES.has(driver.code))
  ) {
    throw withCause(HooksterError.of('Busy'), error);
  }
  if (
    (typeof driver?.code === 'string' && UNREACHABLE_CODES.has(driver.code)) ||
    (typeof driver?.message === 'string' && CONNECTION_ENDED.test(driver.message))
  ) {
    throw withCause(HooksterError.of('DatabaseUnreachable'), error);
  }
  throw error;
}

function withCause(target: HooksterError, cause: unknown): HooksterError {
  Object.defineProperty(target, 'cause', { value: cause, enumerable: false });
  return target;
}
