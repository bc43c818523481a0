// Engine e2e: an integration with a large backlog does not hold back another integration's single
// delivery until the backlog is through (fair claims, even one slot at a time).
import { describe, expect, it } from 'vitest';
import { setupHub } from '../support/client.js';
import { addSystem, type DeliveryWorld, submitText } from './harness.js';
import { closedAfterAll } from './closed-after-all.js';

const { receiver, world } = closedAfterAll();

describe('a backlog and a single delivery', () => {
  it('delivers the single delivery of another integration within a few attempts of the backlog', async () => {
    const w = await world({ HOOKSTER_CONCURRENCY: '1' });
    const busy = await receiver((_req, res) => setTimeout(() => res.end('ok'), 100));
    // How many backlog requests had arrived when the single delivery did.
    let busyAtArrival: number | undefined;
    const quiet = await receiver((_req, res) => {
      busyAtArrival ??= busy.requests.length;
      res.end('ok');
    });
    await addSystem(w, busy.url);
    const other: DeliveryWorld = { ...w, hub: await setupHub(w.client) };
    await addSystem(other, quiet.url);
    const backlog: string[] = [];
    for (let i = 0; i < 40; i++) backlog.push((await w.hub.openConversation()).conversationId);
    const { conversationId } = await other.hub.openConversation();
    for (const id of backlog) await submitText(w.client, id, 'backlog');
    await submitText(other.client, conversationId, 'single');
    const submitted = busy.requests.length;
    // The backlog still needs seconds (about 100 ms per delivery, one at a time).
    expect(submitted).toBeLessThan(backlog.length - 20);
    // Counted in backlog requests, not in time: on a loaded machine each one may take far longer
    // than its 100 ms answer.
    await quiet.waitFor(1, 20_000);
    expect(busyAtArrival! - submitted).toBeLessThanOrEqual(3);
  });
});
