// Read-modify-write of one resource under concurrent updates (optimistic concurrency): the new state is
// computed from the state read (fields the body omits are kept from it) and the store writes it only if
// nothing else was written since; otherwise the state is read and the update computed again. Concurrent
// updates of one resource thus apply one after the other.

import { HooksterError } from '../domain/errors.js';

/**
 * How many times an update is computed and written before it gives up with 409 UpdateConflict. A
 * write loses only to another update written between its read and its write, so with at most this
 * many updates of one resource at once none is ever refused.
 */
export const UPDATE_ATTEMPTS = 8;

export interface UpdateSteps<T> {
  /** The new state from the current one; throws (e.g. a 400) when the body does not apply to it. */
  compute(existing: T): T;
  /** Writes `next` only if the stored state still equals `existing`; false when it did not write. */
  write(next: T, existing: T): Promise<boolean>;
  /** The state stored now; throws (a 404) when the resource is gone. */
  reread(): Promise<T>;
}

/** The state the written update was computed from, and the state written (for the follow-ups). */
export async function applyUpdate<T>(read: T, steps: UpdateSteps<T>): Promise<{ before: T; after: T }> {
  let before = read;
  for (let attempt = 1; ; attempt++) {
    const after = steps.compute(before);
    if (await steps.write(after, before)) return { before, after };
    if (attempt >= UPDATE_ATTEMPTS) throw HooksterError.of('UpdateConflict');
    before = await steps.reread();
  }
}
