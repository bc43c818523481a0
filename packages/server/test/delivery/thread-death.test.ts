// Engine e2e: the dispatch thread dies (an uncaught exception) while fresh deliveries are out as
// flights (store/sqlite/handoff.ts). The engine starts it again after 1 s; the deliveries that were out
// must be sent again only once their lease has ended (never two in flight), and none may be lost.
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

const HOOK = fileURLToPath(new URL('./thread-crash-hook.cjs', import.meta.url));
const COUNT = 6;
const TIMEOUT_MS = 2_000;
/** The dispatcher's lease margin (dispatcher.ts): a lease is the timeout plus this. */
const LEASE_MS = TIMEOUT_MS + 5_000;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the dispatch thread dying with flights out', () => {
  it('sends them again only after their lease, and delivers every one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookster-thread-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const trigger = join(dir, 'crash');
    let crashed = false;
    const hook: TestReceiver = await startTestReceiver((_req, res) => {
      // Held until the thread dies (its connections close then); answered after.
      if (crashed) res.end('ok');
    });
    cleanups.push(() => hook.close());
    const w: DeliveryWorld = await startWorld(
      {
        HOOKSTER_DISPATCH_THREAD: 'true',
        HOOKSTER_LOG_LEVEL: 'info',
        HOOKSTER_DELIVERY_TIMEOUT: `${TIMEOUT_MS}ms`,
        TEST_THREAD_CRASH_FILE: trigger,
      },
      undefined,
      ['--require', HOOK],
    );
    cleanups.push(() => w.engine.stop());
    const { integrationId } = await addSystem(w, hook.url);
    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) ids.push((await w.hub.openConversation()).conversationId);
    // A delivery is claimed (and its lease starts) after its submit began: the receiver's arrival
    // time of the first request lags the claim by the send itself, so it is no bound for the lease.
    const submittedAt = new Map<string, number>();
    for (const id of ids) {
      submittedAt.set(id, Date.now());
      await submitText(w.client, id, 'out when the thread dies');
    }
    await hook.waitFor(COUNT);
    crashed = true;
    writeFileSync(trigger, '');
    await until('the thread died and started again', () => {
      const out = w.engine.output();
      return (
        out.includes('dispatch thread exited') && (out.match(/webhook dispatcher started/g) ?? []).length >= 2
      );
    });
    // Every delivery arrives again (the first requests were cut with the thread)...
    await hook.waitFor(2 * COUNT, 30_000);
    for (const r of hook.requests.slice(COUNT)) {
      const body = JSON.parse(r.body.toString('utf8')) as WebhookBody;
      // ...but not before the lease of the first attempt ended: until then it may still be in flight.
      expect(r.at - submittedAt.get(body.conversationId)!).toBeGreaterThanOrEqual(LEASE_MS);
    }
    const delivered = await eventually(async () => {
      const list = await listDeliveries(w, integrationId, 'delivered');
      return list.total >= COUNT ? list : undefined;
    }, 20_000);
    expect(delivered.total).toBe(COUNT);
    expect(hook.requests).toHaveLength(2 * COUNT);
  }, 60_000);
});
