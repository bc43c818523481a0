#!/usr/bin/env node
// `node bench/pg-scale.mjs`: delivery throughput when adding worker processes on PostgreSQL, next to
// one SQLite process, in the same run. For each setup: the API process takes a backlog of N activities
// across C conversations for one Direct agent with a webhook (one activity per POST) while the hub is
// paused (deliveries held), then the hub is resumed and the time until the receiver holds all N is
// measured: the dispatchers' drain rate, not the intake.
//   PostgreSQL: 1 API process + 1, 2, 4 worker processes (fresh schema each), deliveries/s and the
//   ratio to one worker. SQLite: one process (role all).
// Env: N (10000), CONVERSATIONS (200), WORKERS ("1,2,4"), PG_URL (postgres://postgres@127.0.0.1:5432/test),
// SKIP_SQLITE=1 to measure PostgreSQL only, REPEAT (2): runs per setup, the best one is reported (the
// machine is shared; the best run is the one least disturbed).
// Exits non-zero on a loss or a timeout.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { api, startEngine } from './lib/engine.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The sources by default (a dist left from an older build would measure old code); ENGINE_FROM=dist to
// measure the build.
if (process.env.ENGINE_FROM === 'dist') delete process.env.ENGINE_FROM;
else process.env.ENGINE_FROM = 'src';
const N = Number(process.env.N ?? 10_000);
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 200);
const WORKERS = (process.env.WORKERS ?? '1,2,4').split(',').map(Number);
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SKIP_SQLITE = process.env.SKIP_SQLITE === '1';
const DRAIN_TIMEOUT_MS = Number(process.env.DRAIN_TIMEOUT_MS ?? 300_000);
const REPEAT = Number(process.env.REPEAT ?? 2);
// Default concurrency (256 per worker, 32 per integration per worker): with one receiving integration,
// each worker adds 32 lanes in flight, which is how adding workers adds capacity.
const ENGINE_ENV = { HOOKSTER_DELIVERY_TIMEOUT: '5s' };

const log = (line) => process.stdout.write(line + '\n');

function startReceiver() {
  const seen = new Set();
  let posts = 0;
  let waiter;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      posts += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      seen.add(body.activity?.message?.text);
      res.writeHead(200).end();
      if (waiter && seen.size >= waiter.count) waiter.resolve();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        reset() {
          seen.clear();
          posts = 0;
        },
        stats: () => ({ distinct: seen.size, posts }),
        waitFor(count, timeoutMs) {
          if (seen.size >= count) return Promise.resolve();
          return new Promise((ok, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`only ${seen.size} of ${count} arrived`)),
              timeoutMs,
            );
            waiter = { count, resolve: () => (clearTimeout(timer), ok()) };
          });
        },
        close: () => new Promise((ok) => server.close(ok)),
      }),
    ),
  );
}

/** Tenant, a PAUSED hub, a websocket customer, an agent with a webhook, and the conversations. */
async function provision(url, adminToken, webhookUrl) {
  const opts = { token: adminToken };
  const tenant = await api(url, 'POST', '/api/v1/tenants', {
    ...opts,
    body: { name: `bench-${randomBytes(3).toString('hex')}`, accountHolderEmail: 'bench@example.com' },
  });
  const hub = await api(url, 'POST', '/api/v1/hubs', {
    ...opts,
    body: { tenantId: tenant.tenantId, name: 'bench', description: 'pg-scale' },
  });
  const pause = (statusId) =>
    api(url, 'PUT', `/api/v1/hubs/${hub.hubId}`, {
      ...opts,
      body: { name: 'bench', description: 'pg-scale', statusId },
    });
  await pause(2002);
  await api(url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
    ...opts,
    body: { channelId: 'Direct', name: 'agent', configuration: { integrationType: 'Agent', webhookUrl } },
  });
  const customer = await api(url, 'POST', `/api/v1/integrations/hubs/${hub.hubId}`, {
    ...opts,
    body: { channelId: 'Direct', name: 'customer', configuration: { integrationType: 'Customer' } },
  });
  const conversations = [];
  for (let i = 0; i < CONVERSATIONS; i++) {
    const c = await api(url, 'POST', '/api/v1/conversations/establish', {
      ...opts,
      body: { integrationId: customer.integrationId, binding: `b${i}`, channelType: 'Direct' },
    });
    conversations.push(c.conversationId);
  }
  return {
    conversations,
    resume: () => pause(2000),
  };
}

async function submitBacklog(url, adminToken, conversations) {
  let next = 0;
  const perConversation = Math.ceil(N / conversations.length);
  async function lane() {
    for (;;) {
      const i = next++;
      if (i >= conversations.length) return;
      for (let n = 0; n < perConversation && i * perConversation + n < N; n++) {
        await api(url, 'POST', `/inbound/customer/v1/direct/activity/${conversations[i]}`, {
          token: adminToken,
          body: { type: 'message', message: { type: 'text', text: `${i}:${n}` } },
        });
      }
    }
  }
  const started = Date.now();
  await Promise.all(Array.from({ length: 64 }, lane));
  return Date.now() - started;
}

async function run(label, receiver, setup) {
  let best = 0;
  for (let i = 0; i < REPEAT; i++) best = Math.max(best, await runOnce(label, receiver, setup));
  return best;
}

async function runOnce(label, receiver, { databaseUrl, workers }) {
  receiver.reset();
  const adminToken = randomBytes(16).toString('hex');
  const env = { ...ENGINE_ENV, HOOKSTER_DATABASE_URL: databaseUrl, HOOKSTER_ADMIN_TOKEN: adminToken };
  const apiEngine = await startEngine({ env, role: workers === 0 ? 'all' : 'api' });
  const workerEngines = [];
  try {
    for (let i = 0; i < workers; i++) workerEngines.push(await startEngine({ env, role: 'worker' }));
    const setup = await provision(apiEngine.url, adminToken, `${receiver.url}/agent`);
    const submitMs = await submitBacklog(apiEngine.url, adminToken, setup.conversations);
    const started = Date.now();
    await setup.resume();
    await receiver.waitFor(N, DRAIN_TIMEOUT_MS);
    const drainMs = Date.now() - started;
    const { posts } = receiver.stats();
    const rate = (N * 1000) / drainMs;
    log(
      `${label.padEnd(24)} submit ${Math.round((N * 1000) / submitMs)}/s | drain ${N} in ${drainMs} ms = ` +
        `${Math.round(rate)} deliveries/s (${posts - N} re-sent)`,
    );
    return rate;
  } finally {
    await Promise.all([apiEngine, ...workerEngines].map((e) => e.stop()));
  }
}

async function main() {
  log(
    `pg-scale: N=${N} activities, ${CONVERSATIONS} conversations, one Direct agent (1 activity per POST), ` +
      `best of ${REPEAT}`,
  );
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  const receiver = await startReceiver();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const schemas = [];
  const results = {};
  try {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(join(os.tmpdir(), 'hookster-pgscale-'));
    try {
      if (!SKIP_SQLITE) {
        results.sqlite = await run('SQLite, 1 process (all)', receiver, {
          databaseUrl: `sqlite:${join(dir, 'hookster.db')}`,
          workers: 0,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const workers of WORKERS) {
      const schema = `hk_bench_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      const url = new URL(PG_URL);
      url.searchParams.set('schema', schema);
      results[workers] = await run(`PostgreSQL, ${workers} worker(s)`, receiver, {
        databaseUrl: url.toString(),
        workers,
      });
    }
  } finally {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await receiver.close();
  }
  const one = results[WORKERS[0]];
  log('');
  log('| setup | deliveries/s | ratio to 1 worker |');
  log('|---|---|---|');
  if (results.sqlite !== undefined) log(`| SQLite, 1 process | ${Math.round(results.sqlite)} | — |`);
  for (const w of WORKERS)
    log(`| PostgreSQL, ${w} worker(s) | ${Math.round(results[w])} | ${(results[w] / one).toFixed(2)} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
