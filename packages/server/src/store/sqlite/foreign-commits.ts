// Wakes a process when ANOTHER process commits to the same SQLite file (an API process and a separate
// `--role worker`): inotify on the database's folder says the WAL changed, and PRAGMA data_version —
// which changes only for other connections' commits — confirms it was not this connection's own write.

import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type Database from 'better-sqlite3';

export function watchForeignCommits(
  db: Database.Database,
  path: string,
  onForeignCommit: () => void,
): () => void {
  const names = new Set([basename(path), `${basename(path)}-wal`]);
  let version = db.pragma('data_version', { simple: true });
  let scheduled = false;
  const check = (): void => {
    scheduled = false;
    if (!db.open) return;
    const now = db.pragma('data_version', { simple: true });
    if (now === version) return;
    version = now;
    onForeignCommit();
  };
  const watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
    if (filename !== null && !names.has(filename)) return;
    // Many file events per commit: one check per event-loop turn.
    if (scheduled) return;
    scheduled = true;
    setImmediate(check);
  });
  // A failing watch only ends the wake-ups; the dispatcher's own timer still finds the work.
  watcher.on('error', () => watcher.close());
  return () => watcher.close();
}
