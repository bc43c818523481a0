// The exhaustion notifier on real SQLite and SMTP: one notification each, e-mails once per window.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestSmtp, mailText, startTestSmtp } from '../../test/delivery/smtp.js';
import { hubFixture, systemFixture, tenantFixture } from '../store/conformance/fixtures.js';
import type { Store } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { exhaustionNotification, type ExhaustedDelivery } from './exhaustion.js';
import { createMailer } from './mailer.js';
import { createNotifier, smtpRefusal } from './notifier.js';

const WINDOW_MS = 2000;
const logger = pino({ level: 'silent' });

let dir: string;
let store: Store;
let smtp: TestSmtp;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookster-notify-'));
  store = await openStore(`sqlite:${join(dir, 'hookster.db')}`);
  await store.migrate();
  smtp = await startTestSmtp();
});
afterEach(async () => {
  await store.close();
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

async function world(email: string) {
  const tenant = { ...tenantFixture(), accountHolderEmail: email };
  await store.createTenant(tenant);
  const hub = hubFixture(tenant.tenantId);
  await store.createHub(hub);
  const integrations = [systemFixture(hub), systemFixture(hub)];
  for (const integration of integrations) await store.createIntegration(integration);
  const failure = (integrationId: string, n: number): ExhaustedDelivery => ({
    deliveryId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    tenantId: tenant.tenantId,
    hubId: hub.hubId,
    integrationId,
    webhookUrl: 'https://hooks.example.com/in',
    attempts: 6,
    statusCode: 502,
  });
  return { integrations, failure };
}

describe('exhaustion notifier', () => {
  it('stores one notification per failed delivery with code 7512 and the reason', async () => {
    const { integrations, failure } = await world('a@example.com');
    const id = integrations[0]?.integrationId ?? '';
    const notifier = createNotifier({ store, logger, windowMs: WINDOW_MS });
    await notifier.exhausted([
      failure(id, 1),
      { ...failure(id, 2), statusCode: undefined, error: 'timeout after 10000 ms' },
    ]);
    await notifier.close();
    const page = await store.listNotifications(undefined, { pageNumber: 0, pageSize: 10 });
    const details = page.results.map((n) => n.details).sort();
    expect(page.results.every((n) => n.code === 7512 && n.integrationId === id)).toBe(true);
    expect(details).toEqual([
      'Delivery 00000000-0000-4000-8000-000000000001 to https://hooks.example.com/in failed after 6 attempts; last status 502.',
      'Delivery 00000000-0000-4000-8000-000000000002 to https://hooks.example.com/in failed after 6 attempts; last error: timeout after 10000 ms.',
    ]);
  });

  it('after a restart, waits for the end of the window the previous run took before e-mailing again', async () => {
    const { integrations, failure } = await world('holder@example.com');
    const [recent, quiet] = integrations.map((i) => i.integrationId);
    if (!recent || !quiet) throw new Error('fixtures');
    // What the previous process did a moment before it stopped: it took the window and e-mailed.
    const previous = Date.now() - 200;
    await store.createNotification(exhaustionNotification(failure(recent, 1), previous));
    expect((await store.reserveEmailWindow(recent, previous, WINDOW_MS)).reserved).toBe(true);

    const notifier = createNotifier({
      store,
      logger,
      windowMs: WINDOW_MS,
      mailer: createMailer(smtp.url, 'h@example.com'),
    });
    const started = Date.now();
    await notifier.exhausted([failure(recent, 2)]);
    await notifier.exhausted([failure(quiet, 3)]);
    const [first] = await smtp.waitFor(1);
    // The quiet integration is e-mailed at once; the recently notified one only after a window.
    expect(mailText(first?.raw ?? '')).toContain(quiet);
    expect((first?.at ?? 0) - started).toBeLessThan(WINDOW_MS);
    const mails = await smtp.waitFor(2, WINDOW_MS + 5000);
    const second = mails[1];
    expect(mailText(second?.raw ?? '')).toContain(recent);
    expect(mailText(second?.raw ?? '')).toContain('000000000002');
    expect((second?.at ?? 0) - previous).toBeGreaterThanOrEqual(WINDOW_MS - 20);
    expect(second?.to).toEqual(['holder@example.com']);
    await notifier.close();
    expect(smtp.mails).toHaveLength(2);
  });

  it('e-mails each failure once, a window apart, for an integration failing on two worker processes at once', async () => {
    const { integrations, failure } = await world('ops@example.com');
    const id = integrations[0]?.integrationId ?? '';
    // Two notifiers on one database: two worker processes of one deployment.
    const workers = [1, 2].map(() =>
      createNotifier({ store, logger, windowMs: WINDOW_MS, mailer: createMailer(smtp.url, 'h@example.com') }),
    );
    const started = Date.now();
    await Promise.all([workers[0]!.exhausted([failure(id, 11)]), workers[1]!.exhausted([failure(id, 12)])]);
    const [first] = await smtp.waitFor(1);
    expect((first?.at ?? 0) - started).toBeLessThan(WINDOW_MS);
    // Whoever takes the window sends what is owed then: one e-mail with both, or — if the other
    // failure was recorded after it looked — a second e-mail once the window has passed.
    const covered = (m: { raw: string }[]) =>
      ['000000000011', '000000000012'].every((n) => m.some((mail) => mailText(mail.raw).includes(n)));
    let mails = [...smtp.mails];
    if (!covered(mails)) mails = [...(await smtp.waitFor(2, WINDOW_MS + 5000))];
    // A second e-mail only once the window taken after `started` has passed (its first e-mail reached
    // the server later still).
    for (const later of mails.slice(1)) expect(later.at - started).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    const texts = mails.map((m) => mailText(m.raw));
    expect(texts.filter((t) => t.includes('000000000011'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('000000000012'))).toHaveLength(1);
    await Promise.all(workers.map((w) => w.close()));
    expect(smtp.mails).toHaveLength(mails.length);
    expect(await store.integrationsOwedMail()).toEqual([]);
  });

  it('sends the digest a stopped process owed: the next process e-mails it once the window has passed', async () => {
    const { integrations, failure } = await world('next@example.com');
    const id = integrations[0]?.integrationId ?? '';
    const mailer = () => createMailer(smtp.url, 'h@example.com');
    const before = createNotifier({ store, logger, windowMs: WINDOW_MS, mailer: mailer() });
    const started = Date.now();
    await before.exhausted([failure(id, 21)]);
    const [first] = await smtp.waitFor(1);
    expect(mailText(first?.raw ?? '')).toContain('000000000021');
    // Two more failures inside the window, then the process stops before the window ends.
    await before.exhausted([failure(id, 22), failure(id, 23)]);
    await before.close();
    expect(smtp.mails).toHaveLength(1);
    expect(await store.integrationsOwedMail()).toEqual([id]);
    // The next process (here: a new notifier on the same file) finds what is owed and sends it.
    const after = createNotifier({ store, logger, windowMs: WINDOW_MS, mailer: mailer() });
    const mails = await smtp.waitFor(2, WINDOW_MS + 5000);
    const digest = mailText(mails[1]?.raw ?? '');
    expect(digest).toContain('2 webhook deliveries');
    expect(digest).toContain('000000000022');
    expect(digest).toContain('000000000023');
    expect((mails[1]?.at ?? 0) - started).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    await after.close();
    expect(smtp.mails).toHaveLength(2);
    expect(await store.integrationsOwedMail()).toEqual([]);
  });

  it('tries a refused e-mail again within seconds, not a window later', async () => {
    // Before: the window was used up by the failed send, so the first failure went out a window late.
    const refusing = await startTestSmtp({ refuseFirst: 1 });
    try {
      const { integrations, failure } = await world('retry@example.com');
      const id = integrations[0]?.integrationId ?? '';
      const windowMs = 60_000;
      const notifier = createNotifier({
        store,
        logger,
        windowMs,
        mailer: createMailer(refusing.url, 'h@example.com'),
      });
      const failedAt = Date.now();
      await notifier.exhausted([failure(id, 51)]);
      const [mail] = await refusing.waitFor(1, 10_000);
      expect(refusing.refused).toBe(1);
      expect(mailText(mail?.raw ?? '')).toContain('000000000051');
      expect((mail?.at ?? Infinity) - failedAt).toBeLessThan(windowMs / 4);
      await notifier.close();
      expect(refusing.mails).toHaveLength(1);
      expect(await store.integrationsOwedMail()).toEqual([]);
    } finally {
      await refusing.close();
    }
  });

  it('drops an e-mail the SMTP server refuses for good (550) after one try instead of retrying it forever', async () => {
    const refusing = await startTestSmtp({ refuseFirst: 1_000, refuseCode: 550 });
    try {
      const { integrations, failure } = await world('gone@example.com');
      const id = integrations[0]?.integrationId ?? '';
      const notifier = createNotifier({
        store,
        logger,
        windowMs: 60_000,
        mailer: createMailer(refusing.url, 'h@example.com'),
      });
      await notifier.exhausted([failure(id, 61)]);
      const deadline = Date.now() + 10_000;
      while ((await store.integrationsOwedMail()).length > 0) {
        if (Date.now() > deadline) throw new Error(`still owed after ${refusing.refused} refusals`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await notifier.close();
      expect(refusing.refused).toBe(1);
      // The notification itself stays listed for the tenant.
      const listed = await store.listNotifications(undefined, { pageNumber: 0, pageSize: 10 });
      expect(listed.results.map((n) => n.deliveryId)).toContain(failure(id, 61).deliveryId);
    } finally {
      await refusing.close();
    }
  });

  it('does not announce more failures when exactly the most one e-mail carries are owed', async () => {
    const { integrations, failure } = await world('thousand@example.com');
    const id = integrations[0]?.integrationId ?? '';
    await Promise.all(
      Array.from({ length: 1000 }, (_, n) =>
        store.createNotification(
          exhaustionNotification(failure(id, 1000 + n), Date.now()),
          JSON.stringify(failure(id, 1000 + n)),
        ),
      ),
    );
    // The start-up sweep finds what is owed and sends it in one e-mail.
    const notifier = createNotifier({
      store,
      logger,
      windowMs: WINDOW_MS,
      mailer: createMailer(smtp.url, 'h@example.com'),
    });
    const [mail] = await smtp.waitFor(1);
    const text = mailText(mail?.raw ?? '');
    expect(text).toContain('1000 webhook deliveries');
    expect(text).not.toContain('More failures');
    await notifier.close();
    expect(await store.integrationsOwedMail()).toEqual([]);
  });

  /** An integration owing one e-mail whose stored details are not JSON, and a notifier that mails. */
  async function unreadableOwed(email: string, n: number, mails: string[] = ['not json']) {
    const { integrations, failure } = await world(email);
    const id = integrations[0]?.integrationId ?? '';
    for (const [i, mail] of mails.entries()) {
      await store.createNotification(exhaustionNotification(failure(id, n + i), Date.now()), mail);
    }
    const notifier = createNotifier({
      store,
      logger,
      windowMs: WINDOW_MS,
      mailer: createMailer(smtp.url, 'h@example.com'),
    });
    return { id, failure, notifier };
  }

  it('says the integration was deleted in a digest owed when it was, instead of quoting a recover that answers 404', async () => {
    const { integrations, failure } = await world('gone@example.com');
    const id = integrations[0]?.integrationId ?? '';
    // The first e-mail of the window has just gone out, so this failure waits for the digest.
    expect((await store.reserveEmailWindow(id, Date.now(), WINDOW_MS)).reserved).toBe(true);
    const notifier = createNotifier({
      store,
      logger,
      windowMs: WINDOW_MS,
      mailer: createMailer(smtp.url, 'h@example.com'),
    });
    await notifier.exhausted([failure(id, 41)]);
    await store.deleteIntegration(id);
    const [digest] = await smtp.waitFor(1, WINDOW_MS + 5000);
    const text = mailText(digest?.raw ?? '');
    expect(text).toContain('000000000041');
    expect(text).toContain('has been deleted');
    expect(text).not.toContain('/recover');
    await notifier.close();
  });

  it('removes the e-mail window of a deleted integration once the window has passed', async () => {
    const { integrations } = await world('windows@example.com');
    const [deleted, kept] = integrations.map((i) => i.integrationId);
    if (!deleted || !kept) throw new Error('fixtures');
    // Both were e-mailed two windows ago; then one of them was deleted.
    const long = Date.now() - 2 * WINDOW_MS;
    for (const id of [deleted, kept]) {
      expect((await store.reserveEmailWindow(id, long, WINDOW_MS)).reserved).toBe(true);
    }
    await store.deleteIntegration(deleted);
    // A process starts (its start-up sweep), then stops once that sweep is done.
    const notifier = createNotifier({
      store,
      logger,
      windowMs: WINDOW_MS,
      mailer: createMailer(smtp.url, 'h@example.com'),
    });
    await notifier.close();
    const db = new Database(join(dir, 'hookster.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT integration_id FROM email_windows').all() as {
        integration_id: string;
      }[];
      expect(rows.map((r) => r.integration_id)).toEqual([kept]);
    } finally {
      db.close();
    }
  });

  it('drops an owed e-mail it cannot read without holding up the others', async () => {
    const { id, failure, notifier } = await unreadableOwed('read@example.com', 31);
    await notifier.exhausted([failure(id, 32)]);
    const [mail] = await smtp.waitFor(1);
    const text = mailText(mail?.raw ?? '');
    expect(text).toContain('1 webhook delivery');
    expect(text).toContain('000000000032');
    await notifier.close();
    expect(await store.integrationsOwedMail()).toEqual([]);
  });

  it('drops owed e-mails of an unknown shape (JSON that is no failure) without holding up the others', async () => {
    const { id, failure, notifier } = await unreadableOwed('shape@example.com', 51, [
      'null',
      '{}',
      '[1]',
      '"x"',
    ]);
    await notifier.exhausted([failure(id, 59)]);
    const [mail] = await smtp.waitFor(1, 5000);
    const text = mailText(mail?.raw ?? '');
    expect(text).toContain('1 webhook delivery');
    expect(text).toContain('000000000059');
    expect(text).not.toContain('undefined');
    await notifier.close();
    expect(smtp.mails).toHaveLength(1);
    expect(await store.integrationsOwedMail()).toEqual([]);
  });

  it('does not use up the window dropping owed e-mails it cannot read', async () => {
    const { id, failure, notifier } = await unreadableOwed('unread@example.com', 41);
    // The start-up sweep finds the unreadable row and drops it.
    const deadline = Date.now() + 5000;
    while ((await store.integrationsOwedMail()).length > 0) {
      if (Date.now() > deadline) throw new Error('the unreadable owed e-mail was not dropped within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // No e-mail went out, so the window is still free: the next failure is e-mailed at once.
    const failedAt = Date.now();
    await notifier.exhausted([failure(id, 42)]);
    const [mail] = await smtp.waitFor(1);
    expect(mailText(mail?.raw ?? '')).toContain('000000000042');
    expect((mail?.at ?? Infinity) - failedAt).toBeLessThan(WINDOW_MS / 2);
    await notifier.close();
    expect(smtp.mails).toHaveLength(1);
  });
});

describe('smtpRefusal', () => {
  // Shaped as nodemailer reports SMTP replies: responseCode, the command answered, the reply line.
  const reply = (responseCode: number, command: string, response: string) =>
    Object.assign(new Error(response), { code: 'EENVELOPE', responseCode, command, response });

  it('drops only what the server refuses for good about this recipient or message', () => {
    expect(smtpRefusal(reply(550, 'RCPT TO', '550 5.1.1 User unknown')).permanent).toBe(true);
    expect(smtpRefusal(reply(552, 'DATA', '552 5.3.4 Message too big')).permanent).toBe(true);
  });

  it('keeps the mail for deployment mistakes, policy refusals and transient failures', () => {
    for (const error of [
      reply(553, 'MAIL FROM', '553 5.1.8 Sender address rejected'),
      reply(530, 'MAIL FROM', '530 5.7.0 Authentication required'),
      reply(554, 'RCPT TO', '554 5.7.1 Relay access denied'),
      reply(535, 'AUTH PLAIN', '535 5.7.8 Authentication credentials invalid'),
      reply(451, 'DATA', '451 4.3.0 Try again later'),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }),
    ]) {
      expect(smtpRefusal(error).permanent, error.message).toBe(false);
    }
    expect(smtpRefusal(new Error('store down')).smtp).toBeUndefined();
  });
});
