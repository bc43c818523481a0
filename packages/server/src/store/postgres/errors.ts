// Turns the PostgreSQL driver's "no connection to be had" errors into the catalogue's Busy (503), so a
// client is told to try again shortly instead of getting a bare 500. Every other error passes unchanged.

import { HooksterError } from '../../domain/errors.js';

/** pg-pool's error when every pooled connection stayed taken for the pool's whole wait (no code). */
const POOL_WAIT_EXPIRED = 'timeout exceeded when trying to connect';
/** SQLSTATE too_many_connections: the server's max_connections (or the role's limit) is reached. */
const TOO_MANY_CONNECTIONS = '53300';

export function translatePostgresError(error: unknown): never {
  if (error instanceof HooksterError) throw error;
  const driver = error as { code?: unknown; message?: unknown } | undefined;
  if (driver?.message === POOL_WAIT_EXPIRED || driver?.code === TOO_MANY_CONNECTIONS) {
    const busy = HooksterError.of('Busy');
    Object.defineProperty(busy, 'cause', { value: error, enumerable: false });
    throw busy;
  }
  throw error;
}
