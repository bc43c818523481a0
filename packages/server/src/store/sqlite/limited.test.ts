// LimitedStatement: the rows of `sql LIMIT n OFFSET m` with n and m written into the SQL, one prepared
// statement per pair, reused.

import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LimitedStatement } from './limited.js';

let db: Database.Database;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, g INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (seq, g) VALUES (?, ?)');
  for (let seq = 1; seq <= 20; seq++) insert.run(seq, seq % 2);
});
afterEach(() => db.close());

it('returns the rows of the limit and offset asked, with the parameters bound', () => {
  const rows = new LimitedStatement<[number], { seq: number }>(
    db,
    'SELECT seq FROM t WHERE g = ? ORDER BY seq',
  );
  expect(rows.all(3, 0, 1).map((r) => r.seq)).toEqual([1, 3, 5]);
  expect(rows.all(2, 3, 1).map((r) => r.seq)).toEqual([7, 9]);
  expect(rows.all(4, 0, 0).map((r) => r.seq)).toEqual([2, 4, 6, 8]);
  expect(rows.all(0, 0, 0)).toEqual([]);
  expect(rows.all(100, 8, 0).map((r) => r.seq)).toEqual([18, 20]);
});

it('prepares one statement per (limit, offset) pair and reuses it', () => {
  const prepare = db.prepare.bind(db);
  const sqls: string[] = [];
  db.prepare = ((sql: string) => {
    sqls.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  const rows = new LimitedStatement<[], { seq: number }>(db, 'SELECT seq FROM t ORDER BY seq');
  for (let k = 0; k < 5; k++) {
    rows.all(2, 0);
    rows.all(2, 4);
  }
  expect(sqls).toEqual([
    'SELECT seq FROM t ORDER BY seq LIMIT 2',
    'SELECT seq FROM t ORDER BY seq LIMIT 2 OFFSET 4',
  ]);
});

it('refuses a limit or offset that is not a non-negative integer (nothing is spliced into SQL)', () => {
  const rows = new LimitedStatement<[], { seq: number }>(db, 'SELECT seq FROM t ORDER BY seq');
  for (const [limit, offset] of [
    [-1, 0],
    [1.5, 0],
    [Number.NaN, 0],
    [1, -2],
    [1, Number.POSITIVE_INFINITY],
  ] as const) {
    expect(() => rows.all(limit, offset)).toThrow(RangeError);
  }
});
