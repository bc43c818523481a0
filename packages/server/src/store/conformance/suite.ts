// The Store conformance suite: every backend runs it unchanged (written against contract.ts only).
// `open` gives a fresh isolated store per test; `reopen` (optional) reopens a closed store's database,
// enabling the restart and durability tests. close() must be idempotent.

import { describe } from 'vitest';
import { catalogueTests } from './catalogue-tests.js';
import { claimTests } from './claim-tests.js';
import { useStores } from './harness.js';
import { heldPushTests } from './held-push-tests.js';
import { lifecycleTests } from './lifecycle-tests.js';
import { submitTests } from './submit-tests.js';
import type { Store } from '../contract.js';

export function describeStoreConformance(
  name: string,
  open: () => Promise<Store>,
  reopen?: (closed: Store) => Promise<Store>,
): void {
  describe(`Store conformance: ${name}`, () => {
    const stores = useStores(reopen === undefined ? { open } : { open, reopen });
    const canRestart = reopen !== undefined;
    describe('catalogue', () => catalogueTests(stores));
    describe('submission', () => submitTests(stores, canRestart));
    describe('claims', () => claimTests(stores));
    describe('lifecycle', () => lifecycleTests(stores, canRestart));
    describe('held websocket deliveries', () => heldPushTests(stores));
  });
}
