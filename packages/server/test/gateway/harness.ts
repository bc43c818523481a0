// An engine assembled in-process for gateway tests: the real HTTP API (Fastify), a real SQLite (or
// PostgreSQL) store and the real gateway, listening on 127.0.0.1 port 0. Gateway options (ping period,
// buffer limit) can be shortened here, which a child-process engine does not allow.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { createAuthenticate } from '../../src/api/auth.js';
import { createMetrics } from '../../src/api/metrics.js';
import { loadConfig } from '../../src/config/load.js';
import { createGateway, type GatewayOptions, type HubGateway } from '../../src/gateway/gateway.js';
import type { Store } from '../../src/store/contract.js';
import { openStore } from '../../src/store/open.js';
import { stablePort } from '../support/stable-port.js';

export interface InProcessEngine {
  url: string;
  adminToken: string;
  store: Store;
  gateway: HubGateway;
  app: FastifyInstance;
  /** Closes everything and starts again on the same database, port and admin token. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  gateway?: Partial<GatewayOptions>;
  /** Defaults to a fresh SQLite file. */
  databaseUrl?: string;
  adminToken?: string;
  /** Skip migrate() (a second engine on an already migrated database). */
  migrate?: boolean;
  /** Wraps the store the API and the gateway use (to hold or count reads); `store` stays the real one. */
  wrapStore?: (store: Store) => Store;
}

export async function startInProcessEngine(options: InProcessOptions = {}): Promise<InProcessEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'hookster-gateway-'));
  const adminToken = options.adminToken ?? `admin-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    env: {
      HOOKSTER_DATABASE_URL: options.databaseUrl ?? `sqlite:${join(dir, 'hookster.db')}`,
      HOOKSTER_DATA_DIR: dir,
      HOOKSTER_ADMIN_TOKEN: adminToken,
      HOOKSTER_LOG_LEVEL: 'warn',
    },
  });
  const logger = pino({ level: 'warn' });

  async function boot(port: number, migrate: boolean) {
    const store = await openStore(config.databaseUrl);
    if (migrate) await store.migrate();
    const seen = options.wrapStore ? options.wrapStore(store) : store;
    const authenticate = createAuthenticate(seen, adminToken);
    const metrics = createMetrics();
    const gateway = createGateway({
      config,
      store: seen,
      logger,
      authenticate,
      options: options.gateway,
      registry: metrics.registry,
    });
    const app = await buildApp({ config, store: seen, logger, authenticate, gateway, metrics });
    gateway.attach(app.server);
    await app.listen({ host: '127.0.0.1', port });
    return { store, gateway, app, port: (app.server.address() as AddressInfo).port };
  }

  async function shutdown(parts: { store: Store; gateway: HubGateway; app: FastifyInstance }): Promise<void> {
    await parts.gateway.close();
    await parts.app.close();
    await parts.store.close();
  }

  // restart() comes back on the same port: one below the ephemeral range (support/stable-port.ts).
  let parts = await boot(await stablePort(), options.migrate !== false);
  const engine: InProcessEngine = {
    url: `http://127.0.0.1:${parts.port}`,
    adminToken,
    store: parts.store,
    gateway: parts.gateway,
    app: parts.app,
    async restart() {
      await shutdown(parts);
      parts = await boot(parts.port, false);
      Object.assign(engine, { store: parts.store, gateway: parts.gateway, app: parts.app });
    },
    async stop() {
      await shutdown(parts);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return engine;
}
