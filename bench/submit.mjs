#!/usr/bin/env node
// `npm run bench:submit`: activities submitted and durably committed per second over HTTP, 64 in flight,
// ~1 KiB bodies — Hookster on SQLite with 1 and with 10 System integrations in the hub, and, in the same
// run with the same load generator, the submit endpoint of the BullMQ + Redis baseline (Redis AOF on,
// appendfsync everysec). Main rows: the submit side alone (Hookster --role api, i.e. no dispatcher; the
// baseline without its worker). Extra rows (DELIVERING=0 drops them): the same submit load while each
// system also delivers to a local receiver (Hookster --role all, the baseline with its worker) — how the
// baseline's README measured its 7,100/s. Prints a table, the ratios and each process's peak RSS (VmHWM).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  baselineVersions,
  ensureBaseline,
  redisInteger,
  startBaselineSubmit,
  startBaselineWorker,
  startRedis,
} from './lib/baseline.mjs';
import { deliveryCount, provision, startEngine } from './lib/engine.mjs';
import { envInt, envStr, log, runBench, startLoadgen, startReceiver, submitPhase } from './lib/harness.mjs';
import { CEILING_INTEGRATION } from './lib/payload.mjs';
import { ask, peakRssMb } from './lib/proc.mjs';
import { fixed, int, ratio, round, table } from './lib/stats.mjs';

const cfg = {
  n: envInt('N', 30_000),
  warmup: envInt('WARMUP', 3000),
  concurrency: envInt('CONCURRENCY', 64),
  bodyBytes: envInt('BODY_BYTES', 1024),
  conversations: envInt('CONVERSATIONS', 256),
  systems: envStr('SYSTEMS', '1,10')
    .split(',')
    .map(Number)
    .filter((s) => s > 0),
  delivering: envStr('DELIVERING', '1') !== '0',
  rounds: envInt('ROUNDS', 3),
  engineConcurrency: envInt('ENGINE_CONCURRENCY', 64),
  cpuProfDir: envStr('CPU_PROF_DIR', ''),
  deadlineMs: envInt('DEADLINE_MS', 400_000),
  // STORED=0 skips counting what was stored after the rounds (e.g. so a CPU profile shows submits only).
  countStored: envStr('STORED', '1') !== '0',
};
const TARGET = 10_000;

await runBench('bench:submit', cfg.deadlineMs, async (cleanup) => {
  log(
    `N=${cfg.n} (after ${cfg.warmup} warm-up) concurrency=${cfg.concurrency} body≈${cfg.bodyBytes} B ` +
      `conversations=${cfg.conversations} load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  ensureBaseline(log);
  const loadgen = await startLoadgen(cleanup);
  const receiver = cfg.delivering ? await startReceiver(cleanup) : null;
  if (receiver) {
    const keys = { [CEILING_INTEGRATION.publicSigningKey]: CEILING_INTEGRATION.privateSigningKey };
    await ask(receiver.child, { type: 'keys', keys }, 'keys-ok');
  }
  const common = { n: cfg.n, concurrency: cfg.concurrency, bodyBytes: cfg.bodyBytes };
  const results = [];

  // Each scenario is started, warmed up, then measured in ROUNDS rounds; the submit-only scenarios stay up
  // together and their rounds alternate, so a change in the machine's load hits them alike. The row is the
  // median round (by activities/s). The delivering scenarios run one after the other (a round of one would
  // still be delivering its backlog during the other's).

  // The baseline: bare node:http → queue.add() → Redis; answers 202 once Redis accepted the job.
  async function baseline(delivering) {
    const redis = await startRedis();
    cleanup(() => redis.stop());
    const submit = await startBaselineSubmit();
    cleanup(() => submit.stop());
    const worker = delivering ? await startBaselineWorker(receiver.url, 64) : null;
    if (worker) cleanup(() => worker.stop());
    const pids = { submit: submit.pid, redis: redis.pid, loadgen: loadgen.pid };
    if (worker) pids.worker = worker.pid;
    return {
      name: `BullMQ baseline, Redis AOF everysec${delivering ? ', worker delivering' : ''}`,
      kind: 'baseline',
      delivering,
      systems: 1,
      run: { ...common, target: 'baseline', url: submit.url },
      pids,
      stored: async () => (delivering ? null : await redisInteger('LLEN', 'bull:webhooks:wait')),
      rss: () => ({
        submit: peakRssMb(submit.pid),
        redis: peakRssMb(redis.pid),
        ...(worker ? { worker: peakRssMb(worker.pid) } : {}),
      }),
      stop: async () => {
        await worker?.stop();
        await submit.stop();
        await redis.stop();
      },
    };
  }

  // Hookster: its own engine and SQLite file per scenario, so each peak RSS is its own.
  async function engineScenario(systems, delivering) {
    const engine = await startEngine({
      role: delivering ? 'all' : 'api',
      cpuProfDir: cfg.cpuProfDir || null,
      env: {
        HOOKSTER_CONCURRENCY: String(cfg.engineConcurrency),
        HOOKSTER_PER_INTEGRATION_CONCURRENCY: String(cfg.engineConcurrency),
      },
    });
    cleanup(() => engine.stop());
    const prov = await provision(engine, {
      systems,
      conversations: cfg.conversations,
      webhookUrl: delivering ? receiver.url : 'http://127.0.0.1:9/not-delivered',
      log,
    });
    if (receiver) await ask(receiver.child, { type: 'keys', keys: prov.keys }, 'keys-ok');
    return {
      name: `Hookster SQLite, ${systems} System integration${systems > 1 ? 's' : ''}${delivering ? ', delivering' : ''}`,
      kind: 'engine',
      delivering,
      systems,
      run: {
        ...common,
        target: 'engine',
        url: engine.url,
        token: prov.token,
        conversationIds: prov.conversationIds,
      },
      pids: { engine: engine.pid, loadgen: loadgen.pid },
      stored: async () => {
        if (delivering || !cfg.countStored) return null;
        let stored = 0;
        for (const id of prov.systemIds) {
          const c = await deliveryCount(engine, prov.token, id, 'pending');
          stored = stored === null || c === null ? null : stored + c;
        }
        return stored;
      },
      rss: () => ({ engine: peakRssMb(engine.pid) }),
      stop: () => engine.stop(),
    };
  }

  async function measure(scenarios, rounds) {
    for (const sc of scenarios) {
      await submitPhase(loadgen, { ...sc.run, n: cfg.warmup, phase: 'warm' }, { pids: sc.pids });
      sc.rounds = [];
    }
    for (let round = 1; round <= rounds; round += 1) {
      for (const sc of scenarios) {
        const r = await submitPhase(loadgen, { ...sc.run, phase: `submit${round}` }, { pids: sc.pids });
        if (r.loadgen.errors > 0) log(`${sc.name} errors: ${r.loadgen.errorSample.join(' | ')}`);
        log(`${sc.name}, round ${round}/${rounds}: ${int(r.loadgen.requestsPerSec)}/s`);
        sc.rounds.push(r);
      }
    }
    for (const sc of scenarios) {
      const byRate = [...sc.rounds].sort((a, b) => a.loadgen.requestsPerSec - b.loadgen.requestsPerSec);
      const median = byRate[Math.floor((byRate.length - 1) / 2)];
      results.push({
        name: sc.name,
        kind: sc.kind,
        delivering: sc.delivering,
        perSec: median.loadgen.requestsPerSec,
        rounds: sc.rounds.map((r) => r.loadgen.requestsPerSec),
        rtt: median.loadgen.rttMs,
        errors: sc.rounds.reduce((sum, r) => sum + r.loadgen.errors, 0),
        stored: await sc.stored(),
        expectedStored: sc.systems * (rounds * cfg.n + cfg.warmup),
        rss: sc.rss(),
        cpu: median.cpu,
        cpuMsPerActivity: median.cpuMsPerActivity,
      });
      await sc.stop();
    }
  }

  const submitOnly = [await baseline(false)];
  for (const systems of cfg.systems) submitOnly.push(await engineScenario(systems, false));
  await measure(submitOnly, cfg.rounds);
  if (cfg.delivering) {
    await measure([await baseline(true)], 1);
    await measure([await engineScenario(1, true)], 1);
  }

  log(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('');
  console.log(
    `Submit throughput, ${cfg.n} activities after ${cfg.warmup} warm-up, ${cfg.concurrency} in flight, ~${cfg.bodyBytes} B bodies; ` +
      `submit-only rows: median of ${cfg.rounds} alternating rounds`,
  );
  console.log(
    `(${os.cpus().length} cores, ${os.cpus()[0]?.model}; Node ${process.versions.node}; baseline ${JSON.stringify(baselineVersions())})`,
  );
  console.log('');
  const fmtMap = (m) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? Math.round(v) : v}`)
      .join(', ');
  console.log(
    table(
      [
        'system',
        'activities/s',
        'p50 / p99 ms',
        'errors',
        'stored after (expected)',
        'CPU ms / activity',
        'peak RSS MB',
        'CPU % of a core',
      ],
      results.map((r) => [
        r.name,
        int(r.perSec),
        `${fixed(r.rtt.p50, 2)} / ${fixed(r.rtt.p99, 2)}`,
        String(r.errors),
        r.stored === null ? '—' : `${int(r.stored)} (${int(r.expectedStored)})`,
        fixed(r.cpuMsPerActivity, 3),
        fmtMap(r.rss),
        fmtMap(r.cpu),
      ]),
    ),
  );
  console.log('');
  for (const r of results)
    console.log(`activities/s by round, ${r.name}: ${r.rounds.map((v) => int(v)).join(' / ')}`);
  for (const delivering of [false, true]) {
    const base = results.find((r) => r.kind === 'baseline' && r.delivering === delivering);
    for (const r of results.filter((x) => x.kind === 'engine' && x.delivering === delivering)) {
      console.log(
        `${r.name}: ${ratio(r.perSec, base?.perSec)} × baseline; target ≥ ${int(TARGET)}/s: ${r.perSec >= TARGET ? 'met' : 'NOT met'}`,
      );
    }
  }
  if (process.env.RESULT_FILE) {
    const at = new Date().toISOString();
    const rows = results.map((r) => ({ ...r, perSec: round(r.perSec, 0) }));
    writeFileSync(process.env.RESULT_FILE, JSON.stringify({ cfg, at, results: rows }, null, 2) + '\n');
  }
  const ok = results.every((r) => r.errors === 0 && (r.stored === null || r.stored === r.expectedStored));
  if (!ok) log('FAILED: submission errors, or the store does not hold every committed delivery');
  return ok ? 0 : 1;
});
