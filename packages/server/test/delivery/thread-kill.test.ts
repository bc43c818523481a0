// Engine e2e: the dispatch thread ends abruptly in the middle of a write transaction (as a worker thread
// that runs out of memory does: no `finally` runs), holding the write lock it shares with the main thread
// (store/sqlite/write-lock.ts). The engine starts the thread again after 1 s; the main thread must still
// commit submissions, the new thread deliver them, and a graceful stop end the process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/client.js';
import {
  type DeliveryWorld,
  type WebhookBody,
  addSystem,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const HOOK = fileURLToPath(new URL('./thread-kill-hook.cjs', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The texts of the activities the receiver got, in arrival order. */
function texts(hook: TestReceiver): string[] {
  return hook.requests.flatMap((r) =>
    (JSON.parse(r.body.toString('utf8')) as WebhookBody).activities.map((a) => a.message?.text ?? ''),
  );
}

/** Rejects after `ms` (a submission that never commits must fail the test, not hang it). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// SQLite only: the write lock the threads share exists for a SQLite file (on PostgreSQL each connection
// has its own transactions), and the hook ends the thread in the claim's read of a fanouts row.
describe.skipIf(process.env.HOOKSTER_TEST_DATABASE_URL)(
  'the dispatch thread ending inside a transaction',
  () => {
    it('leaves the engine committing, delivering and able to stop', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hookster-thread-kill-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const trigger = join(dir, 'kill');
      const hook: TestReceiver = await startTestReceiver((_req, res) => res.end('ok'));
      cleanups.push(() => hook.close());
      const w: DeliveryWorld = await startWorld(
        { HOOKSTER_DISPATCH_THREAD: 'true', HOOKSTER_LOG_LEVEL: 'info', TEST_THREAD_KILL_FILE: trigger },
        undefined,
        ['--require', HOOK],
      );
      cleanups.push(() => w.engine.stop());
      const { integrationId } = await addSystem(w, hook.url);
      const { conversationId } = await w.hub.openConversation();
      await submitText(w.client, conversationId, 'before');
      await hook.waitFor(1);
      // Its outcome recorded (else it is sent again after its lease: in flight at the thread's end).
      await eventually(async () =>
        (await listDeliveries(w, integrationId, 'delivered')).total === 1 ? true : undefined,
      );
      writeFileSync(trigger, '');
      // Committed (answered 200); the thread's claim of it ends the thread, mid-transaction.
      await submitText(w.client, conversationId, 'ends the thread');
      await until('the thread ended and started again', () => {
        const out = w.engine.output();
        return (
          out.includes('dispatch thread exited') &&
          (out.match(/webhook dispatcher started/g) ?? []).length >= 2
        );
      });
      await within(
        10_000,
        'a submission after the thread ended',
        submitText(w.client, conversationId, 'after'),
      );
      // Every activity arrives (the last two may come in one System batch), each delivery is final.
      await until(
        'every activity delivered',
        () => texts(hook).join() === 'before,ends the thread,after',
        20_000,
      );
      await eventually(async () => {
        const list = await listDeliveries(w, integrationId);
        return list.results.every((d) => d.status === 'delivered') ? true : undefined;
      });
      // A graceful stop ends the process (exit code 0) within the harness's bound.
      expect(await w.engine.kill('SIGTERM')).toBe(0);
    }, 60_000);
  },
);
