// Engine e2e: readiness follows the dispatcher. A process that prints `listening` has its dispatch
// thread running (a first submission used to wait ~0.5 s for the thread to start), and /readyz answers
// 503 while the thread is down (ended, waiting to be started again), so an orchestrator sees a process
// that delivers nothing instead of a healthy one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { startEngine } from '../support/engine.js';
import { addSystem, startWorld, submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const HOOK = fileURLToPath(new URL('./thread-kill-hook.cjs', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('readiness and the dispatch thread', () => {
  it.each(['all', 'worker'] as const)(
    'a --role %s process answers /readyz 200 as soon as it says it listens',
    async (role) => {
      const engine = await startEngine({ role, env: { HOOKSTER_DISPATCH_THREAD: 'true' } });
      cleanups.push(() => engine.stop());
      expect(await readyz(engine.url)).toMatchObject({ status: 200, body: { status: 'ready' } });
    },
    30_000,
  );

  // SQLite only: the hook ends the thread in the claim's read of a fanouts row.
  it.skipIf(process.env.HOOKSTER_TEST_DATABASE_URL)(
    'answers /readyz 503 while the dispatch thread is down, and 200 once it is back',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hookster-readiness-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const trigger = join(dir, 'kill');
      const hook: TestReceiver = await startTestReceiver((_req, res) => res.end('ok'));
      cleanups.push(() => hook.close());
      const w = await startWorld(
        { HOOKSTER_DISPATCH_THREAD: 'true', TEST_THREAD_KILL_FILE: trigger },
        undefined,
        ['--require', HOOK],
      );
      cleanups.push(() => w.engine.stop());
      await addSystem(w, hook.url);
      const { conversationId } = await w.hub.openConversation();
      writeFileSync(trigger, '');
      // The thread's claim of this submission ends it; it is started again after 1 s.
      await submitText(w.client, conversationId, 'ends the thread');
      const down = await eventually(async () => {
        const answer = await readyz(w.engine.url);
        return answer.status === 503 ? answer : undefined;
      }, 10_000);
      expect(down.body).toMatchObject({ status: 'unavailable' });
      expect(String(down.body['dispatcher'])).toMatch(/dispatch thread/);
      await eventually(async () => ((await readyz(w.engine.url)).status === 200 ? true : undefined), 10_000);
      await hook.waitFor(1);
    },
    60_000,
  );
});
