// Statements whose LIMIT / OFFSET are written into the SQL, one prepared statement per value.
//
// Why: SQLite's planner uses a LIMIT's value, so a statement with `LIMIT ?` is marked to be prepared
// again whenever that parameter is bound — and better-sqlite3 binds every parameter at every run. Such
// a statement is parsed and planned anew at each run (measured with a probe on sqlite3RunParser: every
// claim re-prepared its head and fanout reads, ~1,300 times a second under load). A literal LIMIT is
// planned once. Hot paths take their few limit values from here; rare ones may keep `LIMIT ?`.

import type { Database, Statement } from 'better-sqlite3';

/** Distinct (limit, offset) pairs kept; past it the cache starts again (the values seen are few). */
const MAX_STATEMENTS = 256;

export class LimitedStatement<P extends unknown[], R> {
  private readonly statements = new Map<string, Statement<P, R>>();

  /** `sql` ends where the LIMIT clause goes: `… ORDER BY x` (LIMIT n [OFFSET m] is appended). */
  constructor(
    private readonly db: Database,
    private readonly sql: string,
  ) {}

  /** The rows of `sql LIMIT limit OFFSET offset` (non-negative integers). */
  all(limit: number, offset: number, ...params: P): R[] {
    return this.at(limit, offset).all(...params);
  }

  private at(limit: number, offset: number): Statement<P, R> {
    if (!Number.isSafeInteger(limit) || limit < 0 || !Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`LIMIT ${limit} OFFSET ${offset}: non-negative integers expected`);
    }
    const key = `${limit}/${offset}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      statement = this.db.prepare<P, R>(`${this.sql} LIMIT ${limit}${offset > 0 ? ` OFFSET ${offset}` : ''}`);
      this.statements.set(key, statement);
    }
    return statement;
  }
}
