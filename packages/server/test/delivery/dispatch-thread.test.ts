// The dispatcher on its worker thread (HOOKSTER_DISPATCH_THREAD=true) in a real engine process: it is
// woken by the main thread's commits, its metrics reach /metrics, and a graceful stop records the
// attempts in flight. Runs on SQLite, or on PostgreSQL with HOOKSTER_TEST_DATABASE_URL.
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { type DeliveryWorld, type WebhookBody, addSystem, listDeliveries, submitText } from './harness.js';
import { closedAfterAll } from './closed-after-all.js';

const THREAD_ENV = { HOOKSTER_DISPATCH_THREAD: 'true', HOOKSTER_LOG_LEVEL: 'info' };

const closed = closedAfterAll();
const receiver = closed.receiver;

const world = (env: Record<string, string>, nodeArgs?: string[]): Promise<DeliveryWorld> =>
  closed.world({ ...THREAD_ENV, ...env }, nodeArgs);

describe('the dispatch thread', () => {
  it('delivers committed activities in order per conversation and counts them in /metrics', async () => {
    const w = await world({});
    const hook = await receiver((_req, res) => res.end('ok'));
    await addSystem(w, hook.url);
    const conversations: string[] = [];
    for (let i = 0; i < 3; i++) conversations.push((await w.hub.openConversation()).conversationId);
    for (let n = 0; n < 4; n++) {
      for (const id of conversations) await submitText(w.client, id, `message ${n}`);
    }
    const all = await eventually(async () => {
      const texts = new Map<string, string[]>();
      for (const request of hook.requests) {
        const body = JSON.parse(request.body.toString('utf8')) as WebhookBody;
        for (const a of body.activities) {
          texts.set(body.conversationId, [...(texts.get(body.conversationId) ?? []), a.message?.text ?? '']);
        }
      }
      return [...texts.values()].flat().length === 12 ? texts : undefined;
    });
    for (const id of conversations) {
      expect(all.get(id)).toEqual(['message 0', 'message 1', 'message 2', 'message 3']);
    }
    const metrics = await eventually(async () => {
      const response = await w.client.raw('/metrics', { method: 'GET', token: w.engine.adminToken });
      return /hookster_delivery_attempts_total\{outcome="delivered"\} [1-9]/.test(response.text)
        ? response.text
        : undefined;
    });
    expect(metrics).toMatch(/hookster_delivery_attempt_seconds_count\{outcome="delivered"\} [1-9]/);
    expect(w.engine.output()).toMatch(/"thread":"dispatch"[^\n]*webhook dispatcher started/);
  });

  it('records the attempts in flight at a graceful stop, so a restart sends nothing twice', async () => {
    const w = await world({ HOOKSTER_DELIVERY_TIMEOUT: '5s' });
    const slow = await receiver((_req, res) => setTimeout(() => res.end('ok'), 400));
    const system = await addSystem(w, slow.url);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await w.hub.openConversation()).conversationId);
    for (const id of ids) await submitText(w.client, id, 'in flight at the stop');
    await slow.waitFor(ids.length);
    await w.engine.restart(); // SIGTERM while the requests are being answered, then a fresh process
    const delivered = await eventually(async () => {
      const list = await listDeliveries(w, system.integrationId, 'delivered');
      return list.total === ids.length ? list : undefined;
    });
    expect(delivered.results.every((d) => d.attemptCount === 1)).toBe(true);
    expect(slow.requests).toHaveLength(ids.length);
    expect(w.engine.output()).toMatch(/"thread":"dispatch"[^\n]*webhook dispatcher stopped/);
  });

  it('starts under node flags a worker thread refuses (node --max-old-space-size=… hookster serve)', async () => {
    // Node throws ERR_WORKER_INVALID_EXEC_ARGV for V8 flags in a worker's execArgv: before, the engine
    // then served submissions with no dispatcher at all.
    const w = await world({}, [
      '--max-old-space-size=512',
      '--max-semi-space-size=16',
      '--enable-source-maps',
    ]);
    const hook = await receiver((_req, res) => res.end('ok'));
    await addSystem(w, hook.url);
    await submitText(w.client, (await w.hub.openConversation()).conversationId, 'hello');
    await hook.waitFor(1);
    const output = w.engine.output();
    expect(output).toMatch(/"thread":"dispatch"[^\n]*webhook dispatcher started/);
    const warning = output.split('\n').find((l) => l.includes('without node flags'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({
      flags: ['--max-old-space-size=512', '--max-semi-space-size=16'],
    });
  });

  it('is on by default for a SQLite file and off by default for PostgreSQL (auto)', async () => {
    const w = await world({ HOOKSTER_DISPATCH_THREAD: 'auto' });
    const hook = await receiver((_req, res) => res.end('ok'));
    await addSystem(w, hook.url);
    await submitText(w.client, (await w.hub.openConversation()).conversationId, 'hello');
    await hook.waitFor(1);
    const started = await eventually(async () => {
      const line = w.engine
        .output()
        .split('\n')
        .find((l) => l.includes('webhook dispatcher started'));
      return line;
    });
    if (w.engine.databaseUrl.startsWith('sqlite:')) expect(started).toContain('"thread":"dispatch"');
    else expect(started).not.toContain('"thread":"dispatch"');
  });
});
