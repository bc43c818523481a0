// Transactions on a pooled connection: BEGIN … COMMIT, ROLLBACK on any error, the client always released.

import type pg from 'pg';
import { errorItem, HooksterError } from '../../domain/errors.js';

export type Queryable = pg.Pool | pg.PoolClient;

export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection itself failed (server restart, terminated backend): never reuse it.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/** True for a unique-constraint violation, optionally on one named index or constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/**
 * PostgreSQL text cannot hold NUL characters (SQLSTATE 22021 / 22P05): such input is the client's
 * error, so it becomes a 400 listing the problem instead of escaping as a driver error.
 */
export async function refusingBadText<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const code = (error as { code?: string })?.code;
    if (code === '22021' || code === '22P05') {
      throw HooksterError.invalid([
        errorItem('InvalidValue', 'Text values must not contain NUL characters.'),
      ]);
    }
    throw error;
  }
}

/**
 * A lookup by a text key: a key with a NUL character cannot match any stored value (PostgreSQL text
 * cannot hold one), so it is "not found" without a query, as on SQLite, instead of a driver error.
 */
export async function findByText<T>(key: string, find: () => Promise<T | undefined>): Promise<T | undefined> {
  return key.includes('\u0000') ? undefined : find();
}
