// The WAL checkpoint thread: it restarts the WAL while commits go on (the committing connection never
// checkpoints), it ends with its store, and a failure of the thread is reported.

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorld, planTo, webhookTo } from '../conformance/fixtures.js';
import { startCheckpointer } from './checkpointer.js';
import { createSqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-checkpointer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The WAL header's checkpoint sequence number: SQLite adds one each time the WAL starts again. */
function walRestarts(path: string): number {
  const fd = openSync(`${path}-wal`, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

/** The most frames the WAL has held: its file keeps its length when SQLite starts it again. */
function walFrames(path: string): number {
  return Math.max(0, Math.floor((statSync(`${path}-wal`).size - 32) / (4096 + 24)));
}

describe('WAL checkpoint thread', () => {
  it('starts the WAL again and again while commits go on, keeps every commit, and ends with its store', async () => {
    const path = join(root, 'restarts', 'hookster.db');
    // The committing connection checkpoints itself only past 64,000 frames (the safety net): below
    // that, nothing but the thread copies frames back, and without it the WAL never starts again.
    const store = createSqliteStore(path, {
      checkpoints: 'thread',
      checkpointTuning: { intervalMs: 5, restartFrames: 64 },
    });
    await store.migrate();
    const w = await makeWorld(store);
    const before = walRestarts(path);
    const deadline = Date.now() + 20_000;
    let submitted = 0;
    while (walRestarts(path) < before + 3) {
      const frames = walFrames(path);
      if (frames >= 60_000 || Date.now() > deadline) {
        throw new Error(
          `the WAL started again ${walRestarts(path) - before} times; it holds up to ${frames} frames`,
        );
      }
      // No pause between batches: the thread copies and restarts while the next ones commit.
      await Promise.all(
        Array.from({ length: 4 }, () =>
          store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.system)])),
        ),
      );
      submitted += 4;
    }
    await store.close();
    // The store's connection was the last to close (the thread's had closed before), so SQLite copied
    // the rest of the WAL back and removed it.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    try {
      const row = db.prepare('SELECT count(*) AS n FROM activities').get() as { n: number };
      expect(row.n).toBe(submitted);
    } finally {
      db.close();
    }
  });

  it('reports a failure of the thread once, and its stop still resolves', async () => {
    const path = join(root, 'not-a-database.txt');
    writeFileSync(path, 'this is a text file, not a SQLite database, '.repeat(100));
    const reasons: string[] = [];
    const failed = new Promise<void>((resolve) => {
      const checkpointer = startCheckpointer({
        path,
        lock: undefined,
        intervalMs: 1,
        onFailure: (reason) => {
          reasons.push(reason);
          resolve();
          void checkpointer.stop();
        },
      });
    });
    await failed;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/not a database/);
  });

  it('keeps the process alive until its store has closed, when nothing else does', () => {
    // A program that closes its store and has nothing else to do: the thread ends at the stop, and the
    // process must wait for that (and the close after it) before it exits.
    const dir = join(root, 'last-close');
    const path = join(dir, 'hookster.db');
    const script = join(root, 'last-close.mts');
    const index = new URL('./index.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { createSqliteStore } from ${JSON.stringify(index)};\n` +
        `const store = createSqliteStore(${JSON.stringify(path)}, { checkpoints: 'thread', syncIntervalMs: 1000 });\n` +
        'await store.migrate();\n' +
        'await store.close();\n' +
        "process.stdout.write('closed\\n');\n",
    );
    const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('closed\n');
    expect(child.status).toBe(0);
    // The store's connection closed, the last one: the WAL was copied back and removed.
    expect(existsSync(`${path}-wal`)).toBe(false);
  }, 40_000);
});
