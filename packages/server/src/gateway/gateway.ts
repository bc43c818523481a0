// The websocket gateway: SignalR hub `/engine-chat-hub` (negotiate + websocket) and the fire-and-forget
// push of committed activities to the connections of Direct/BYOI integrations without a webhookUrl.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { errorItem } from '../domain/errors.js';
import type { Guid } from '../domain/types.js';
import type { Authenticate, Gateway, PartDeps } from '../engine-parts.js';
import { integrationRefusal, resolveHubTarget, type AccessResult, type HubTarget } from './access.js';
import type { GatewayBus } from './bus.js';
import { corsHeaders, errorBody, refuseUpgrade, writeJson } from './http.js';
import { createGatewayMetrics } from './metrics.js';
import { OutcomeWriter } from './outcomes.js';
import { createPostgresBus } from './postgres-bus.js';
import { Pusher, type ReleaseScope } from './push.js';
import { SessionRegistry } from './registry.js';
import { HubSession, type SessionLimits } from './session.js';

export interface GatewayOptions extends SessionLimits {
  /** The hub path (the negotiate path is this + "/negotiate"). */
  path: string;
  /**
   * Keep-alive ping period (SignalR default 15 s). Open connections are also checked against their
   * integration this often (deleted, canceled or given a webhookUrl by another process → closed).
   */
  pingIntervalMs: number;
  /**
   * With a bus (several processes): how long "not delivered" waits for another process to report
   * "delivered" before it is recorded.
   */
  remoteGraceMs: number;
}

export const defaultGatewayOptions: GatewayOptions = {
  path: '/engine-chat-hub',
  pingIntervalMs: 15_000,
  clientTimeoutMs: 30_000,
  handshakeTimeoutMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxReceiveChars: 64 * 1024,
  closeGraceMs: 2_000,
  remoteGraceMs: 1_000,
};

export interface GatewayDeps extends PartDeps {
  authenticate: Authenticate;
  options?: Partial<GatewayOptions>;
  /**
   * Cross-process fan-out. Default: LISTEN/NOTIFY when the database is PostgreSQL, none on SQLite
   * (one engine process per SQLite file). `null` disables it.
   */
  bus?: GatewayBus | null;
  /** The engine's Prometheus registry (GET /metrics); the gateway adds its own metrics to it. */
  registry?: Registry;
}

export interface HubGateway extends Gateway {
  /** Live connections of this process (handshake done or not). */
  connectionCount(): number;
  /** Resolves once pushes from other processes are heard (at once without a bus). */
  ready(): Promise<void>;
  release(scope: ReleaseScope): Promise<number>;
  recheck(scope?: RecheckScope): Promise<void>;
}

/**
 * Which connections a recheck looks at: these integrations', one hub's, or (undefined) all — and, for
 * all or one tenant's (after a client of it was revoked), whether their tokens are still valid.
 */
export type RecheckScope = { integrationIds: Guid[] } | { hubId: Guid } | { tenantId: Guid };

function connectionToken(): string {
  return randomBytes(16).toString('base64url');
}

export function createGateway(deps: GatewayDeps): HubGateway {
  const options: GatewayOptions = { ...defaultGatewayOptions, ...deps.options };
  const logger = deps.logger.child({ part: 'gateway' });
  const registry = new SessionRegistry();
  const metrics = createGatewayMetrics(deps.registry, () => registry.size);
  const outcomes = new OutcomeWriter(deps.store, logger);
  // noServer: upgrades are routed here from the engine's HTTP server; clients only send small records.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxReceiveChars * 4,
  });
  const negotiatePath = `${options.path}/negotiate`;
  /** The hub path's last segment, as every request for the hub or its negotiate path spells it. */
  const hubSegment =
    options.path
      .split('/')
      .filter((part) => part !== '')
      .pop() ?? '';
  const attached: {
    server: Server;
    onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
    restore: () => void;
  }[] = [];
  let closed = false;
  let lastPingAt = Date.now();
  const origin = connectionToken();
  const bus =
    deps.bus === undefined
      ? /^postgres(ql)?:\/\//.test(deps.config.databaseUrl)
        ? createPostgresBus(deps.config.databaseUrl, origin, logger)
        : undefined
      : (deps.bus ?? undefined);
  const pusher = new Pusher({
    store: deps.store,
    registry,
    outcomes,
    metrics,
    logger,
    bus,
    origin,
    remoteGraceMs: options.remoteGraceMs,
    maxBufferedBytes: options.maxBufferedBytes,
  });

  const resolve = (req: IncomingMessage, query: URLSearchParams): Promise<AccessResult> =>
    resolveHubTarget(deps.store, deps.authenticate, req.headers, query);

  /**
   * Closes this process's connections whose integration may no longer hold one (deleted with itself or
   * its hub, canceled, given a webhookUrl), with the reason as the SignalR close error. Passes run one
   * after another, so a pass asked for after a change reads that change.
   */
  let rechecks: Promise<void> = Promise.resolve();
  let recheckQueued = false;
  /** Passes started so far: an upgrade whose access check overlapped one is checked again once accepted. */
  let recheckPasses = 0;
  async function recheckPass(scope?: RecheckScope): Promise<void> {
    recheckPasses++;
    if (scope === undefined || 'tenantId' in scope) await recheckTokens(scope?.tenantId);
    if (scope !== undefined && 'tenantId' in scope) return;
    const ids =
      scope === undefined
        ? registry.integrationIds()
        : 'hubId' in scope
          ? registry.integrationIds(scope.hubId)
          : scope.integrationIds;
    for (const integrationId of ids) {
      if (registry.sessionsOf(integrationId).length === 0) continue;
      let refusal: string | undefined;
      try {
        refusal = integrationRefusal(await deps.store.getIntegration(integrationId));
      } catch (error) {
        // The store is unavailable: keep the connections, the next pass checks again.
        logger.warn({ err: error, integrationId }, 'hub connections could not be checked');
        continue;
      }
      if (refusal === undefined) continue;
      for (const session of registry.sessionsOf(integrationId)) session.close('revoked', refusal);
    }
  }
  /** Closes the connections (all, or one tenant's) whose token was revoked with its client. */
  async function recheckTokens(tenantId?: Guid): Promise<void> {
    const byToken = new Map<string, HubSession[]>();
    for (const session of registry.all()) {
      const { tokenHash } = session.target;
      if (tokenHash === undefined || (tenantId !== undefined && session.target.tenantId !== tenantId))
        continue;
      const sessions = byToken.get(tokenHash);
      if (sessions === undefined) byToken.set(tokenHash, [session]);
      else sessions.push(session);
    }
    for (const [tokenHash, sessions] of byToken) {
      let valid: boolean;
      try {
        valid = (await deps.store.getToken(tokenHash)) !== undefined;
      } catch (error) {
        // The store is unavailable: keep the connections, the next pass checks again.
        logger.warn({ err: error }, 'hub connection tokens could not be checked');
        return;
      }
      if (!valid) for (const session of sessions) session.close('revoked', 'The access token was revoked.');
    }
  }
  function recheck(scope?: RecheckScope): Promise<void> {
    if (closed) return Promise.resolve();
    const pass = (): Promise<void> => recheckPass(scope);
    rechecks = rechecks.then(pass, pass);
    return rechecks;
  }

  const timer = setInterval(
    () => {
      const now = Date.now();
      const ping = now - lastPingAt >= options.pingIntervalMs;
      if (ping) lastPingAt = now;
      for (const session of registry.all()) session.tick(now, ping);
      // A periodic pass only when none is queued: a slow store must not pile passes up.
      if (ping && !recheckQueued && registry.size > 0) {
        recheckQueued = true;
        recheck()
          .catch((error: unknown) => logger.error({ err: error }, 'checking hub connections failed'))
          .finally(() => (recheckQueued = false));
      }
    },
    Math.min(1_000, options.pingIntervalMs),
  );
  timer.unref();

  /** The request target's path and query; undefined when it is no URL at all (`//[`, `http://x:99999/`). */
  function pathOf(req: IncomingMessage): { path: string; query: URLSearchParams } | undefined {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return undefined;
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    return { path, query: url.searchParams };
  }

  async function negotiate(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    req.resume();
    if (req.method === 'OPTIONS') {
      res.writeHead(204, corsHeaders(req));
      res.end();
      return;
    }
    if (req.method !== 'POST') {
      writeJson(req, res, 405, errorBody(405, [errorItem('MethodNotAllowed')]));
      return;
    }
    const access = await resolve(req, query);
    if (!access.ok) {
      writeJson(req, res, access.status, errorBody(access.status, access.errors));
      return;
    }
    // Stateless: the token is not remembered, the upgrade is authorised again on its own (so negotiate
    // and the websocket may land on different engine processes behind a load balancer).
    const token = connectionToken();
    const version = Number(query.get('negotiateVersion') ?? '0') >= 1 ? 1 : 0;
    const body: Record<string, unknown> = {
      negotiateVersion: version,
      connectionId: token,
      availableTransports: [{ transport: 'WebSockets', transferFormats: ['Text'] }],
    };
    if (version === 1) body.connectionToken = token;
    writeJson(req, res, 200, JSON.stringify(body));
  }

  function accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: HubTarget,
    query: URLSearchParams,
    passesBefore: number,
  ): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new HubSession(ws, target, query.get('id') ?? connectionToken(), options, logger, () =>
        metrics.slowConsumerDrops.inc(),
      );
      registry.add(session);
      ws.on('close', () => registry.remove(session));
      if (closed) session.close('shutdown');
      // A recheck that ran while the access check awaited the store could not see this connection
      // (an integration deleted, a client revoked meanwhile): check it now.
      else if (recheckPasses !== passesBefore) {
        const failed = (error: unknown): void =>
          logger.error({ err: error }, 'checking a new hub connection failed');
        recheck({ integrationIds: [target.integrationId] }).catch(failed);
        if (target.tokenHash !== undefined) recheck({ tenantId: target.tenantId }).catch(failed);
      }
    });
  }

  async function upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    query: URLSearchParams,
  ): Promise<void> {
    if (closed) {
      refuseUpgrade(socket, 503, errorBody(503, [errorItem('SystemError', 'The engine is shutting down.')]));
      return;
    }
    const passesBefore = recheckPasses;
    const access = await resolve(req, query);
    if (!access.ok) {
      refuseUpgrade(socket, access.status, errorBody(access.status, access.errors));
      return;
    }
    if (socket.destroyed) return;
    accept(req, socket, head, access.target, query, passesBefore);
  }

  function attach(server: Server): void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const target = pathOf(req);
      if (target === undefined) {
        // Thrown here, it would have ended the process: this listener runs outside any request handler.
        refuseUpgrade(socket, 400, errorBody(400, [errorItem('InvalidValue', 'The URL is not valid.')]));
        return;
      }
      const { path, query } = target;
      if (path !== options.path) {
        // Only answer foreign paths when nobody else handles upgrades on this server.
        if (server.listenerCount('upgrade') === 1)
          refuseUpgrade(socket, 404, errorBody(404, [errorItem('NotFound')]));
        return;
      }
      socket.on('error', (error) => logger.debug({ err: error }, 'upgrade socket error'));
      upgrade(req, socket, head, query).catch((error: unknown) => {
        logger.error({ err: error }, 'hub upgrade failed');
        refuseUpgrade(socket, 500, errorBody(500, [errorItem('SystemError')]));
      });
    };

    // The gateway owns `<path>/negotiate` on this server: requests for it are taken before the
    // server's own request listeners (the HTTP API) see them; every other request passes through.
    const previous = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      // Most requests are the API's: a target that does not hold the hub's last path segment as sent
      // cannot be the hub or its negotiate path (parsing a URL never decodes or adds one), so it is
      // passed on without parsing it.
      if (hubSegment !== '' && req.url?.includes(hubSegment) !== true) {
        for (const listener of previous) listener.call(server, req, res);
        return;
      }
      // A target that is no URL is not the gateway's: the HTTP API answers it (400).
      const target = pathOf(req);
      if (target?.path === negotiatePath) {
        negotiate(req, res, target.query).catch((error: unknown) => {
          logger.error({ err: error }, 'hub negotiate failed');
          if (!res.headersSent) writeJson(req, res, 500, errorBody(500, [errorItem('SystemError')]));
          else res.destroy();
        });
        return;
      }
      if (target?.path === options.path && req.method === 'GET') {
        // The hub itself without an upgrade (a browser, curl): say what it is rather than "no such route".
        req.resume();
        const body = errorBody(426, [
          errorItem(
            'InvalidValue',
            `This is the websocket hub: open it as a websocket (Upgrade: websocket) with a SignalR client, after POST ${negotiatePath} if it negotiates (docs/websocket.md).`,
          ),
        ]);
        res.writeHead(426, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          upgrade: 'websocket',
          connection: 'Upgrade',
        });
        res.end(body);
        return;
      }
      for (const listener of previous) listener.call(server, req, res);
    };
    server.removeAllListeners('request');
    server.on('request', onRequest);
    server.on('upgrade', onUpgrade);
    attached.push({
      server,
      onUpgrade,
      restore: () => {
        server.removeListener('request', onRequest);
        for (const listener of previous) server.on('request', listener);
      },
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    for (const entry of attached.splice(0)) {
      entry.server.removeListener('upgrade', entry.onUpgrade);
      entry.restore();
    }
    const sessions = registry.all();
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((done) => {
            session.onClosed(done);
            session.close('shutdown');
          }),
      ),
    );
    await rechecks.catch(() => undefined);
    await pusher.settle();
    await bus?.close();
    await outcomes.drain();
    wss.close();
  }

  return {
    attach,
    publish: (result) => pusher.publish(result),
    release: (scope) => (closed ? Promise.resolve(0) : pusher.release(scope)),
    recheck,
    close,
    connectionCount: () => registry.size,
    ready: () => bus?.ready() ?? Promise.resolve(),
  };
}
