// Exhaustion notifications: one stored notification per failed delivery, and — when SMTP is set —
// at most one e-mail per integration per window, a digest of what failed in between. The window and
// the e-mails owed are kept in the store, so they hold across worker processes and restarts: a digest
// a stopped process owed is sent by the next one.

import type { Logger } from 'pino';
import type { EpochMs, Guid, Notification } from '../domain/types.js';
import type { Store } from '../store/contract.js';
import { type DigestItem, digestMail } from './digest.js';
import { type ExhaustedDelivery, exhaustionNotification, parseExhaustedDelivery } from './exhaustion.js';
import type { Mailer } from './mailer.js';

export interface Notifier {
  /** Stores a notification per failed delivery and e-mails the account holder (rate-limited). */
  exhausted(failures: readonly ExhaustedDelivery[]): Promise<void>;
  /**
   * The notification of a failure (and the e-mail it owes, when SMTP is set), for the caller to store
   * with the failed outcome (AttemptRecord.notify); announce() then logs it and sends the e-mail.
   */
  prepare(failure: ExhaustedDelivery): { notification: Notification; owedMail?: string };
  /** After prepared notifications were stored: logs them and e-mails the account holder (rate-limited). */
  announce(items: readonly DigestItem[]): void;
  /** Cancels pending digests and waits for e-mails being sent. */
  close(): Promise<void>;
}

export interface NotifierDeps {
  store: Store;
  logger: Logger;
  windowMs: number;
  mailer?: Mailer;
  now?: () => EpochMs;
}

interface IntegrationMail {
  timer: NodeJS.Timeout | undefined;
  /** Wait before trying a failed send again; doubles up to a window. */
  backoffMs: number;
  /** Serialises this integration's decisions and sends. */
  chain: Promise<void>;
}

/** Most failures one e-mail covers; more go in the next window's. */
const MAX_PER_MAIL = 1000;
/** Least wait before trying the window again (clocks of several hosts may disagree a little). */
const MIN_RETRY_MS = 10;
/** First wait after a failed send (an SMTP error) before the window is taken again for it. */
const FIRST_BACKOFF_MS = 1_000;
/**
 * How long a stop waits for an e-mail being sent before it abandons it. The e-mail stays owed in the
 * store (it is cleared only once sent), so the next process sends it; a stalling SMTP server must not
 * hold the stop for the mailer's whole time-out (up to 30 s).
 */
const CLOSE_GRACE_MS = 2_000;
/** How often a process looks for e-mails owed by another (or a stopped) process. */
const SWEEP_MS = 60_000;

/**
 * Whether an SMTP error refuses this message for good: a 5xx reply to the recipient (RCPT TO) or to the
 * message (DATA), RFC 5321 — the address does not exist, the message is refused. A 5xx to the
 * greeting, AUTH or MAIL FROM (a wrong sender, missing credentials) and any 5.7.x (security or policy:
 * relaying denied, authentication required) is a deployment setting to fix, so the mail is kept for
 * after the fix. Connection failures, time-outs and 4xx replies are transient. `smtp`: the server's
 * reply, when there is one (undefined for errors that are not SMTP replies).
 */
export function smtpRefusal(error: unknown): { permanent: boolean; smtp?: string } {
  const e = error as { responseCode?: unknown; command?: unknown; response?: unknown };
  const code = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  const smtp = typeof e?.response === 'string' ? e.response : undefined;
  const permanent =
    code !== undefined &&
    code >= 500 &&
    code < 600 &&
    (e.command === 'RCPT TO' || e.command === 'DATA') &&
    !/^\d{3}[ -]5\.7\./.test(smtp ?? '');
  return { permanent, ...(smtp === undefined ? {} : { smtp }) };
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, logger, windowMs, mailer } = deps;
  const now = deps.now ?? Date.now;
  const states = new Map<Guid, IntegrationMail>();
  let closed = false;

  /**
   * The owed e-mails of the integration that can be read (up to MAX_PER_MAIL), and how many rows were
   * listed. Unreadable ones are dropped here, so they neither block the others nor use up a window.
   */
  async function readOwed(integrationId: Guid): Promise<{ items: DigestItem[]; more: boolean }> {
    // One row past the limit tells whether more are owed than this e-mail carries.
    const owed = await store.listOwedMail(integrationId, MAX_PER_MAIL + 1);
    const items: DigestItem[] = [];
    const unreadable: Guid[] = [];
    for (const o of owed.slice(0, MAX_PER_MAIL)) {
      const failure = parseExhaustedDelivery(o.mail);
      // Not ours to read (hand-edited, or an unknown older shape): it must not block the others.
      if (failure === undefined) unreadable.push(o.notification.notificationId);
      else items.push({ notification: o.notification, failure });
    }
    if (unreadable.length > 0) {
      logger.error(
        { integrationId, notificationIds: unreadable },
        'owed exhaustion e-mail unreadable: dropped',
      );
      await store.clearOwedMail(unreadable);
    }
    return { items, more: owed.length > MAX_PER_MAIL };
  }

  /**
   * Sends what is owed for the integration (its window is ours): 'done', 'more' (sent, more is owed for
   * the next window) or 'failed' (nothing sent; still owed).
   */
  async function sendOwed(integrationId: Guid): Promise<'done' | 'more' | 'failed'> {
    if (!mailer) return 'done';
    const { items, more } = await readOwed(integrationId);
    const outcome = more ? 'more' : 'done';
    const first = items[0];
    if (first === undefined) return outcome;
    const ids = items.map((item) => item.notification.notificationId);
    const tenantId = first.notification.tenantId;
    try {
      const tenant = await store.getTenant(tenantId);
      if (!tenant?.accountHolderEmail) {
        logger.warn({ tenantId, integrationId }, 'no account holder e-mail: exhaustion e-mail not sent');
        await store.clearOwedMail(ids);
        return outcome;
      }
      const integration = await store.getIntegration(integrationId);
      const mail = digestMail(items, integration === undefined ? null : integration.name, windowMs, more);
      await mailer.send({ to: tenant.accountHolderEmail, ...mail });
      logger.info({ integrationId, failed: items.length }, 'exhaustion e-mail sent');
    } catch (error) {
      const refusal = smtpRefusal(error);
      if (refusal.permanent) {
        // The server refused this message for good (a 5xx: the address does not exist, the message is
        // refused): sending it again would be refused again, forever. Said once, then dropped.
        logger.error(
          { integrationId, failed: items.length, smtp: refusal.smtp },
          'exhaustion e-mail refused for good by the SMTP server: dropped (the notifications stay listed)',
        );
        await store.clearOwedMail(ids);
        return outcome;
      }
      if (closed) {
        logger.warn(
          { integrationId },
          'exhaustion e-mail not sent before the stop: still owed, for the next process',
        );
        return 'failed';
      }
      // Still owed: tried again soon, in a window taken again for it (this one is given back).
      // An SMTP reply says it all; anything else (the store, a bug) keeps its stack.
      logger.warn(
        refusal.smtp === undefined ? { integrationId, err: error } : { integrationId, smtp: refusal.smtp },
        'exhaustion e-mail could not be sent: will try again',
      );
      return 'failed';
    }
    // A crash right here sends them again after a restart: at least once, never lost.
    await store.clearOwedMail(ids);
    return outcome;
  }

  // Why the store decides: the window is shared by every process of the deployment (and survives a
  // restart), so two worker processes never both e-mail an integration inside one window. What is owed
  // is in the store too: the process that takes the window sends all of it, whoever recorded it.
  // Every send takes the window just before it starts (a send ends within the mailer's time-out, a third
  // of the window): a try never runs in a window this process only remembers holding, which may have
  // ended in the store — another process could be sending the same failures in the next one.
  async function trySend(state: IntegrationMail, integrationId: Guid): Promise<void> {
    if (state.timer !== undefined || closed) return;
    // Only a readable owed e-mail takes the window (dropping unreadable ones needs none).
    if ((await readOwed(integrationId)).items.length === 0) return;
    let wait: number;
    // The window starts when the store records it: its end is reckoned from that same time.
    const reservedAt = now();
    const window = await store.reserveEmailWindow(integrationId, reservedAt, windowMs);
    if (window.reserved) {
      const outcome = await sendOwed(integrationId);
      if (outcome === 'failed') {
        // Nothing went out: the window is given back, so a send that failed does not use it up (the
        // next try, or the next process after a stop, e-mails at once).
        try {
          await store.releaseEmailWindow(integrationId, reservedAt, windowMs);
        } catch (error) {
          // Kept taken: the e-mail goes out a window later, still once.
          logger.error({ err: error, integrationId }, 'giving back the e-mail window failed');
        }
        // Again shortly, not a window later (the first failure is e-mailed at once).
        wait = state.backoffMs;
        state.backoffMs = Math.min(state.backoffMs * 2, windowMs);
      } else {
        state.backoffMs = FIRST_BACKOFF_MS;
        if (outcome === 'done') return;
        // More owed: with the next window.
        wait = reservedAt + windowMs - now();
      }
    } else {
      // The window is someone else's: try again when it ends.
      wait = window.lastSentAt + windowMs - now();
    }
    if (closed) return;
    wait = Math.max(MIN_RETRY_MS, wait);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      schedule(integrationId);
    }, wait);
    state.timer.unref();
  }

  function schedule(integrationId: Guid): void {
    if (!mailer || closed) return;
    let state = states.get(integrationId);
    if (state === undefined) {
      state = {
        timer: undefined,
        backoffMs: FIRST_BACKOFF_MS,
        chain: Promise.resolve(),
      };
      states.set(integrationId, state);
    }
    const current = state;
    current.chain = current.chain
      .then(() => trySend(current, integrationId))
      .catch((error: unknown) => logger.error({ err: error, integrationId }, 'exhaustion e-mail failed'));
  }

  // E-mails owed by a process that stopped (or by another one): looked for at start and every minute.
  // The windows of deleted integrations go once they have passed (nothing else would remove them).
  async function sweep(): Promise<void> {
    try {
      for (const integrationId of await store.integrationsOwedMail()) schedule(integrationId);
      await store.pruneEmailWindows(now() - windowMs);
    } catch (error) {
      logger.error({ err: error }, 'looking for owed exhaustion e-mails failed');
    }
  }
  let sweeping: Promise<void> = Promise.resolve();
  let sweeper: NodeJS.Timeout | undefined;
  if (mailer) {
    sweeping = sweep();
    sweeper = setInterval(() => {
      sweeping = sweep();
    }, SWEEP_MS);
    sweeper.unref();
  }

  function prepare(failure: ExhaustedDelivery): { notification: Notification; owedMail?: string } {
    const notification = exhaustionNotification(failure, now());
    return mailer ? { notification, owedMail: JSON.stringify(failure) } : { notification };
  }

  function announce(items: readonly DigestItem[]): void {
    for (const item of items) {
      logger.warn(
        { deliveryId: item.failure.deliveryId, integrationId: item.failure.integrationId },
        item.notification.details,
      );
    }
    for (const integrationId of new Set(items.map((i) => i.failure.integrationId))) schedule(integrationId);
  }

  return {
    async exhausted(failures) {
      const items = failures.map((failure) => ({ failure, prepared: prepare(failure) }));
      await Promise.all(
        items.map((item) => store.createNotification(item.prepared.notification, item.prepared.owedMail)),
      );
      announce(items.map((item) => ({ failure: item.failure, notification: item.prepared.notification })));
    },
    prepare,
    announce,
    async close() {
      closed = true;
      if (sweeper !== undefined) clearInterval(sweeper);
      for (const state of states.values()) {
        if (state.timer !== undefined) clearTimeout(state.timer);
        state.timer = undefined;
      }
      await sweeping;
      const sends = Promise.all([...states.values()].map((state) => state.chain));
      let grace: NodeJS.Timeout | undefined;
      const sent = await Promise.race([
        sends.then(() => true),
        new Promise<boolean>((resolve) => {
          grace = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      // Ends the sends still under way (they fail, and their e-mails stay owed).
      mailer?.close();
      if (!sent) await sends;
    },
  };
}
