// Per-test store isolation for the conformance suite: every test opens its own fresh store (a new
// file, a new schema…) through the backend's factory, and every store opened is closed after the test.

import { afterEach, expect } from 'vitest';
import { ErrorCodes, HooksterError, numericCode, type ErrorName } from '../../domain/errors.js';
import type { Store } from '../contract.js';

export interface StoreFactory {
  /** A fresh, isolated store (migrate() is called by the suite; it must be idempotent). */
  open: () => Promise<Store>;
  /** Reopens the database of a closed store, as a restarted process would. */
  reopen?: (closed: Store) => Promise<Store>;
}

export interface Stores {
  fresh(): Promise<Store>;
  /** Closes `store` and opens its database again (only when the factory can reopen). */
  restart(store: Store): Promise<Store>;
}

export function useStores(factory: StoreFactory): Stores {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  return {
    async fresh() {
      const store = await factory.open();
      opened.push(store);
      await store.migrate();
      return store;
    },
    async restart(store) {
      if (factory.reopen === undefined) throw new Error('this backend factory cannot reopen a store');
      await store.close();
      const again = await factory.reopen(store);
      opened.push(again);
      await again.migrate();
      return again;
    },
  };
}

/** Expects `promise` to reject with the catalogue error `name`. */
export async function expectCatalogueError(promise: Promise<unknown>, name: ErrorName): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${name}`).toBeInstanceOf(HooksterError);
  expect((error as HooksterError).errors[0]?.code).toBe(numericCode(ErrorCodes[name].code));
}
