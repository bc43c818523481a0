// The webhook dispatcher: claims due deliveries in batches, sends them with bounded concurrency
// (overall and per integration), records every outcome in batches, and notifies on exhaustion.
// Woken by the store's onWork signal and by one timer set to the next due time; no hot-path polling.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buildBody } from '../domain/body.js';
import { MAX_RETRY_WAIT_MS, MAX_TIMER_MS, parseDuration, parseDurationList } from '../domain/duration.js';
import { decideOutcome } from '../domain/retry.js';
import type { EpochMs, Guid } from '../domain/types.js';
import type { Dispatcher, PartDeps } from '../engine-parts.js';
import { createMailer } from '../notify/mailer.js';
import type { ExhaustedDelivery } from '../notify/exhaustion.js';
import { type Notifier, createNotifier } from '../notify/notifier.js';
import type { AttemptRecord, ClaimedDelivery } from '../store/contract.js';
import { buildWebhookRequest } from './request.js';
import { type Transport, type TransportOutcome, createTransport } from './transport.js';

/** The Prometheus instruments the dispatcher updates (api/metrics.ts provides them). */
export interface DeliveryMetrics {
  deliveries: { inc(labels: { outcome: string }, value?: number): void };
  attemptDuration: { observe(labels: { outcome: string }, seconds: number): void };
  queueDepth: { set(value: number): void };
}

export interface DispatcherOptions extends PartDeps {
  metrics?: DeliveryMetrics;
  /** Defaults to an undici transport with the configured egress allow-list. */
  transport?: Transport;
  notifier?: Notifier;
  now?: () => EpochMs;
  /** Added to the longest attempt timeout to make the lease (covers recording the result). */
  leaseMarginMs?: number;
  /** Longest sleep while idle, so work signalled by another process is found (default 1 s). */
  idlePollMs?: number;
}

interface Finished {
  claimed: ClaimedDelivery;
  record: AttemptRecord;
}

const OUTCOME_LABEL = {
  delivered: { outcome: 'delivered' },
  pending: { outcome: 'retry' },
  failed: { outcome: 'failed' },
} as const;

/** Tries of one recordAttempts round before its results are left to lease expiry. */
const RECORD_TRIES = 4;

/** Longest per-integration timeout honoured; it also bounds the lease. */
const MAX_TIMEOUT_MS = 300_000;

export function createDispatcher(deps: DispatcherOptions): Dispatcher {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const leaseMarginMs = deps.leaseMarginMs ?? 5_000;
  const idlePollMs = deps.idlePollMs ?? 1_000;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const ownTransport = deps.transport === undefined;
  const transport =
    deps.transport ??
    createTransport({ egressAllow: config.egressAllow, connectTimeoutMs: config.deliveryTimeoutMs });
  const ownNotifier = deps.notifier === undefined;
  const notifier =
    deps.notifier ??
    createNotifier({
      store,
      logger,
      windowMs: config.notifyWindowMs,
      ...(config.smtpUrl
        ? {
            mailer: createMailer(
              config.smtpUrl,
              config.smtpFrom,
              Math.max(1_000, Math.min(30_000, Math.floor(config.notifyWindowMs / 3))),
            ),
          }
        : {}),
    });

  const inFlight = new Map<Guid, number>();
  let inFlightTotal = 0;
  let running = false;
  let claiming = false;
  let claimAgain = false;
  let pumpScheduled = false;
  let finished: Finished[] = [];
  let recording: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  // Counts the timer's armings: a due time read from the store that another arming overtook is stale.
  let armings = 0;
  let claimDone: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  // Totals for the stop log: how well claims and records batch.
  const totals = { claims: 0, claimed: 0, recordRounds: 0, recorded: 0 };
  let unsubscribe: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];

  const schedules = new Map<string, readonly number[]>();
  const timeouts = new Map<string, number>();

  function scheduleOf(claimed: ClaimedDelivery): readonly number[] {
    const text = claimed.retrySchedule;
    if (text === undefined || text.trim() === '') return config.retryScheduleMs;
    let parsed = schedules.get(text);
    if (parsed === undefined) {
      // A schedule stored before steps were capped is capped here (a step past a week, or one that
      // overflows a date, would leave the delivery's outcome unrecordable).
      parsed =
        text.trim() === 'none'
          ? []
          : (parseDurationList(text)?.map((ms) => Math.min(ms, MAX_RETRY_WAIT_MS)) ?? config.retryScheduleMs);
      schedules.set(text, parsed);
    }
    return parsed;
  }

  /**
   * The attempt's timeout: the integration's own (`configuration.deliveryTimeout`) or the deployment's.
   * The store sizes each delivery's lease from the same text (`leaseMsFor`), so the lease outlasts it.
   */
  function timeoutFor(text: string | undefined): number {
    if (text === undefined) return config.deliveryTimeoutMs;
    let parsed = timeouts.get(text);
    if (parsed === undefined) {
      const value = parseDuration(text);
      parsed = value === undefined || value <= 0 ? config.deliveryTimeoutMs : Math.min(value, MAX_TIMEOUT_MS);
      timeouts.set(text, parsed);
    }
    return parsed;
  }
  const leaseMsFor = (text: string): number => timeoutFor(text) + leaseMarginMs;

  function schedulePump(): void {
    if (pumpScheduled || !running) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function pump(): void {
    if (!running) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    const free = config.concurrency - inFlightTotal;
    if (free <= 0) return;
    claiming = true;
    claimAgain = false;
    claimDone = claimAndSend(free).catch((error: unknown) => {
      logger.error({ err: error }, 'dispatching claimed deliveries failed');
    });
  }

  async function claimAndSend(free: number): Promise<void> {
    let claimed: ClaimedDelivery[] = [];
    // The leases run from here, however long the claim then takes to come back.
    const claimedAt = now();
    try {
      claimed = await store.claimDeliveries({
        owner,
        now: claimedAt,
        leaseMs: config.deliveryTimeoutMs + leaseMarginMs,
        leaseMsFor,
        limit: free,
        perIntegrationLimit: config.perIntegrationConcurrency,
        inFlight,
        batchMaxActivities: config.batchMaxActivities,
        batchMaxBytes: config.batchMaxBytes,
        buildBody,
      });
    } catch (error) {
      logger.error({ err: error }, 'claiming deliveries failed');
    } finally {
      claiming = false;
    }
    totals.claims++;
    totals.claimed += claimed.length;
    // Claimed during stop(): still sent, as their leases would only delay them.
    for (const delivery of claimed) send(delivery, claimedAt);
    deps.metrics?.queueDepth.set(inFlightTotal);
    if (claimAgain || claimed.length === free) schedulePump();
    // Nothing due now: sleep until the store's next due time. While deliveries are in flight, their
    // completions wake us, and retries scheduled here arm the timer themselves (see record_).
    else if (claimed.length === 0) await armFromStore();
    // A claim that took some with no timer armed (the timer just fired: the one timer remembers only
    // the earliest retry): a later one, another lane's, would otherwise wait for the completion of what
    // was just sent, up to its whole timeout. Only then: not a query after every claim of a burst.
    else if (timer === undefined) await armFromStore(false);
  }

  function send(claimed: ClaimedDelivery, claimedAt: EpochMs): void {
    // Why a late claim shortens the attempt: the lease (the timeout + the margin) started when the claim
    // did, and the attempt must end before it does (with half the margin left to record the result),
    // or another process takes the delivery over and sends it while this request is still open. A
    // claim that came back later still (it waited for a pooled connection, a lock, a slow server)
    // leaves the delivery to its lease's expiry.
    const startedAt = now();
    const late = Math.max(0, startedAt - claimedAt - leaseMarginMs / 2);
    const timeoutMs = Math.floor(timeoutFor(claimed.deliveryTimeout) - late);
    if (timeoutMs <= 0) {
      logger.warn(
        { deliveryId: claimed.deliveryId, claimMs: startedAt - claimedAt },
        'claim came back after its attempt time had passed: left to its lease',
      );
      return;
    }
    inFlight.set(claimed.integrationId, (inFlight.get(claimed.integrationId) ?? 0) + 1);
    inFlightTotal++;
    // Whatever goes wrong becomes a failed attempt (a value): the lease is released by recording it.
    const failed = (error: unknown) =>
      complete(claimed, startedAt, { error: `internal error: ${String(error)}`, excerpt: '', durationMs: 0 });
    try {
      const request = buildWebhookRequest(claimed, config.sourceSystem, timeoutMs, startedAt);
      transport.send(request).then((outcome) => complete(claimed, startedAt, outcome), failed);
    } catch (error) {
      failed(error);
    }
  }

  function complete(claimed: ClaimedDelivery, startedAt: EpochMs, outcome: TransportOutcome): void {
    const count = (inFlight.get(claimed.integrationId) ?? 1) - 1;
    if (count === 0) inFlight.delete(claimed.integrationId);
    else inFlight.set(claimed.integrationId, count);
    inFlightTotal--;
    const record: AttemptRecord = {
      deliveryId: claimed.deliveryId,
      fence: claimed.fence,
      attemptNumber: claimed.attemptNumber,
      startedAt,
      durationMs: outcome.durationMs,
      next: decideOutcome({
        attemptNumber: claimed.attemptNumber,
        schedule: scheduleOf(claimed),
        result: outcome,
        now: now(),
      }),
    };
    if (outcome.statusCode !== undefined) record.statusCode = outcome.statusCode;
    if (outcome.error !== undefined) record.error = outcome.error;
    if (outcome.excerpt !== '') record.responseExcerpt = outcome.excerpt;
    // Exhausted: its notification is stored with the outcome, in one transaction (never one without
    // the other after a crash); the e-mail it owes is then the notifier's.
    if (record.next.status === 'failed') record.notify = notifier.prepare(exhaustedOf(claimed, record));
    if (deps.metrics) {
      const label = OUTCOME_LABEL[record.next.status];
      deps.metrics.deliveries.inc(label);
      deps.metrics.attemptDuration.observe(label, outcome.durationMs / 1000);
    }
    finished.push({ claimed, record });
    // No claim of its own: record_ claims right behind the record (see there).
    if (recording === undefined) recording = record_();
  }

  // One recordAttempts per round: results that finish while a round is being written wait for the
  // next one. The claim for the slots they free is queued right behind the record: SQLite runs both in
  // one transaction (one commit, and the claim sees the lanes' next deliveries the record promoted);
  // PostgreSQL runs them side by side. Either store then signals this process's work listeners after
  // a record that promoted deliveries (PostgreSQL: any promoted head, whatever its due time, as its
  // submitter may have sent no NOTIFY), which claims those. (A claim at each completion and another
  // after each round, as before, cost a third more claims, most of them empty, and 0–5 % more of the
  // engine's CPU per delivery in three A/Bs, docs/benchmarks.md.) Why it is safe to claim while a round is in
  // flight: an unrecorded delivery still holds its lease, so its lane's next delivery cannot be claimed
  // before its result is applied (FIFO per conversation).
  async function record_(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (finished.length > 0) {
      const batch = finished;
      finished = [];
      const recorded = recordWithRetries(batch.map((f) => f.record));
      pump();
      const applied = await recorded;
      totals.recordRounds++;
      totals.recorded += batch.length;
      if (applied.length < batch.length && applied.length > 0) {
        logger.debug({ stale: batch.length - applied.length }, 'stale attempt results ignored');
      }
      const appliedIds = new Set(applied);
      for (const { record } of batch) {
        if (record.next.status === 'pending' && appliedIds.has(record.deliveryId))
          armTimer(record.next.nextAttemptAt);
      }
      notifyExhausted(batch, appliedIds);
      deps.metrics?.queueDepth.set(inFlightTotal);
    }
    recording = undefined;
    if (inFlightTotal === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  // Why retried: an unrecorded result is sent again once its lease expires (a duplicate), so a
  // transient store error (busy, failover) is worth a few quick retries inside the lease margin.
  async function recordWithRetries(records: AttemptRecord[]): Promise<Guid[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.recordAttempts(records);
      } catch (error) {
        const giveUp = attempt >= RECORD_TRIES;
        logger.error({ err: error, count: records.length, attempt }, 'recording attempts failed');
        if (giveUp) return [];
        await new Promise((resolve) => setTimeout(resolve, Math.min(leaseMarginMs / RECORD_TRIES, 500)));
      }
    }
  }

  function exhaustedOf(claimed: ClaimedDelivery, record: AttemptRecord): ExhaustedDelivery {
    return {
      deliveryId: claimed.deliveryId,
      tenantId: claimed.tenantId,
      hubId: claimed.hubId,
      integrationId: claimed.integrationId,
      webhookUrl: claimed.webhookUrl,
      attempts: claimed.attemptNumber,
      createdAt: claimed.createdAt,
      ...(record.statusCode !== undefined ? { statusCode: record.statusCode } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
    };
  }

  /** The applied failures' notifications are stored already: log them and have their e-mails sent. */
  function notifyExhausted(batch: Finished[], appliedIds: ReadonlySet<Guid>): void {
    const stored = batch
      .filter((f) => f.record.notify !== undefined && appliedIds.has(f.record.deliveryId))
      .map((f) => ({
        failure: exhaustedOf(f.claimed, f.record),
        notification: f.record.notify!.notification,
      }));
    if (stored.length > 0) notifier.announce(stored);
  }

  /**
   * Arms the timer at the store's next due time (`replace`: even if armed earlier already — unless the
   * timer was armed while the store was being read: on PostgreSQL the read can run beside a record
   * round and miss the retry that round just armed, which it would then put off until the delivery's
   * lease ends).
   */
  async function armFromStore(replace = true): Promise<void> {
    const armingsBefore = armings;
    let due: EpochMs | undefined;
    try {
      due = await store.nextDueAt();
    } catch (error) {
      logger.error({ err: error }, 'reading the next due time failed');
    }
    const at = now();
    // A due time already past means work we could not take (per-integration limit, a lane head in
    // flight): completions and onWork wake us for those, so wait a little rather than spin.
    armTimer(
      due === undefined ? at + idlePollMs : Math.min(Math.max(due, at + 25), at + idlePollMs),
      replace && armings === armingsBefore,
    );
  }

  /** Wakes at `at`, or earlier if already armed earlier (unless `replace`). */
  function armTimer(at: EpochMs, replace = false): void {
    if (!running) return;
    if (timer !== undefined) {
      if (!replace && timerAt <= at) return;
      clearTimeout(timer);
    }
    timerAt = at;
    armings++;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Infinity;
        schedulePump();
      },
      // A due time further than a timer can wait: wake then, and arm again from the store.
      Math.min(MAX_TIMER_MS, Math.max(0, at - now())),
    );
  }

  return {
    wake: schedulePump,
    start() {
      if (running || stopped) return;
      running = true;
      unsubscribe = store.onWork(schedulePump);
      logger.info({ owner, concurrency: config.concurrency }, 'webhook dispatcher started');
      schedulePump();
    },
    stop() {
      stopped ??= (async () => {
        running = false;
        unsubscribe?.();
        unsubscribe = undefined;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        await claimDone;
        // In-flight attempts end within their timeout; their results are recorded before we return.
        if (inFlightTotal > 0 || recording !== undefined) {
          await new Promise<void>((resolve) => idleWaiters.push(resolve));
        }
        idleWaiters = [];
        if (ownNotifier) await notifier.close();
        if (ownTransport) await transport.close();
        logger.info({ owner, ...totals }, 'webhook dispatcher stopped');
      })();
      return stopped;
    },
  };
}
