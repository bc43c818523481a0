// Exhaustion notifications: one stored notification per failed delivery, and — when SMTP is set —
// at most one e-mail per integration per window (kept in the store, so across processes and restarts),
// a digest of what failed in between.

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
  queued: DigestItem[];
  timer: NodeJS.Timeout | undefined;
  /** Serialises this integration's decisions and sends. */
  chain: Promise<void>;
}

const MAX_QUEUED = 1000;
/** Least wait before trying the window again (clocks of several hosts may disagree a little). */
const MIN_RETRY_MS = 10;

export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, logger, windowMs, mailer } = deps;
  const now = deps.now ?? Date.now;
  const states = new Map<Guid, IntegrationMail>();
  let closed = false;

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
      logger.info({ integrationId, failed: items.length }, 'exhaustion e-mail sent');
    } catch (error) {
      // Kept for the next try: the next failure (or digest) of this integration sends them along.
      state.queued.unshift(...items.slice(0, MAX_QUEUED - state.queued.length));
      logger.error({ err: error, integrationId }, 'exhaustion e-mail could not be sent');
    }
  }

  // Why the store decides: the window is shared by every process of the deployment (and survives a
  // restart), so two worker processes never both e-mail an integration inside one window. The process
  // that takes the window sends what it has queued; the others try again when the window ends.
  async function trySend(state: IntegrationMail, integrationId: Guid): Promise<void> {
    if (state.queued.length === 0 || state.timer !== undefined || closed) return;
    const window = await store.reserveEmailWindow(integrationId, now(), windowMs);
    if (window.reserved) return sendDigest(state);
    const wait = Math.max(MIN_RETRY_MS, window.lastSentAt + windowMs - now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.chain = state.chain
        .then(() => trySend(state, integrationId))
        .catch((error: unknown) => logger.error({ err: error, integrationId }, 'exhaustion e-mail failed'));
    }, wait);
    state.timer.unref();
  }

  async function handle(state: IntegrationMail, item: DigestItem): Promise<void> {
    if (state.queued.length < MAX_QUEUED) state.queued.push(item);
    await trySend(state, item.failure.integrationId);
  }

  function queueMail(item: DigestItem): void {
    const id = item.failure.integrationId;
    let state = states.get(id);
    if (state === undefined) {
      state = {
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
