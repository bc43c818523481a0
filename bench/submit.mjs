#!/usr/bin/env node
// `npm run bench:submit`: activities submitted and durably committed per second over HTTP, 64 in flight,
// ~1 KiB bodies — Hookster on SQLite with 1 and with 10 System integrations in the hub, and, in the same
// run with the same load generator, the submit endpoint of the BullMQ + Redis baseline (AOF, fsync
// everysec). Only the submit side runs: Hookster with --role api (no dispatcher), the baseline without
// its worker. Prints a table, the ratios and each engine's peak RSS (VmHWM).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  baselineVersions,
  ensureBaseline,
  redisInteger,
  startBaselineSubmit,
  startRedis,
} from './lib/baseline.mjs';
import { deliveryCount, provision, startEngine } from './lib/engine.mjs';
import { envInt, envStr, log, runBench, startLoadgen, submitPhase } from './lib/harness.mjs';
import { peakRssMb } from './lib/proc.mjs';
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
  role: envStr('ENGINE_ROLE', 'api'),
  cpuProfDir: envStr('CPU_PROF_DIR', ''),
  deadlineMs: envInt('DEADLINE_MS', 300_000),
};
const TARGET = 10_000;

function row(name, r) {
  return [
    name,
    int(r.perSec),
    fixed(r.rtt.p50, 2),
    fixed(r.rtt.p99, 2),
    String(r.errors),
    r.committed === null ? '—' : int(r.committed),
    fixed(r.peakRssMb, 0),
    Object.entries(r.cpu)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ];
}

await runBench('bench:submit', cfg.deadlineMs, async (cleanup) => {
  log(
    `N=${cfg.n} (after ${cfg.warmup} warm-up) concurrency=${cfg.concurrency} body≈${cfg.bodyBytes} B conversations=${cfg.conversations}`,
  );
  ensureBaseline(log);
  const loadgen = await startLoadgen(cleanup);
  const common = { n: cfg.n, concurrency: cfg.concurrency, bodyBytes: cfg.bodyBytes };
  const results = [];

  // Baseline: bare node:http → queue.add() → Redis (AOF everysec); answers 202 once Redis accepted the job.
  {
    const redis = await startRedis();
    cleanup(() => redis.stop());
    const submit = await startBaselineSubmit();
    cleanup(() => submit.stop());
    const pids = { submit: submit.pid, redis: redis.pid, loadgen: loadgen.pid };
    await submitPhase(
      loadgen,
      { ...common, n: cfg.warmup, phase: 'bswarm', target: 'baseline', url: submit.url },
      { pids },
    );
    const { loadgen: lg, cpu } = await submitPhase(
      loadgen,
      { ...common, phase: 'bsubmit', target: 'baseline', url: submit.url },
      { pids },
    );
    const waiting = await redisInteger('LLEN', 'bull:webhooks:wait');
    results.push({
      name: 'BullMQ baseline (Redis AOF everysec)',
      perSec: lg.requestsPerSec,
      rtt: lg.rttMs,
      errors: lg.errors,
      committed: waiting,
      peakRssMb: peakRssMb(submit.pid),
      peakRssRedisMb: peakRssMb(redis.pid),
      cpu,
    });
    if (lg.errors > 0) log(`baseline errors: ${lg.errorSample.join(' | ')}`);
    log(`baseline: ${int(lg.requestsPerSec)}/s accepted, ${waiting} jobs waiting in Redis`);
    await submit.stop();
    await redis.stop();
  }

  // Hookster: a fresh engine and SQLite file per hub shape, so each peak RSS is its own.
  for (const systems of cfg.systems) {
    const engine = await startEngine({ role: cfg.role, cpuProfDir: cfg.cpuProfDir || null });
    cleanup(() => engine.stop());
    const prov = await provision(engine, {
      systems,
      conversations: cfg.conversations,
      webhookUrl: 'http://127.0.0.1:9/bench-submit',
      log,
    });
    const run = {
      ...common,
      target: 'engine',
      url: engine.url,
      token: prov.token,
      conversationIds: prov.conversationIds,
    };
    const pids = { engine: engine.pid, loadgen: loadgen.pid };
    await submitPhase(loadgen, { ...run, n: cfg.warmup, phase: `ewarm${systems}` }, { pids });
    const { loadgen: lg, cpu } = await submitPhase(loadgen, { ...run, phase: `esubmit${systems}` }, { pids });
    if (lg.errors > 0) log(`engine errors: ${lg.errorSample.join(' | ')}`);
    let committed = 0;
    for (const id of prov.systemIds) {
      const c = await deliveryCount(engine, prov.token, id, 'pending');
      committed = committed === null || c === null ? null : committed + c;
    }
    results.push({
      name: `Hookster SQLite, ${systems} System integration${systems > 1 ? 's' : ''}`,
      systems,
      perSec: lg.requestsPerSec,
      rtt: lg.rttMs,
      errors: lg.errors,
      committed,
      peakRssMb: peakRssMb(engine.pid),
      cpu,
    });
    log(
      `engine (${systems} System): ${int(lg.requestsPerSec)}/s committed, ${committed ?? '?'} deliveries pending in the store`,
    );
    await engine.stop();
  }

  const base = results[0];
  console.log('');
  console.log(
    `Submit throughput, ${cfg.n} activities after ${cfg.warmup} warm-up, ${cfg.concurrency} in flight, ~${cfg.bodyBytes} B bodies`,
  );
  console.log(
    `(${os.cpus().length} cores, ${os.cpus()[0]?.model}; Node ${process.versions.node}; baseline ${JSON.stringify(baselineVersions())})`,
  );
  console.log('');
  console.log(
    table(
      [
        'system',
        'activities/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'queued/pending after',
        'peak RSS MB',
        'CPU % of a core',
      ],
      results.map((r) => row(r.name, r)),
    ),
  );
  console.log('');
  console.log(`baseline Redis peak RSS: ${fixed(base.peakRssRedisMb, 0)} MB`);
  for (const r of results.slice(1)) {
    console.log(
      `${r.name}: ${ratio(r.perSec, base.perSec)} × baseline; target ≥ ${int(TARGET)}/s: ${r.perSec >= TARGET ? 'met' : 'NOT met'}`,
    );
  }
  if (process.env.RESULT_FILE) {
    writeFileSync(
      process.env.RESULT_FILE,
      JSON.stringify(
        {
          cfg,
          at: new Date().toISOString(),
          results: results.map((r) => ({ ...r, perSec: round(r.perSec, 0) })),
        },
        null,
        2,
      ) + '\n',
    );
  }
  const expectedCommitted = (systems) => systems * (cfg.n + cfg.warmup);
  const ok =
    results.every((r) => r.errors === 0) &&
    results.slice(1).every((r) => r.committed === null || r.committed === expectedCommitted(r.systems));
  if (!ok) log('FAILED: errors, or the store does not hold every committed delivery');
  return ok ? 0 : 1;
});
