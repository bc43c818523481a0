// The stale-websocket sweeper on a real SQLite store: a websocket delivery committed but never pushed
// (as after a crash between commit and push) is marked failed with the reason; one still held is not.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorld, planTo, websocketTo } from '../store/conformance/fixtures.js';
import { createSqliteStore } from '../store/sqlite/index.js';
import { STALE_REASON, startStaleSweeper } from './stale-sweeper.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-sweeper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stale websocket sweeper', () => {
  it('fails deliveries left unpushed and leaves held ones, on its own schedule', async () => {
    const store = createSqliteStore(join(root, 'hookster.db'));
    await store.migrate();
    const w = await makeWorld(store);
    const id = w.conversation.conversationId;
    const unpushed = await store.submitActivity(id, planTo([websocketTo(w.agent)]));
    await store.updateIntegration({ ...w.agent, statusId: 3002 });
    const held = await store.submitActivity(id, planTo([websocketTo(w.agent)]));
    const sweeper = startStaleSweeper(store, pino({ level: 'silent' }), { staleAfterMs: 0, everyMs: 10 });
    try {
      const deadline = Date.now() + 5_000;
      let status: string | undefined;
      while (Date.now() < deadline) {
        status = (await store.getDelivery(unpushed.deliveryIds[0]!))?.status;
        if (status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe('failed');
      const failed = await store.getDelivery(unpushed.deliveryIds[0]!);
      expect(failed?.attempts?.map((a) => a.error)).toEqual([STALE_REASON]);
      expect((await store.getDelivery(held.deliveryIds[0]!))?.status).toBe('held');
    } finally {
      await sweeper.stop();
      await store.close();
    }
  });
});
