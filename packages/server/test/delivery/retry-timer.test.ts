// Engine e2e: a retry fires at its scheduled time even while another delivery is in flight and
// nothing else wakes the dispatcher (no submit, no completion).
import { describe, expect, it } from 'vitest';
import { addSystem, submitText } from './harness.js';
import { closedAfterAll } from './closed-after-all.js';

const { receiver, world } = closedAfterAll();

describe('retry timer', () => {
  it('fires a later retry on time while an earlier retry of another integration hangs', async () => {
    const w = await world({});
    // First: fails at once, then its retry (after 300 ms) hangs for the whole 8 s timeout.
    const first = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(500).end('boom');
    });
    // Second: fails at once, then answers its retry (after 1 s).
    const second = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(500).end('boom');
      else res.end('ok');
    });
    await addSystem(w, first.url, { retrySchedule: '300ms', deliveryTimeout: '8s' });
    await addSystem(w, second.url, { retrySchedule: '1s', deliveryTimeout: '8s' });
    const { conversationId } = await w.hub.openConversation();
    await submitText(w.client, conversationId, 'hello');
    // Bounds on waiting only (a loaded machine may take seconds to send the first attempts); the
    // timing under test is the gap measured below.
    await first.waitFor(2, 20_000);
    // The second retry is due 1 s after the second endpoint's first failure: allow 1 s of lateness,
    // far below the 8 s the hanging retry holds its slot.
    const [failed, retried] = await second.waitFor(2, 20_000);
    expect(retried!.at - failed!.at).toBeGreaterThanOrEqual(1_000 - 1);
    expect(retried!.at - failed!.at).toBeLessThan(2_000);
  });
});
