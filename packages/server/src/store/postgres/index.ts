// The PostgreSQL Store: many engine processes share one database (HOOKSTER_DATABASE_URL=postgres://…).

import { randomUUID } from 'node:crypto';
import type { Store } from '../contract.js';
import * as accounts from './accounts.js';
import { claimDeliveries } from './claim.js';
import { createPool, parsePostgresUrl, type ErrorSink } from './connection.js';
import type { PgContext } from './context.js';
import * as conversations from './conversations.js';
import * as deliveries from './deliveries.js';
import { takeHeldWebsocketDeliveries } from './held-pushes.js';
import * as hubs from './hubs.js';
import * as integrations from './integrations.js';
import { translatePostgresError } from './errors.js';
import { WorkListener, workChannel } from './listener.js';
import { findByText, refusingBadText } from './tx.js';
import { migrate } from './migrate.js';
import * as notifications from './notifications.js';
import { failStaleWebsocketDeliveries, recordAttempts, recordWebsocketOutcomes } from './attempts.js';
import { SubmitBatcher } from './submit.js';

export { parsePostgresUrl } from './connection.js';

export interface PostgresStoreOptions {
  /** Where connection errors go (they never throw out of the pool); default: stderr, rate-limited. */
  onError?: ErrorSink;
  /** Above 0 (HOOKSTER_SYNC as a duration): commits without waiting for the WAL flush (connection.ts). */
  syncIntervalMs?: number;
  /**
   * Above 0 (HOOKSTER_PG_STATEMENT_TIMEOUT): the longest a statement on the pooled connections may run,
   * in ms; a longer one fails Busy (connection.ts). Default 0: no limit (migrations never have one).
   */
  statementTimeoutMs?: number;
}

/** One JSON line on stderr per kind of problem at most every 5 s, so a database restart is visible, not a flood. */
function stderrSink(): ErrorSink {
  const last = new Map<string, number>();
  return (message, error) => {
    const now = Date.now();
    if (now - (last.get(message) ?? 0) < 5_000) return;
    last.set(message, now);
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      JSON.stringify({ level: 40, time: now, msg: `postgres: ${message}`, err: detail }) + '\n',
    );
  };
}

/**
 * `url` is `postgres://user@host:port/db`, optionally `?schema=name` (default `public`) and
 * `&pool=N` (connections of this process, default 10). Nothing connects until the first call.
 */
export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const settings = parsePostgresUrl(url);
  const onError: ErrorSink = options.onError ?? stderrSink();
  const pool = createPool(settings, onError, {
    asyncCommit: (options.syncIntervalMs ?? 0) > 0,
    statementTimeoutMs: options.statementTimeoutMs ?? 0,
  });
  // Each store instance tags its NOTIFYs, so its own listener skips what it already signalled locally.
  const instanceId = randomUUID();
  const channel = workChannel(settings.schema);
  const listener = new WorkListener(settings, channel, instanceId, onError);
  const ctx: PgContext = {
    pool,
    notifyParams: [channel, instanceId],
    fireLocal: () => listener.fire(),
    signalWork: () => {
      listener.fire();
      pool.query('SELECT pg_notify($1, $2)', [channel, instanceId]).catch((error: unknown) => {
        onError('NOTIFY failed', error);
      });
    },
  };
  const batcher = new SubmitBatcher(ctx);
  let closing: Promise<void> | undefined;

  return translatingErrors({
    kind: 'postgres',
    migrate: () => migrate(pool, settings.schema),
    close: () => {
      closing ??= (async () => {
        await listener.close();
        await pool.end();
      })();
      return closing;
    },

    createTenant: (tenant) => refusingBadText(accounts.createTenant(ctx, tenant)),
    getTenant: (tenantId) => findByText(tenantId, () => accounts.getTenant(ctx, tenantId)),
    updateTenant: (tenant) => refusingBadText(accounts.updateTenant(ctx, tenant)),
    createClient: (client) => refusingBadText(accounts.createClient(ctx, client)),
    getClient: (clientId) => findByText(clientId, () => accounts.getClient(ctx, clientId)),
    listClients: async (tenantId) =>
      (await findByText(tenantId, () => accounts.listClients(ctx, tenantId))) ?? [],
    deleteClient: (tenantId, clientId) =>
      findByText(`${tenantId}${clientId}`, () => accounts.deleteClient(ctx, tenantId, clientId)),
    createToken: (token, clientSecretHash) => accounts.createToken(ctx, token, clientSecretHash),
    getToken: (tokenHash) => findByText(tokenHash, () => accounts.getToken(ctx, tokenHash)),

    createHub: (hub) => refusingBadText(hubs.createHub(ctx, hub)),
    getHub: (hubId) => findByText(hubId, () => hubs.getHub(ctx, hubId)),
    listHubs: (tenantId, page) => hubs.listHubs(ctx, tenantId, page),
    updateHub: (hub, expected) => refusingBadText(hubs.updateHub(ctx, hub, expected)),
    deleteHub: (hubId) => hubs.deleteHub(ctx, hubId),

    createIntegration: (integration) => refusingBadText(integrations.createIntegration(ctx, integration)),
    getIntegration: (integrationId) =>
      findByText(integrationId, () => integrations.getIntegration(ctx, integrationId)),
    listIntegrations: (filter, page) => integrations.listIntegrations(ctx, filter, page),
    updateIntegration: (integration, expected) =>
      refusingBadText(integrations.updateIntegration(ctx, integration, expected)),
    deleteIntegration: (integrationId) => integrations.deleteIntegration(ctx, integrationId),

    establishConversation: (request, create) =>
      refusingBadText(conversations.establishConversation(ctx, request, create)),
    getConversation: (conversationId) =>
      findByText(conversationId, () => conversations.getConversation(ctx, conversationId)),

    submitActivity: (conversationId, plan) => refusingBadText(batcher.submit(conversationId, plan)),
    listActivities: (conversationId, query) => conversations.listActivities(ctx, conversationId, query),

    claimDeliveries: (request) => claimDeliveries(ctx, request),
    recordAttempts: (records) => recordAttempts(ctx, records),
    nextDueAt: () => deliveries.nextDueAt(ctx),
    onWork: (workListener) => listener.add(workListener),

    listDeliveries: (integrationId, status, page) =>
      deliveries.listDeliveries(ctx, integrationId, status, page),
    getDelivery: (deliveryId) => findByText(deliveryId, () => deliveries.getDelivery(ctx, deliveryId)),
    retryDelivery: (deliveryId, now) => deliveries.retryDelivery(ctx, deliveryId, now),
    recoverDeliveries: (integrationId, since, now) =>
      deliveries.recoverDeliveries(ctx, integrationId, since, now),

    recordWebsocketOutcomes: (outcomes) => recordWebsocketOutcomes(ctx, outcomes),
    failStaleWebsocketDeliveries: (before, error, limit) =>
      failStaleWebsocketDeliveries(ctx, before, error, limit),
    takeHeldWebsocketDeliveries: (scope, limit) => takeHeldWebsocketDeliveries(ctx, scope, limit),

    createNotification: (notification, owedMail) =>
      notifications.createNotification(ctx, notification, owedMail),
    listOwedMail: (integrationId, limit) => notifications.listOwedMail(ctx, integrationId, limit),
    clearOwedMail: (ids) => notifications.clearOwedMail(ctx, ids),
    integrationsOwedMail: () => notifications.integrationsOwedMail(ctx),
    reserveEmailWindow: (integrationId, now, windowMs) =>
      notifications.reserveEmailWindow(ctx, integrationId, now, windowMs),
    releaseEmailWindow: (integrationId, reservedAt, windowMs) =>
      notifications.releaseEmailWindow(ctx, integrationId, reservedAt, windowMs),
    pruneEmailWindows: (before) => notifications.pruneEmailWindows(ctx, before),
    listNotifications: (tenantId, page) => notifications.listNotifications(ctx, tenantId, page),
  });
}

/**
 * Every operation's failure goes through translatePostgresError: a pool that stays exhausted (a burst,
 * connections held by transactions waiting for locks) or a server out of connections answers 503 with
 * Retry-After through the API, not 500.
 */
function translatingErrors(store: Store): Store {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function') {
      wrapped[name] = member;
      continue;
    }
    const operation = member as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]): unknown => {
      const result = operation(...args);
      return result instanceof Promise ? result.catch(translatePostgresError) : result;
    };
  }
  return wrapped as unknown as Store;
}
