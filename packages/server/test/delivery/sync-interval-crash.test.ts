// Engine e2e with HOOKSTER_SYNC set to an interval: a submission is answered once committed to the OS,
// before any fdatasync. kill -9 while submissions are being answered, then a restart: every answered
// submission is still there and delivered. The interval (60 s) is far longer than the run, so what
// survives here survived on the OS's page cache alone, as the setting promises for a crash of Hookster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import { type DeliveryWorld, type WebhookBody, addSystem, startWorld, submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const CONVERSATIONS = 16;
const KILL_AFTER = 600;

let world: DeliveryWorld;
let hook: TestReceiver;
/** `${conversationId}/${eventId}` of every activity that arrived. */
const arrived = new Set<string>();

beforeAll(async () => {
  hook = await startTestReceiver((req, res) => {
    const body = JSON.parse(req.body.toString('utf8')) as WebhookBody;
    for (const activity of body.activities) arrived.add(`${body.conversationId}/${activity.eventId}`);
    res.end('ok');
  });
  world = await startWorld({ HOOKSTER_SYNC: '60s', HOOKSTER_DELIVERY_TIMEOUT: '1s' });
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
});

describe('HOOKSTER_SYNC=60s (answered before the disk sync)', () => {
  it('keeps every answered submission through kill -9 and delivers it after the restart', async () => {
    await addSystem(world, hook.url);
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++)
      conversations.push((await world.hub.openConversation()).conversationId);
    const answered: string[] = [];
    let killed = false;
    const submitting = Promise.allSettled(
      conversations.map(async (conversationId) => {
        for (let n = 0; !killed; n++) {
          const eventId = await submitText(world.client, conversationId, `#${n}`);
          answered.push(`${conversationId}/${eventId}`);
        }
      }),
    );
    await eventually(async () => (answered.length >= KILL_AFTER ? true : undefined), 30_000);
    // Killed while submissions are in flight: those fail (not counted); every answered one must last.
    killed = true;
    await world.engine.kill('SIGKILL');
    await submitting;
    const before = answered.length;
    await world.engine.restart();
    await eventually(async () => (answered.every((key) => arrived.has(key)) ? true : undefined), 30_000);
    const missing = answered.filter((key) => !arrived.has(key));
    expect(missing).toEqual([]);
    console.log(`sync interval crash: ${before} answered before kill -9, all delivered after the restart`);
  });
});
