// Composes one engine process from its parts by role: the store (always), the HTTP API and websocket
// gateway (api/all) and the webhook dispatcher (worker/all). A worker still serves health and metrics.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { createAuthenticate } from './api/auth.js';
import { createMetrics } from './api/metrics.js';
import type { HooksterConfig } from './config/types.js';
import { canDispatchOnThread, createThreadDispatcher } from './delivery/dispatch-thread.js';
import { createDispatcher } from './delivery/dispatcher.js';
import type { PartDeps } from './engine-parts.js';
import { createGateway, type HubGateway } from './gateway/gateway.js';
import { startStaleSweeper, type StaleSweeper } from './gateway/stale-sweeper.js';
import type { Store } from './store/contract.js';
import { openStore } from './store/open.js';
import { claimDatabaseFile } from './store/sqlite/process-lock.js';
import { sqlitePathOf } from './store/sqlite/write-lock.js';

export interface EngineOptions {
  logger?: Logger;
}

export interface Engine {
  config: HooksterConfig;
  store: Store;
  app: FastifyInstance;
  logger: Logger;
  /** Base URL once started (empty before). */
  url: string;
  /** Listens, attaches the gateway, starts the dispatcher; resolves with the URL. */
  start(): Promise<string>;
  /** Graceful: stops accepting, finishes in-flight requests and attempts, closes the store. */
  stop(): Promise<void>;
}

function urlOf(address: AddressInfo | string | null, host: string): string {
  if (address === null || typeof address === 'string') return `http://${host}`;
  const shown =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return address.family === 'IPv6' ? `http://[${shown}]:${address.port}` : `http://${shown}:${address.port}`;
}

/** Bound on waiting for requests in flight at shutdown before their connections are cut. */
const HTTP_DRAIN_MS = 10_000;

/**
 * Closes the HTTP server gracefully: no new connections; requests in flight are answered; keep-alive
 * connections are closed as soon as they turn idle (a client holding one open must not stall the exit).
 */
async function closeHttp(app: FastifyInstance): Promise<void> {
  const server = app.server;
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}

export async function createEngine(config: HooksterConfig, options: EngineOptions = {}): Promise<Engine> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { role: config.role } });
  // A worker-only process on SQLite is woken by the API process's commits through the file itself.
  const store = await openStore(config.databaseUrl, {
    watchForeignCommits: config.role === 'worker',
    syncIntervalMs: config.syncIntervalMs,
    statementTimeoutMs: config.pgStatementTimeoutMs,
    // SQLite: WAL checkpoints on a thread of their own, not inside the commits that answer requests.
    checkpoints: 'thread',
    warn: (message, reason) => logger.warn({ reason }, message),
  });
  // SQLite: a --role all process must be the file's only process (process-lock.ts).
  const sqlitePath = sqlitePathOf(config.databaseUrl);
  let releaseFile: (() => void) | undefined;
  try {
    if (sqlitePath !== undefined) {
      releaseFile = claimDatabaseFile(sqlitePath, config.role === 'all' ? 'sole' : 'shared');
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  await store.migrate();
  const authenticate = createAuthenticate(store, config.adminToken);
  const metrics = createMetrics();
  const parts: PartDeps = { config, store, logger };
  const serveApi = config.role === 'api' || config.role === 'all';
  const runWorker = config.role === 'worker' || config.role === 'all';

  let gateway: HubGateway | undefined;
  if (serveApi) {
    gateway = createGateway({
      ...parts,
      authenticate,
      registry: metrics.registry,
      options: {
        pingIntervalMs: config.wsPingIntervalMs,
        clientTimeoutMs: config.wsClientTimeoutMs,
        maxBufferedBytes: config.wsSendBufferBytes,
        remoteGraceMs: config.wsOutcomeWaitMs,
      },
    });
  }
  // On a thread with HOOKSTER_DISPATCH_THREAD=true: sending and recording run on a second core (dispatch-thread.ts).
  const onThread =
    canDispatchOnThread(config.databaseUrl) &&
    (config.dispatchThread === true ||
      (config.dispatchThread !== false && config.databaseUrl.startsWith('sqlite:')));
  const dispatcher = !runWorker
    ? undefined
    : onThread
      ? createThreadDispatcher({ ...parts, metrics })
      : createDispatcher({ ...parts, metrics });
  const app = await buildApp({
    config,
    store,
    logger,
    authenticate,
    gateway,
    metrics,
    healthOnly: !serveApi,
    ...(dispatcher?.unavailable ? { dispatcherUnavailable: () => dispatcher.unavailable?.() } : {}),
  });

  let stopping: Promise<void> | undefined;
  let sweeper: StaleSweeper | undefined;
  const engine: Engine = {
    config,
    store,
    app,
    logger,
    url: '',
    async start() {
      try {
        await app.ready();
        gateway?.attach(app.server);
        // On PostgreSQL the gateway listens for other processes' pushes before this one takes traffic.
        await gateway?.ready();
        // The dispatcher first: a process that answers is one that delivers (a dispatch thread takes a
        // few hundred ms to start; the first submission used to wait for it).
        dispatcher?.start();
        await dispatcher?.ready?.();
        await app.listen({ host: config.host, port: config.port });
        engine.url = urlOf(app.server.address(), config.host);
        if (gateway) sweeper = startStaleSweeper(store, logger);
        return engine.url;
      } catch (error) {
        // Never half started (e.g. serving submissions with no dispatcher to deliver them): all or nothing.
        await engine
          .stop()
          .catch((stopError: unknown) =>
            logger.error({ err: stopError }, 'stopping after a failed start failed'),
          );
        throw error;
      }
    },
    stop() {
      stopping ??= (async () => {
        // Order matters: stop taking requests (in-flight submissions finish and commit) while the gateway
        // closes its websockets (an open upgraded socket would keep the HTTP server from closing), then
        // the dispatcher (it records its in-flight attempts), and the store last.
        await Promise.all([closeHttp(app), gateway?.close(), sweeper?.stop()]);
        await dispatcher?.stop();
        await store.close();
        releaseFile?.();
      })();
      return stopping;
    },
  };
  return engine;
}
