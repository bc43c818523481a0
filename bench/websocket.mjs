#!/usr/bin/env node
// Websocket gateway benchmark: `node --import tsx bench/websocket.mjs` (the engine runs from the
// sources through tsx; ENGINE_FROM=dist runs the build).
//
// 1. Fan-out ceiling: activities pushed per second to 100 connected clients by the gateway alone
//    (publish() of committed results, real SQLite store for the outcomes), and in the same run the
//    baseline: a bare `ws` server sending the same frames to 100 clients (no SignalR, no bookkeeping).
// 2. End to end: activities submitted over HTTP to a real `hookster serve` process and pushed to 100
//    SignalR clients of the receiving integration (submit → commit → push → received by all 100).
// 3. Memory per idle connection: heap (after GC) and RSS of the gateway process with 1,000 idle,
//    handshaken connections, and the RSS growth of the real engine process for the same.
// The clients always run in a separate process. Roles of this file (BENCH_WS_ROLE): main, clients, fanout.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';

const ROLE = process.env.BENCH_WS_ROLE ?? 'main';
const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RS = '\x1e';
const TARGET = 'ReceiveDirectActivities';
const TARGET_BYTES = Buffer.from(TARGET);

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function textOfSize(bytes) {
  return 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '
    .repeat(Math.ceil(bytes / 57))
    .slice(0, bytes);
}

// ---------------------------------------------------------------------------------------------- clients
async function clientsRole() {
  let sockets = [];
  let target = Infinity;
  let reached = 0;
  let counts = [];
  let onDone = null;

  // Counted on the bytes (no decoding), to keep the client process from being the bottleneck.
  function count(index, data) {
    let found = 0;
    for (
      let at = data.indexOf(TARGET_BYTES);
      at >= 0;
      at = data.indexOf(TARGET_BYTES, at + TARGET_BYTES.length)
    )
      found++;
    if (found === 0) return;
    const before = counts[index];
    counts[index] = before + found;
    if (before < target && counts[index] >= target) {
      reached++;
      if (reached === sockets.length && onDone) onDone();
    }
  }

  function open(url, headers, signalr, index) {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      let handshaken = !signalr;
      ws.once('error', fail);
      ws.on('message', (data) => {
        if (!handshaken) {
          handshaken = true;
          ok(ws);
          return;
        }
        count(index, data);
      });
      ws.once('open', () => {
        if (signalr) ws.send(`{"protocol":"json","version":1}${RS}`);
        else ok(ws);
      });
    });
  }

  process.on('message', async (msg) => {
    try {
      if (msg.type === 'connect') {
        const headers = msg.token ? { authorization: `Bearer ${msg.token}` } : {};
        const opened = [];
        for (let i = 0; i < msg.count; i += 50) {
          const batch = [];
          for (let j = i; j < Math.min(msg.count, i + 50); j++)
            batch.push(open(msg.url, headers, msg.signalr, j));
          opened.push(...(await Promise.all(batch)));
        }
        sockets = opened;
        counts = sockets.map(() => 0);
        process.send({ type: 'connected', count: sockets.length });
      } else if (msg.type === 'expect') {
        counts = sockets.map(() => 0);
        reached = 0;
        target = msg.perClient;
        onDone = () => {
          onDone = null;
          process.send({ type: 'done', at: nowMs(), total: counts.reduce((a, b) => a + b, 0) });
        };
        process.send({ type: 'expecting' });
      } else if (msg.type === 'close') {
        await Promise.all(
          sockets.map(
            (ws) =>
              new Promise((ok) => (ws.readyState === ws.CLOSED ? ok() : (ws.once('close', ok), ws.close()))),
          ),
        );
        sockets = [];
        process.send({ type: 'closed' });
      }
    } catch (error) {
      process.send({ type: 'error', message: String(error?.stack ?? error) });
    }
  });
  process.send({ type: 'ready' });
}

// ----------------------------------------------------------------------------------------------- fanout
async function fanoutRole() {
  const { pino } = await import('pino');
  const { createAuthenticate } = await import('../packages/server/src/api/auth.ts');
  const { loadConfig } = await import('../packages/server/src/config/load.ts');
  const { createGateway } = await import('../packages/server/src/gateway/gateway.ts');
  const { openStore } = await import('../packages/server/src/store/open.ts');

  const dir = mkdtempSync(join(tmpdir(), 'hookster-bench-ws-'));
  const adminToken = randomBytes(24).toString('hex');
  const config = loadConfig({
    env: {
      HOOKSTER_DATABASE_URL: `sqlite:${join(dir, 'hookster.db')}`,
      HOOKSTER_DATA_DIR: dir,
      HOOKSTER_ADMIN_TOKEN: adminToken,
    },
  });
  const store = await openStore(config.databaseUrl);
  await store.migrate();
  const stamp = new Date().toISOString();
  const tenantId = randomUUID();
  const hubId = randomUUID();
  const integrationId = randomUUID();
  const conversationId = randomUUID();
  await store.createTenant({
    tenantId,
    name: 'bench',
    accountHolderEmail: 'b@example.com',
    statusId: 1000,
    created: stamp,
    modified: stamp,
  });
  await store.createHub({
    hubId,
    tenantId,
    name: 'bench',
    description: '',
    statusId: 2000,
    created: stamp,
    modified: stamp,
  });
  await store.createIntegration({
    integrationId,
    hubId,
    tenantId,
    integrationTypeId: 'Agent',
    channelId: 'Direct',
    name: 'bench-agent',
    statusId: 3000,
    configuration: { integrationType: 'Agent' },
    created: stamp,
    modified: stamp,
  });
  const logger = pino({ level: 'warn' });
  const authenticate = createAuthenticate(store, adminToken);
  // The bench paces nothing: a large buffer limit keeps every client connected while it catches up.
  const gateway = createGateway({
    config,
    store,
    logger,
    authenticate,
    options: { maxBufferedBytes: 256 * 1024 * 1024 },
  });
  const server = createServer((_req, res) => res.writeHead(404).end());
  gateway.attach(server);
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const raw = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((ok) => raw.once('listening', ok));

  const activityText = textOfSize(800);
  function resultOf(seq) {
    const activity = {
      type: 'message',
      eventTrigger: 'message:customer',
      eventId: 1_700_000_000_000 + seq,
      isEcho: false,
      interactionId: randomUUID(),
      flowProcess: 'Default',
      sender: {
        integrationId: randomUUID(),
        integrationType: 'Customer',
        channelType: 'Direct',
        tokenId: 'q3VbT0pXmUe1rQ8yZk2h4A==',
      },
      recipient: {
        integrationId,
        integrationType: 'Agent',
        channelType: 'Direct',
        tokenId: `${conversationId}.${integrationId}`,
      },
      message: { type: 'text', text: `${seq} ${activityText}` },
    };
    return {
      plan: {
        activity,
        activityJson: JSON.stringify(activity),
        deliveries: [{ integrationId, echo: false, transport: 'websocket' }],
      },
      conversation: { conversationId },
      deliveryIds: [`bench-${seq}`],
    };
  }

  process.on('message', async (msg) => {
    if (msg.type === 'publish') {
      // Prepared beforehand so the timing covers the push only (as after a commit in the engine).
      const results = Array.from({ length: msg.n }, (_, i) => resultOf(i));
      const frames =
        msg.mode === 'raw'
          ? results.map((r) =>
              Buffer.from(`{"type":1,"target":"${TARGET}","arguments":[${r.plan.activityJson}]}${RS}`),
            )
          : null;
      const cpu0 = process.cpuUsage();
      const startedAt = nowMs();
      for (let i = 0; i < msg.n; i++) {
        if (msg.mode === 'raw') {
          // The baseline: build the frame once, send it to every client.
          for (const ws of raw.clients) ws.send(frames[i], { binary: false });
        } else {
          gateway.publish(results[i]);
        }
        // Yield now and then so the sockets are written while publishing goes on.
        if (i % 50 === 49) await new Promise((ok) => setImmediate(ok));
      }
      const publishedAt = nowMs();
      const cpu = process.cpuUsage(cpu0);
      process.send({ type: 'published', startedAt, publishedAt, cpuMs: (cpu.user + cpu.system) / 1000 });
    } else if (msg.type === 'cpu') {
      const cpu = process.cpuUsage();
      process.send({ type: 'cpu', ms: (cpu.user + cpu.system) / 1000 });
    } else if (msg.type === 'memory') {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const m = process.memoryUsage();
      process.send({
        type: 'memory',
        heapUsed: m.heapUsed,
        rss: m.rss,
        external: m.external,
        connections: gateway.connectionCount(),
      });
    } else if (msg.type === 'stop') {
      await gateway.close();
      raw.close();
      server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.send({ type: 'stopped' });
    }
  });
  const { port } = server.address();
  process.send({
    type: 'ready',
    gatewayUrl: `ws://127.0.0.1:${port}/engine-chat-hub?iId=${integrationId}`,
    rawUrl: `ws://127.0.0.1:${raw.address().port}/`,
    token: adminToken,
  });
}

// ------------------------------------------------------------------------------------------------- main
async function main() {
  const lib = await import('./lib/proc.mjs');
  const { envInt, log, runBench } = await import('./lib/harness.mjs');
  const { api, startEngine } = await import('./lib/engine.mjs');
  const { ask, cpuSeconds, forkChild, nextMessage, rssMb, stopProcess } = lib;
  // The sources by default: a stale build would measure an older gateway (ENGINE_FROM=dist to override).
  if (!process.env.ENGINE_FROM) process.env.ENGINE_FROM = 'src';

  const cfg = {
    clients: envInt('CLIENTS', 100),
    fanoutN: envInt('FANOUT_N', 3000),
    e2eN: envInt('E2E_N', 1500),
    e2eConcurrency: envInt('E2E_CONCURRENCY', 16),
    idle: envInt('IDLE', 1000),
    rounds: envInt('ROUNDS', 3),
  };

  await runBench('bench:websocket', envInt('DEADLINE_MS', 600_000), async (cleanup) => {
    log(
      `clients=${cfg.clients} fan-out N=${cfg.fanoutN} end-to-end N=${cfg.e2eN} idle=${cfg.idle} rounds=${cfg.rounds}`,
    );
    const tsx = ['--import', 'tsx'];
    const clients = forkChild(SELF, { execArgv: tsx, env: { BENCH_WS_ROLE: 'clients' } });
    cleanup(() => stopProcess(clients));
    await nextMessage(clients, 'ready', 20_000);

    const fanout = forkChild(SELF, { execArgv: [...tsx, '--expose-gc'], env: { BENCH_WS_ROLE: 'fanout' } });
    cleanup(() => stopProcess(fanout));
    const ready = await nextMessage(fanout, 'ready', 30_000);

    async function measureFanout(mode, url, token, n) {
      await ask(
        clients,
        { type: 'connect', url, token, count: cfg.clients, signalr: mode !== 'raw' },
        'connected',
        60_000,
      );
      await ask(clients, { type: 'expect', perClient: 200 }, 'expecting');
      const warm = nextMessage(clients, 'done', 60_000);
      fanout.send({ type: 'publish', n: 200, mode });
      await warm;
      const rates = [];
      for (let round = 0; round < cfg.rounds; round++) {
        await ask(clients, { type: 'expect', perClient: n }, 'expecting');
        const done = nextMessage(clients, 'done', 120_000);
        const cpuBefore = await ask(fanout, { type: 'cpu' }, 'cpu');
        const published = await ask(fanout, { type: 'publish', n, mode }, 'published', 120_000);
        const finished = await done;
        const cpuAfter = await ask(fanout, { type: 'cpu' }, 'cpu');
        const seconds = (finished.at - published.startedAt) / 1000;
        const cpuUsPerFrame = ((cpuAfter.ms - cpuBefore.ms) * 1000) / finished.total;
        rates.push({ perSecond: n / seconds, frames: finished.total / seconds, cpuUsPerFrame });
      }
      await ask(clients, { type: 'close' }, 'closed', 30_000);
      rates.sort((a, b) => a.perSecond - b.perSecond);
      return rates[Math.floor(rates.length / 2)];
    }

    const gatewayRate = await measureFanout('gateway', ready.gatewayUrl, ready.token, cfg.fanoutN);
    const rawRate = await measureFanout('raw', ready.rawUrl, undefined, cfg.fanoutN);

    // Memory per idle connection, gateway alone.
    const before = await ask(fanout, { type: 'memory' }, 'memory');
    await ask(
      clients,
      { type: 'connect', url: ready.gatewayUrl, token: ready.token, count: cfg.idle, signalr: true },
      'connected',
      120_000,
    );
    const after = await ask(fanout, { type: 'memory' }, 'memory');
    await ask(clients, { type: 'close' }, 'closed', 60_000);
    await ask(fanout, { type: 'stop' }, 'stopped', 30_000);

    // End to end through a real engine process.
    const engine = await startEngine({ role: 'all', env: { BENCH_WS_ROLE: '' } });
    cleanup(() => engine.stop());
    const admin = engine.adminToken;
    const tenant = await api(engine.url, 'POST', '/api/v1/tenants', {
      token: admin,
      body: { name: 'bench-ws', accountHolderEmail: 'b@example.com' },
    });
    const creds = await api(engine.url, 'POST', `/api/v1/tenants/${tenant.tenantId}/clients`, {
      token: admin,
      body: {},
    });
    const issued = await api(engine.url, 'POST', '/connect/token', {
      form: {
        grant_type: 'client_credentials',
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
      },
    });
    const token = issued.access_token;
    const hub = await api(engine.url, 'POST', '/api/v1/hubs', {
      token,
      body: { name: 'bench-ws', description: 'bench' },
    });
    const agent = await api(engine.url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
      token,
      body: { channelId: 'Direct', name: 'agent', configuration: { integrationType: 'Agent' } },
    });
    const customer = await api(engine.url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
      token,
      body: { channelId: 'Direct', name: 'customer', configuration: { integrationType: 'Customer' } },
    });
    const conversations = [];
    for (let i = 0; i < cfg.e2eConcurrency; i++) {
      const c = await api(engine.url, 'POST', '/api/v1/conversations/establish', {
        token,
        body: { integrationId: customer.integrationId, binding: `bench-${i}`, channelType: 'Direct' },
      });
      conversations.push(c.conversationId);
    }
    const engineUrl = `${engine.url.replace(/^http/, 'ws')}/engine-chat-hub?iId=${agent.integrationId}`;
    const engineIdleBefore = rssMb(engine.pid);
    await ask(
      clients,
      { type: 'connect', url: engineUrl, token, count: cfg.clients, signalr: true },
      'connected',
      60_000,
    );

    const body = JSON.stringify({ type: 'message', message: { type: 'text', text: textOfSize(800) } });
    async function submitAll(n) {
      let next = 0;
      const worker = async (w) => {
        while (next < n) {
          next++;
          const res = await request(`${engine.url}/inbound/customer/v1/direct/activity/${conversations[w]}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`submit answered ${res.statusCode}`);
        }
      };
      await Promise.all(conversations.map((_, w) => worker(w)));
    }
    await ask(clients, { type: 'expect', perClient: 200 }, 'expecting');
    const warm = nextMessage(clients, 'done', 60_000);
    await submitAll(200);
    await warm;
    const e2eRates = [];
    for (let round = 0; round < cfg.rounds; round++) {
      await ask(clients, { type: 'expect', perClient: cfg.e2eN }, 'expecting');
      const done = nextMessage(clients, 'done', 180_000);
      const startedAt = performance.timeOrigin + performance.now();
      const cpuBefore = cpuSeconds(engine.pid);
      await submitAll(cfg.e2eN);
      const finished = await done;
      const seconds = (finished.at - startedAt) / 1000;
      const cpuUsPerFrame = ((cpuSeconds(engine.pid) - cpuBefore) * 1e6) / finished.total;
      e2eRates.push({ perSecond: cfg.e2eN / seconds, frames: finished.total / seconds, cpuUsPerFrame });
    }
    e2eRates.sort((a, b) => a.perSecond - b.perSecond);
    const e2eRate = e2eRates[Math.floor(e2eRates.length / 2)];
    await ask(clients, { type: 'close' }, 'closed', 30_000);

    // Idle connections on the real engine process.
    const engineBefore = rssMb(engine.pid);
    await ask(
      clients,
      { type: 'connect', url: engineUrl, token, count: cfg.idle, signalr: true },
      'connected',
      120_000,
    );
    const engineAfter = rssMb(engine.pid);
    await ask(clients, { type: 'close' }, 'closed', 60_000);

    const fmt = (x) => Math.round(x).toLocaleString('en-US');
    console.log('');
    const us = (x) => x.toFixed(1);
    console.log(
      `| measure (${cfg.clients} clients, ~1 KiB activities, median of ${cfg.rounds}) | activities/s | frames/s | server CPU µs/frame |`,
    );
    console.log('|---|---:|---:|---:|');
    for (const [name, r] of [
      ['gateway fan-out (publish → all clients received)', gatewayRate],
      ['baseline: bare ws broadcast of the same frames', rawRate],
      ['end to end: HTTP submit → commit → push (hookster serve, SQLite)', e2eRate],
    ]) {
      console.log(`| ${name} | ${fmt(r.perSecond)} | ${fmt(r.frames)} | ${us(r.cpuUsPerFrame)} |`);
    }
    console.log('');
    console.log(`gateway / bare ws: ${(gatewayRate.perSecond / rawRate.perSecond).toFixed(2)}`);
    const heapPer = (after.heapUsed - before.heapUsed) / cfg.idle;
    const rssPer = (after.rss - before.rss) / cfg.idle;
    console.log(
      `idle connection, gateway process: heap ${(heapPer / 1024).toFixed(1)} KiB, RSS ${(rssPer / 1024).toFixed(1)} KiB ` +
        `(${after.connections} connections)`,
    );
    console.log(
      `idle connection, engine process: RSS ${(((engineAfter - engineBefore) * 1024) / cfg.idle).toFixed(1)} KiB ` +
        `(engine RSS ${engineIdleBefore?.toFixed(0)} MB at start)`,
    );
    return 0;
  });
}

if (ROLE === 'clients') await clientsRole();
else if (ROLE === 'fanout') await fanoutRole();
else await main();
