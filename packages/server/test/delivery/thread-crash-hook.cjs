// Test-only preload (node --require): in the dispatch thread (a worker thread), throws an uncaught
// exception once the file named by TEST_THREAD_CRASH_FILE exists — the thread dies as after a bug in it.
// Only the first thread that sees the file dies (it renames the file), so the restarted one lives.
const { isMainThread, workerData } = require('node:worker_threads');
const { renameSync } = require('node:fs');

const trigger = process.env.TEST_THREAD_CRASH_FILE;
// Only the dispatch thread (its workerData carries the engine's config), not a loader's thread.
if (!isMainThread && trigger && workerData && typeof workerData === 'object' && 'writeLock' in workerData) {
  setInterval(() => {
    try {
      renameSync(trigger, `${trigger}.done`);
    } catch {
      return;
    }
    setImmediate(() => {
      throw new Error('injected: the dispatch thread fails');
    });
  }, 10).unref();
}
