// Which processes may share one SQLite database file. A `--role all` process hands fresh deliveries to
// its dispatcher in memory (handoff.ts), which no other process can see: it must be the file's only
// process. `--role api` and `--role worker` processes may share a file with each other. The claim is a
// lock on a small companion file (`<database>.hookster-lock`), taken through SQLite's own file locking in
// EXCLUSIVE locking mode: an exclusive lock for `all`, a shared one for the others. The operating system
// releases it when the process ends, however it ends (kill -9 included).

import { closeSync, openSync, realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import { OperationalError } from '../../domain/errors.js';

export type FileClaim = 'sole' | 'shared';

/** Another process holds a claim this one cannot share (a start error, not a fault: no stack). */
export class DatabaseInUseError extends OperationalError {}

/** How long a start waits for another process to let go (a restart racing the old process's exit). */
const WAIT_MS = 1_000;

/** Takes this process's claim on the database file; the returned function lets it go. */
export function claimDatabaseFile(path: string, claim: FileClaim): () => void {
  // Next to the file itself, not to the name given: SQLite follows a symbolic link to the database, so
  // two processes naming one file through different links must meet on one lock too.
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Not there (yet): the name as given.
  }
  const lockPath = `${real}.hookster-lock`;
  try {
    // Owner only, like the database: another local user holding a shared lock could stop a start.
    closeSync(openSync(lockPath, 'wx', 0o600));
  } catch {
    // It exists (kept as it is), or cannot be created: opening it below says why.
  }
  const db = new Database(lockPath, { timeout: WAIT_MS });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write takes (and keeps) the exclusive lock; a read takes (and keeps) a shared one.
    if (claim === 'sole') db.exec('BEGIN EXCLUSIVE; COMMIT;');
    else db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DatabaseInUseError(
        claim === 'sole'
          ? `Another Hookster process uses ${path}: a --role all process must be the only one on its SQLite file ` +
              '(split the roles into one --role api and one --role worker process, or use PostgreSQL).'
          : `A --role all Hookster process uses ${path}: it must be the only process on its SQLite file.`,
      );
    }
    throw error;
  }
  return () => {
    if (db.open) db.close();
  };
}
