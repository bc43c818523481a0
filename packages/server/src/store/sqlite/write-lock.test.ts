// The write lock shared by the threads of one process: a thread that ended holding it is told apart
// from one that holds it now.

import { describe, expect, it } from 'vitest';
import { threadId } from 'node:worker_threads';
import { SHARED_BYTES, releaseAbandoned, tryLock, unlock } from './write-lock.js';

describe('write lock', () => {
  it("lets go of an ended thread's hold, and never of another thread's", () => {
    const lock = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
    expect(tryLock(lock)).toBe(true);
    // A thread that ended (another id) did not hold it: this thread's hold stays.
    expect(releaseAbandoned(lock, threadId + 1)).toBe(false);
    expect(tryLock(lock)).toBe(false);
    // The holder's own id: released, and free to take again.
    expect(releaseAbandoned(lock, threadId)).toBe(true);
    expect(tryLock(lock)).toBe(true);
    unlock(lock);
    expect(releaseAbandoned(lock, threadId)).toBe(false);
  });
});
