// Exhaustion notifications: one stored notification per failed delivery, and — when SMTP is set —
// at most one e-mail per integration per window, a digest of what failed in between.

import type { Logger } from 'pino';
import type { EpochMs, Guid } from '../domain/types.js';
import type { Store } from '../store/contract.js';
import { type DigestItem, digestMail } from './digest.js';
import { type ExhaustedDelivery, exhaustionNotification } from './exhaustion.js';
import type { Mailer } from './mailer.js';

export interface Notifier {
  /** Stores a notification per failed delivery and e-mails the account holder (rate-limited). */
  exhausted(failures: readonly ExhaustedDelivery[]): Promise<void>;
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
  lastSentAt: EpochMs | undefined;
  bootstrapped: boolean;
  queued: DigestItem[];
  timer: NodeJS.Timeout | undefined;
  /** Serialises this integration's decisions and sends. */
  chain: Promise<void>;
}

const MAX_QUEUED = 1000;
const SCAN_PAGES = 20;

export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, logger, windowMs, mailer } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const states = new Map<Guid, IntegrationMail>();
  let closed = false;

  // Why: after a restart the in-memory window is gone. A notification stored for this integration
  // before this process started and inside the window means an e-mail may have gone out already, so
  // the first e-mail waits for a full window (a digest) rather than risking a second one too soon.
  async function recentlyNotified(failure: ExhaustedDelivery): Promise<boolean> {
    const since = now() - windowMs;
    for (let pageNumber = 0; pageNumber < SCAN_PAGES; pageNumber++) {
      const page = await store.listNotifications(failure.tenantId, { pageNumber, pageSize: 100 });
      let older = 0;
      for (const n of page.results) {
        const at = Date.parse(n.createdAt);
        if (at < since) older++;
        else if (n.integrationId === failure.integrationId && at < startedAt) return true;
      }
      if (page.results.length < 100 || older === page.results.length) return false;
    }
    return false;
  }

  async function sendDigest(state: IntegrationMail): Promise<void> {
    const items = state.queued.splice(0);
    const first = items[0];
    if (first === undefined || !mailer) return;
    const { tenantId, integrationId } = first.failure;
    try {
      const tenant = await store.getTenant(tenantId);
      if (!tenant?.accountHolderEmail) {
        logger.warn({ tenantId, integrationId }, 'no account holder e-mail: exhaustion e-mail not sent');
        return;
      }
      const integration = await store.getIntegration(integrationId);
      const mail = digestMail(items, integration?.name, windowMs);
      await mailer.send({ to: tenant.accountHolderEmail, ...mail });
      state.lastSentAt = now();
      logger.info({ integrationId, failed: items.length }, 'exhaustion e-mail sent');
    } catch (error) {
      // Kept for the next try: the next failure (or digest) of this integration sends them along.
      state.queued.unshift(...items.slice(0, MAX_QUEUED - state.queued.length));
      logger.error({ err: error, integrationId }, 'exhaustion e-mail could not be sent');
    }
  }

  async function handle(state: IntegrationMail, item: DigestItem): Promise<void> {
    if (!state.bootstrapped) {
      state.bootstrapped = true;
      if (await recentlyNotified(item.failure)) state.lastSentAt = now();
    }
    if (state.queued.length < MAX_QUEUED) state.queued.push(item);
    if (state.timer !== undefined || closed) return;
    const wait = state.lastSentAt === undefined ? 0 : state.lastSentAt + windowMs - now();
    if (wait <= 0) return sendDigest(state);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.chain = state.chain.then(() => sendDigest(state));
    }, wait);
    state.timer.unref();
  }

  function queueMail(item: DigestItem): void {
    const id = item.failure.integrationId;
    let state = states.get(id);
    if (state === undefined) {
      state = {
        lastSentAt: undefined,
        bootstrapped: false,
        queued: [],
        timer: undefined,
        chain: Promise.resolve(),
      };
      states.set(id, state);
    }
    const current = state;
    current.chain = current.chain
      .then(() => handle(current, item))
      .catch((error: unknown) => logger.error({ err: error, integrationId: id }, 'exhaustion e-mail failed'));
  }

  return {
    async exhausted(failures) {
      const at = now();
      const items = failures.map((failure) => ({
        failure,
        notification: exhaustionNotification(failure, at),
      }));
      await Promise.all(items.map((item) => store.createNotification(item.notification)));
      for (const item of items) {
        logger.warn(
          { deliveryId: item.failure.deliveryId, integrationId: item.failure.integrationId },
          item.notification.details,
        );
        if (mailer && !closed) queueMail(item);
      }
    },
    async close() {
      closed = true;
      for (const state of states.values()) {
        if (state.timer !== undefined) clearTimeout(state.timer);
        state.timer = undefined;
      }
      await Promise.all([...states.values()].map((state) => state.chain));
      mailer?.close();
    },
  };
}
