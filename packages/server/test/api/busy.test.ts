// Another process holding the SQLite file's write lock past busy_timeout (5 s): a submission is
// answered 503 with Retry-After (it may be sent again), the driver's error is logged, and the engine
// takes submissions again once the lock is let go. Before: a 500 and nothing in the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { createTenantWithToken, eventually, setupHub } from '../support/client.js';
import { startEngine } from '../support/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'hookster-busy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('answers 503 with Retry-After while another process holds the write lock, and logs why', async () => {
  const file = join(dir, 'h.db');
  const engine = await startEngine({ databaseUrl: `sqlite:${file}` });
  try {
    const tenant = await createTenantWithToken(engine);
    const hub = await setupHub(tenant.client);
    const { conversationId } = await hub.openConversation();
    const submit = () =>
      tenant.client.post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
        type: 'message',
        message: { type: 'text', text: 'hello' },
      });
    expect((await submit()).status).toBe(200);
    const other = new Database(file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const refused = await submit();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toMatchObject({ status: 503, errors: [{ code: 103 }] });
      await eventually(async () => (/database is locked/.test(engine.output()) ? true : undefined));
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    expect((await submit()).status).toBe(200);
  } finally {
    await engine.stop();
  }
}, 30_000);
