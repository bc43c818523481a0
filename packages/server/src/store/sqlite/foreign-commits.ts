// Wakes a process when ANOTHER process commits to the same SQLite file (an API process and a separate
// `--role worker`): inotify on the database's folder says the WAL changed, and PRAGMA data_version —
// which changes only for other connections' commits — confirms it was not this connection's own write.

import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** Waits before checking again after a file event showed no new commit (ms; ≈ 340 in all). */
const RECHECK_MS = [1, 4, 16, 64, 256];

export function watchForeignCommits(
  db: Database.Database,
  path: string,
  onForeignCommit: () => void,
): () => void {
  const names = new Set([basename(path), `${basename(path)}-wal`]);
  let version = db.pragma('data_version', { simple: true });
  let scheduled = false;
  let later: NodeJS.Timeout | undefined;
  const check = (retry: number): void => {
    scheduled = false;
    later = undefined;
    if (!db.open) return;
    const now = db.pragma('data_version', { simple: true });
    if (now === version) {
      // The other process writes the WAL frames, then publishes the commit in the shared-memory index
      // (no file event): a check between the two sees nothing new, and no event follows. Look again a
      // little later before taking it for a write that committed nothing (yet).
      const delay = RECHECK_MS[retry];
      if (delay !== undefined) later = setTimeout(() => check(retry + 1), delay).unref();
      return;
    }
    version = now;
    onForeignCommit();
  };
  const watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
    if (filename !== null && !names.has(filename)) return;
    // Many file events per commit: one check per event-loop turn.
    if (scheduled) return;
    scheduled = true;
    if (later !== undefined) clearTimeout(later);
    setImmediate(() => check(0));
  });
  // A failing watch only ends the wake-ups; the dispatcher's own timer still finds the work.
  watcher.on('error', () => watcher.close());
  return () => {
    if (later !== undefined) clearTimeout(later);
    watcher.close();
  };
}
