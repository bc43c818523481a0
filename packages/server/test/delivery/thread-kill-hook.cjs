// Test-only preload (node --require): once the file named by TEST_THREAD_KILL_FILE exists, the dispatch
// thread (a worker thread) is ended abruptly in the middle of its next claim — while it holds the
// process's SQLite write lock — as a worker is when it runs out of memory (ERR_WORKER_OUT_OF_MEMORY):
// no `finally` runs. Only the first thread that sees the file ends (it renames the file).
const { isMainThread, workerData } = require('node:worker_threads');
const { renameSync } = require('node:fs');

const trigger = process.env.TEST_THREAD_KILL_FILE;
if (!isMainThread && trigger && workerData && typeof workerData === 'object' && 'writeLock' in workerData) {
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    // A fanouts row's targets ([[seq, ref, echo], …]) are parsed inside the claim's transaction.
    if (typeof text === 'string' && text.startsWith('[[')) {
      let armed = false;
      try {
        renameSync(trigger, `${trigger}.done`);
        armed = true;
      } catch {
        // not (or no longer) asked for
      }
      if (armed) process.exit(70);
    }
    return parse(text, reviver);
  };
}
