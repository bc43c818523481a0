// Receivers and engines a test file starts, closed after all its tests (the last started first).

import { afterAll } from 'vitest';
import { type DeliveryWorld, startWorld } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

export function closedAfterAll(): {
  receiver: (...args: Parameters<typeof startTestReceiver>) => Promise<TestReceiver>;
  world: (env: Record<string, string>, nodeArgs?: string[]) => Promise<DeliveryWorld>;
} {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return {
    async receiver(...args) {
      const started = await startTestReceiver(...args);
      cleanups.push(() => started.close());
      return started;
    },
    async world(env, nodeArgs) {
      const started = await startWorld(env, undefined, nodeArgs);
      cleanups.push(() => started.engine.stop());
      return started;
    },
  };
}
