// Engine e2e: the exhaustion e-mail window across processes when a send fails — a window is used up
// only by an e-mail that went out, and no two processes e-mail the same failures.
import { afterAll, describe, expect, it } from 'vitest';
import { createTenantWithToken, eventually, setupHub, until } from '../support/client.js';
import { type RunningEngine, startEngine } from '../support/engine.js';
import { addSystem, listDeliveries, startWorld, submitText } from './harness.js';
import { startTestReceiver } from './receiver.js';
import { mailText, startTestSmtp } from './smtp.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function failingReceiver() {
  const receiver = await startTestReceiver((_req, res) => res.writeHead(500).end('down'));
  cleanups.push(() => receiver.close());
  return receiver;
}

describe('exhaustion e-mail window when a send fails', () => {
  it('lets the next process e-mail at once when the stopped one could not send in the window it took', async () => {
    const windowMs = 20_000;
    // Refuses every message for now (451): the e-mail stays owed.
    const down = await startTestSmtp({ refuseFirst: 1_000 });
    cleanups.push(() => down.close());
    const receiver = await failingReceiver();
    const world = await startWorld(
      {
        HOOKSTER_SMTP_URL: down.url,
        HOOKSTER_NOTIFY_WINDOW: `${windowMs}ms`,
        HOOKSTER_RETRY_SCHEDULE: 'none',
      },
      'holder@example.com',
    );
    cleanups.push(() => world.engine.stop());
    const system = await addSystem(world, receiver.url);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'fails once, for good');
    await until('the exhaustion e-mail was refused', () => down.refused > 0);
    expect(await world.engine.kill('SIGTERM')).toBe(0);

    // The next process, with a working SMTP server: nothing has been e-mailed yet, so the first failure
    // goes out at once, not a window after the stopped process's failed try.
    const smtp = await startTestSmtp();
    cleanups.push(() => smtp.close());
    const next = await startEngine({
      dbPath: world.engine.dbPath!,
      databaseUrl: world.engine.databaseUrl,
      adminToken: world.engine.adminToken,
      env: { HOOKSTER_SMTP_URL: smtp.url, HOOKSTER_NOTIFY_WINDOW: `${windowMs}ms` },
    });
    cleanups.push(() => next.kill('SIGTERM'));
    const [mail] = await smtp.waitFor(1, windowMs / 4);
    expect(mailText(mail?.raw ?? '')).toContain(system.integrationId);
  }, 60_000);

  it('does not e-mail the same failures twice when a retried send outlasts the window and another process takes the next', async () => {
    // 8 s window: the mailer's time-out is a third of it (2.7 s). The first three messages are refused
    // for now; the fourth (a retry late in the first window: after 1 s, 2 s, 4 s) is held for 2 s —
    // within the time-out — before it is accepted.
    const windowMs = 8_000;
    const smtp = await startTestSmtp({ refuseFirst: 3, stall: { message: 4, ms: 2_000 } });
    cleanups.push(() => smtp.close());
    const receiver = await failingReceiver();
    const env = {
      HOOKSTER_SMTP_URL: smtp.url,
      HOOKSTER_NOTIFY_WINDOW: `${windowMs}ms`,
      HOOKSTER_RETRY_SCHEDULE: 'none',
    };
    // An API process and two worker processes on one database (SQLite allows that; so does PostgreSQL).
    const api: RunningEngine = await startEngine({ role: 'api' });
    cleanups.push(() => api.stop());
    const shared = { databaseUrl: api.databaseUrl, adminToken: api.adminToken, env };
    const first = await startEngine({ role: 'worker', ...shared });
    cleanups.push(() => first.stop());
    const tenant = await createTenantWithToken(api, { accountHolderEmail: 'holder@example.com' });
    const hub = await setupHub(tenant.client);
    const world = { engine: api, client: tenant.client, tenantId: tenant.tenantId, hub };
    const system = await addSystem(world, receiver.url);
    const { conversationId } = await hub.openConversation();
    await submitText(tenant.client, conversationId, 'fails once, for good');
    const failed = await eventually(async () => {
      const page = await listDeliveries(world, system.integrationId, 'failed');
      return page.total === 1 ? page.results[0] : undefined;
    });
    await until('the first worker tried to e-mail', () => smtp.refused > 0);

    // A second worker starts while the first one keeps trying: it finds the e-mail owed at start.
    const second = await startEngine({ role: 'worker', ...shared });
    cleanups.push(() => second.stop());

    // Wait for the held message to be accepted and for nothing to be owed any more.
    await until('the held message was accepted', () => smtp.mails.some((m) => m.stalled), 30_000);
    const deliveryId = String((failed as { deliveryId: string }).deliveryId);
    const carrying = smtp.mails.filter((m) => mailText(m.raw).includes(deliveryId));
    expect(
      carrying.map((m) => ({ at: m.at, stalled: m.stalled ?? false })),
      'e-mails carrying the failure',
    ).toHaveLength(1);
  }, 90_000);
});
