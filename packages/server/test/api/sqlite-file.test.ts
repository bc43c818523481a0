// What others do to the engine's SQLite file. Another process holding its write lock past busy_timeout
// (5 s): a submission is answered 503 with Retry-After (it may be sent again), the driver's error is
// logged, and submissions work again once the lock is let go (before: a 500 and nothing in the log).
// The file removed while the engine runs: /readyz answers 503 (before: 200 while every commit went to
// an unlinked file, lost at the next start). The same for its -wal file alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { apiClient, createTenantWithToken, eventually, setupHub } from '../support/client.js';
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

it('is not ready once its database file is removed', async () => {
  const file = join(dir, 'removed.db');
  const engine = await startEngine({ databaseUrl: `sqlite:${file}` });
  try {
    const client = apiClient(engine.url, null);
    expect((await client.get('/readyz')).status).toBe(200);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    const probe = await client.get('/readyz');
    expect(probe.status).toBe(503);
    expect(probe.body).toMatchObject({ status: 'unavailable', store: 'sqlite' });
    await eventually(async () => (/was removed or replaced/.test(engine.output()) ? true : undefined));
  } finally {
    await engine.stop();
  }
});

it('is not ready once the write-ahead log of its database file is removed', async () => {
  // The answered commits since the last checkpoint live in <file>-wal: written to an unlinked file,
  // they are lost at the next start.
  const file = join(dir, 'wal-removed.db');
  const engine = await startEngine({ databaseUrl: `sqlite:${file}` });
  try {
    const client = apiClient(engine.url, null);
    expect((await client.get('/readyz')).status).toBe(200);
    rmSync(`${file}-wal`);
    const probe = await client.get('/readyz');
    expect(probe.status).toBe(503);
    expect(probe.body).toMatchObject({ status: 'unavailable', store: 'sqlite' });
  } finally {
    await engine.stop();
  }
});
