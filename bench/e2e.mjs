#!/usr/bin/env node
// `npm run bench`: end to end (submit over HTTP → a local receiver that verifies x-hubster-signature) for
//   (a) the raw ceiling: the load generator signs and POSTs the delivery bodies straight to the receiver;
//   (b) the BullMQ + Redis baseline (AOF, fsync everysec): its submit endpoint + one worker (concurrency 64);
//   (c) Hookster on SQLite (one process, role all): one System integration subscribed to `message`,
//       activities spread round-robin over CONVERSATIONS conversations (order is kept per conversation),
//       answering a submission after an fdatasync of the WAL (HOOKSTER_SYNC=commit, the default);
//   (d) the same with HOOKSTER_SYNC=1s: answered after COMMIT, synced within 1 s — the durability of the
//       baseline's Redis (appendfsync everysec), for a like-for-like comparison.
// Same load generator, activity count, body size and concurrency for all of them: a burst (closed loop) and a
// paced open-loop phase. Then a backlog: BACKLOG activities submitted while the receiver is down, drained
// once it is back, with the engine's RSS sampled every second. Deliveries are counted as activities
// received (a System POST may carry several; how many did is reported). Exits non-zero on any loss, bad
// signature, failed submission or timeout.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  baselineVersions,
  ensureBaseline,
  startBaselineSubmit,
  startBaselineWorker,
  startRedis,
} from './lib/baseline.mjs';
import { provision, startEngine } from './lib/engine.mjs';
import { deliveryPhase, envInt, envStr, log, runBench, startLoadgen, startReceiver } from './lib/harness.mjs';
import { CEILING_INTEGRATION } from './lib/payload.mjs';
import { ask } from './lib/proc.mjs';
import { fixed, int, ratio, table } from './lib/stats.mjs';
import { backlogPhase } from './lib/backlog.mjs';
import { peakRssMb } from './lib/proc.mjs';

const cfg = {
  n: envInt('N', 20_000),
  warmup: envInt('WARMUP', 2000),
  concurrency: envInt('CONCURRENCY', 64),
  bodyBytes: envInt('BODY_BYTES', 1024),
  conversations: envInt('CONVERSATIONS', 256),
  pacedRate: envInt('PACED_RATE', 1000),
  pacedN: envInt('PACED_N', 5000),
  pacedRounds: envInt('PACED_ROUNDS', 3),
  backlog: envInt('BACKLOG', 200_000),
  backlogBatchMax: envInt('BACKLOG_BATCH_MAX', 1),
  workerConcurrency: envInt('WORKER_CONCURRENCY', 64),
  engineConcurrency: envInt('ENGINE_CONCURRENCY', 64),
  phaseTimeoutMs: envInt('PHASE_TIMEOUT_MS', 120_000),
  backlogTimeoutMs: envInt('BACKLOG_TIMEOUT_MS', 300_000),
  rounds: envInt('ROUNDS', 5),
  only: envStr('ONLY', 'ceiling,baseline,engine,engineInterval,backlog').split(','),
  syncInterval: envStr('SYNC_INTERVAL', '1s'),
  cpuProfDir: envStr('CPU_PROF_DIR', ''),
  deadlineMs: envInt('DEADLINE_MS', 1_200_000),
  engineB: envStr('ENGINE_B_MAIN', ''),
  engineBNodeArgs: envStr('ENGINE_B_NODE_ARGS', ''),
};
// While the receiver is down the engine keeps retrying each conversation's head delivery; the schedule
// must outlast the backlog's submission so nothing is exhausted (1 s waits, 240 attempts).
const BACKLOG_RETRY_SCHEDULE = envStr('BACKLOG_RETRY_SCHEDULE', Array(240).fill('1s').join(','));

function verdict(p) {
  return p.timedOut ||
    p.receiver.missing > 0 ||
    p.receiver.duplicates > 0 ||
    p.receiver.badSignature > 0 ||
    p.loadgen.errors > 0
    ? 'FAIL'
    : 'ok';
}

/** The median phase by p99 latency (undefined for none). */
function medianByP99(rounds) {
  const sorted = [...rounds].sort((a, b) => a.receiver.latencyMs.p99 - b.receiver.latencyMs.p99);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

// Sums over every round, so nothing lost in a non-median round goes unreported.
function totals(bursts) {
  const t = { posts: 0, multiPosts: 0, duplicates: 0, missing: 0, badSignature: 0, maxPerPost: 0 };
  for (const b of bursts) {
    for (const k of ['posts', 'multiPosts', 'duplicates', 'missing', 'badSignature']) t[k] += b.receiver[k];
    t.maxPerPost = Math.max(t.maxPerPost, b.receiver.maxPerPost);
  }
  return t;
}

function summary(p) {
  const r = p.receiver;
  return (
    `${int(p.deliveriesPerSec)} deliveries/s, p50 ${fixed(r.latencyMs.p50, 2)} ms, p99 ${fixed(r.latencyMs.p99, 2)} ms, ` +
    `POSTs ${r.posts} (${r.multiPosts} with >1 activity), dup ${r.duplicates}, missing ${r.missing}, bad sig ${r.badSignature}, ` +
    `submit errors ${p.loadgen.errors}${p.timedOut ? ', TIMED OUT' : ''}, submitted in ${int(p.loadgen.finishedAt - p.loadgen.startedAt)} of ${int(p.windowMs)} ms ${JSON.stringify(p.cpu)}` +
    `, steal ${p.stealPercent ?? '?'} %`
  );
}

await runBench('bench', cfg.deadlineMs, async (cleanup) => {
  log(
    `N=${cfg.n} (after ${cfg.warmup} warm-up) concurrency=${cfg.concurrency} body≈${cfg.bodyBytes} B ` +
      `conversations=${cfg.conversations} paced=${cfg.pacedN}@${cfg.pacedRate}/s backlog=${cfg.backlog} ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  if (cfg.only.includes('baseline')) ensureBaseline(log);
  const receiver = await startReceiver(cleanup);
  const loadgen = await startLoadgen(cleanup);
  await ask(
    receiver.child,
    { type: 'keys', keys: { [CEILING_INTEGRATION.publicSigningKey]: CEILING_INTEGRATION.privateSigningKey } },
    'keys-ok',
  );
  const common = { concurrency: cfg.concurrency, bodyBytes: cfg.bodyBytes };
  const phaseOpts = (pids) => ({
    pids: { ...pids, receiver: receiver.pid, loadgen: loadgen.pid },
    timeoutMs: cfg.phaseTimeoutMs,
  });
  const out = {};
  const phases = [];

  // One engine process (role all) on a fresh SQLite file, provisioned with one System integration.
  async function engineUnder(extraEnv, main, nodeArgs = []) {
    const engine = await startEngine({
      main,
      nodeArgs,
      cpuProfDir: cfg.cpuProfDir || null,
      env: {
        HOOKSTER_CONCURRENCY: String(cfg.engineConcurrency),
        HOOKSTER_PER_INTEGRATION_CONCURRENCY: String(cfg.engineConcurrency),
        HOOKSTER_RETRY_SCHEDULE: BACKLOG_RETRY_SCHEDULE,
        ...extraEnv,
      },
    });
    cleanup(() => engine.stop());
    const prov = await provision(engine, {
      systems: 1,
      conversations: cfg.conversations,
      webhookUrl: receiver.url,
      log,
    });
    await ask(receiver.child, { type: 'keys', keys: prov.keys }, 'keys-ok');
    const run = {
      ...common,
      target: 'engine',
      url: engine.url,
      token: prov.token,
      conversationIds: prov.conversationIds,
    };
    return { engine, run };
  }

  // Every system under test stays up for the whole comparison and the bursts alternate between them,
  // round after round, so a change in the machine's load hits all of them alike; each figure is the
  // median round (by deliveries/s). The idle ones cost next to nothing meanwhile.
  const systems = [];
  if (cfg.only.includes('ceiling')) {
    systems.push({
      name: 'ceiling',
      run: { ...common, target: 'ceiling', url: receiver.url },
      pids: {},
      rss: () => ({ loadgen: peakRssMb(loadgen.pid), receiver: peakRssMb(receiver.pid) }),
    });
  }
  if (cfg.only.includes('baseline')) {
    const redis = await startRedis();
    cleanup(() => redis.stop());
    const submit = await startBaselineSubmit();
    cleanup(() => submit.stop());
    const worker = await startBaselineWorker(receiver.url, cfg.workerConcurrency);
    cleanup(() => worker.stop());
    systems.push({
      name: 'baseline',
      run: { ...common, target: 'baseline', url: submit.url },
      pids: { submit: submit.pid, worker: worker.pid, redis: redis.pid },
      rss: () => ({
        worker: peakRssMb(worker.pid),
        submit: peakRssMb(submit.pid),
        redis: peakRssMb(redis.pid),
      }),
      stop: async () => {
        await worker.stop();
        await submit.stop();
        await redis.stop();
      },
    });
  }
  async function engineSystem(name, main, nodeArgs, extraEnv = {}) {
    const { engine, run } = await engineUnder(extraEnv, main, nodeArgs);
    systems.push({
      name,
      run,
      pids: { engine: engine.pid },
      rss: () => ({ engine: peakRssMb(engine.pid) }),
      stop: () => engine.stop(),
    });
  }
  if (cfg.only.includes('engine')) await engineSystem('engine');
  if (cfg.only.includes('engineInterval')) {
    await engineSystem('engineInterval', undefined, [], { HOOKSTER_SYNC: cfg.syncInterval });
  }
  // ENGINE_B_MAIN=<another build's dist/cli/main.js>: a second engine joins the rotation, to compare two
  // versions of the engine round by round under the same conditions (an A/B, not a published figure);
  // ENGINE_B_NODE_ARGS (space-separated, e.g. "--max-semi-space-size=64") runs it under other node flags.
  if (cfg.engineB !== '' || cfg.engineBNodeArgs !== '') {
    const nodeArgs = cfg.engineBNodeArgs.split(' ').filter((a) => a !== '');
    await engineSystem('engineB', cfg.engineB || undefined, nodeArgs);
  }
  for (const sys of systems) {
    const warm = await deliveryPhase(
      receiver,
      loadgen,
      { ...sys.run, n: cfg.warmup, phase: `${sys.name}warm` },
      phaseOpts(sys.pids),
    );
    // A system that cannot deliver its warm-up would time out in every round: stop now, not after them.
    if (verdict(warm) !== 'ok') {
      log(`${sys.name} warm-up FAILED: ${summary(warm)}`);
      return 1;
    }
    sys.bursts = [];
  }
  for (let round = 1; round <= cfg.rounds; round += 1) {
    for (const sys of systems) {
      const burst = await deliveryPhase(
        receiver,
        loadgen,
        { ...sys.run, n: cfg.n, phase: `${sys.name}${round}` },
        { ...phaseOpts(sys.pids), graceMs: sys.name === 'ceiling' ? 300 : 1000 },
      );
      log(`${sys.name} burst ${round}/${cfg.rounds}: ${summary(burst)}`);
      sys.bursts.push(burst);
      phases.push(burst);
    }
  }
  // The paced phase alternates between the systems too, round after round: one phase of a few seconds
  // per system, run one after the other, put a passing spike of the machine's load into one system's p99
  // only. Each figure is the median round by p99; every round's p99 is printed.
  for (const sys of systems) sys.pacedRounds = [];
  for (let round = 1; round <= (cfg.pacedN > 0 ? cfg.pacedRounds : 0); round += 1) {
    for (const sys of systems) {
      if (sys.name === 'ceiling') continue;
      const paced = await deliveryPhase(
        receiver,
        loadgen,
        { ...sys.run, n: cfg.pacedN, phase: `${sys.name}paced${round}`, rate: cfg.pacedRate },
        phaseOpts(sys.pids),
      );
      log(`${sys.name} paced ${round}/${cfg.pacedRounds}: ${summary(paced)}`);
      sys.pacedRounds.push(paced);
      phases.push(paced);
    }
  }
  for (const sys of systems) {
    const byRate = [...sys.bursts].sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec);
    out[sys.name] = {
      burst: byRate[Math.floor((byRate.length - 1) / 2)],
      rounds: sys.bursts.map((b) => b.deliveriesPerSec),
      steals: sys.bursts.map((b) => b.stealPercent),
      totals: totals([...sys.bursts, ...sys.pacedRounds]),
      paced: medianByP99(sys.pacedRounds),
      pacedP99s: sys.pacedRounds.map((p) => p.receiver.latencyMs.p99),
      rss: sys.rss(),
    };
    await sys.stop?.();
  }

  // A fresh engine for the backlog, so its memory figures are its own. BACKLOG_BATCH_MAX=1 (the default)
  // turns System batching off: the backlog then drains as BACKLOG separate POSTs, the harder memory test.
  if (cfg.only.includes('backlog') && cfg.backlog > 0) {
    const { engine, run } = await engineUnder({ HOOKSTER_BATCH_MAX_ACTIVITIES: String(cfg.backlogBatchMax) });
    out.backlog = await backlogPhase({
      receiver,
      loadgen,
      engine,
      run: { ...run, n: cfg.backlog, phase: 'backlog' },
      timeoutMs: cfg.backlogTimeoutMs,
      log,
    });
    out.backlog.peakRssMb = peakRssMb(engine.pid);
    out.backlog.batchMax = cfg.backlogBatchMax;
    await engine.stop();
  }

  log(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  printReport(out);
  if (process.env.RESULT_FILE)
    writeFileSync(
      process.env.RESULT_FILE,
      JSON.stringify({ cfg, at: new Date().toISOString(), out }, null, 2) + '\n',
    );
  const ok = phases.every((p) => verdict(p) === 'ok') && (out.backlog === undefined || out.backlog.ok);
  if (!ok)
    log(
      'FAILED: a phase lost or duplicated activities, saw a bad signature, failed a submission or timed out',
    );
  return ok ? 0 : 1;
});

function printReport(out) {
  const { ceiling, baseline, engine, engineInterval, backlog } = out;
  const ceil = ceiling?.burst.deliveriesPerSec;
  const line = (name, r, rss) => {
    const b = r.burst.receiver;
    const t = r.totals;
    const p = r.paced?.receiver;
    return [
      name,
      int(r.burst.deliveriesPerSec),
      ratio(r.burst.deliveriesPerSec, ceil),
      `${fixed(b.latencyMs.p50, 1)} / ${fixed(b.latencyMs.p99, 1)}`,
      p ? `${fixed(p.latencyMs.p50, 2)} / ${fixed(p.latencyMs.p99, 2)}` : '—',
      `${t.posts} / ${t.multiPosts} / ${t.maxPerPost}`,
      `${t.duplicates} / ${t.missing} / ${t.badSignature}`,
      r === ceiling ? '—' : fixed(r.burst.cpuMsPerActivity, 3),
      rss,
    ];
  };
  const rows = [];
  if (ceiling)
    rows.push(
      line(
        'raw ceiling (sign + POST, 1 process)',
        ceiling,
        `loadgen ${fixed(ceiling.rss.loadgen, 0)}, receiver ${fixed(ceiling.rss.receiver, 0)}`,
      ),
    );
  if (baseline) {
    const r = baseline.rss;
    rows.push(
      line(
        'BullMQ baseline (Redis AOF everysec)',
        baseline,
        `worker ${fixed(r.worker, 0)}, submit ${fixed(r.submit, 0)}, redis ${fixed(r.redis, 0)}`,
      ),
    );
  }
  if (engine)
    rows.push(
      line('Hookster (SQLite, 1 process, fsync per commit)', engine, `engine ${fixed(engine.rss.engine, 0)}`),
    );
  if (engineInterval)
    rows.push(
      line(
        `Hookster (same, HOOKSTER_SYNC=${cfg.syncInterval})`,
        engineInterval,
        `engine ${fixed(engineInterval.rss.engine, 0)}`,
      ),
    );
  if (rows.length === 0) return printBacklog(backlog);
  console.log('');
  console.log(
    `End to end, bursts of ${cfg.n} activities after ${cfg.warmup} warm-up (median of ${cfg.rounds} alternating rounds), ` +
      `${cfg.concurrency} in flight, ~${cfg.bodyBytes} B bodies; paced ${cfg.pacedN} at ${cfg.pacedRate}/s ` +
      `(median of ${cfg.pacedRounds} alternating rounds by p99)`,
  );
  console.log(
    `(${os.cpus().length} cores, ${os.cpus()[0]?.model}; Node ${process.versions.node}${baseline ? `; baseline ${JSON.stringify(baselineVersions())}` : ''})`,
  );
  console.log('');
  console.log(
    table(
      [
        'system',
        'deliveries/s',
        '× ceiling',
        'burst p50 / p99 ms',
        'paced p50 / p99 ms',
        'POSTs / multi / max per POST (all rounds)',
        'dup / missing / bad sig (all rounds)',
        'CPU ms / activity',
        'peak RSS MB',
      ],
      rows,
    ),
  );
  console.log('');
  for (const [name, r] of Object.entries({ ceiling, baseline, engine, engineInterval })) {
    if (r) console.log(`deliveries/s by round, ${name}: ${r.rounds.map((v) => int(v)).join(' / ')}`);
  }
  for (const [name, r] of Object.entries({ baseline, engine, engineInterval, engineB: out.engineB })) {
    if (r?.pacedP99s.length)
      console.log(`paced p99 ms by round, ${name}: ${r.pacedP99s.map((v) => fixed(v, 2)).join(' / ')}`);
  }
  const versus = (label, r) => {
    const perRound = r.rounds.map((v, i) => (v / baseline.rounds[i]).toFixed(2)).join(' / ');
    const x = r.burst.deliveriesPerSec / baseline.burst.deliveriesPerSec;
    console.log(
      `${label} / baseline deliveries/s (medians): ${x.toFixed(2)} (target ≥ 1.5: ${x >= 1.5 ? 'met' : 'NOT met'}); by round ${perRound}`,
    );
    if (r.paced === undefined || baseline.paced === undefined) return;
    const pe = r.paced.receiver.latencyMs.p99;
    const pb = baseline.paced.receiver.latencyMs.p99;
    const rounds = r.pacedP99s.map((v, i) => (v <= baseline.pacedP99s[i] ? 'met' : 'not')).join(' / ');
    console.log(
      `  paced p99 (medians) ${fixed(pe, 2)} ms vs baseline ${fixed(pb, 2)} ms (target: no worse: ${pe <= pb ? 'met' : 'NOT met'}); by round ${rounds}`,
    );
  };
  if (baseline && (engine || engineInterval)) {
    const steal = (r) => r.steals.map((v) => v ?? '?').join(' / ');
    console.log(
      `hypervisor steal % by round, baseline: ${steal(baseline)}` +
        (engine ? `; engine: ${steal(engine)}` : '') +
        (engineInterval ? `; engine, HOOKSTER_SYNC=${cfg.syncInterval}: ${steal(engineInterval)}` : ''),
    );
    if (engine) versus('engine, fsync per commit (stricter than the baseline)', engine);
    if (engineInterval) {
      versus(`engine, HOOKSTER_SYNC=${cfg.syncInterval} (the baseline's durability)`, engineInterval);
    }
  }
  if (engine && ceiling) console.log(`engine / ceiling: ${ratio(engine.burst.deliveriesPerSec, ceil)}`);
  const engineB = out.engineB;
  if (engine && engineB) {
    const cpu = (r) => r.burst.cpuMsPerActivity.toFixed(3);
    console.log(
      `deliveries/s by round, engine B (${cfg.engineB || 'same build'}${cfg.engineBNodeArgs ? ` under ${cfg.engineBNodeArgs}` : ''}): ${engineB.rounds.map((v) => int(v)).join(' / ')}`,
    );
    console.log(
      `engine B / engine by round: ${engineB.rounds.map((v, i) => (v / engine.rounds[i]).toFixed(2)).join(' / ')}; ` +
        `CPU ms / activity (median rounds) engine ${cpu(engine)}, engine B ${cpu(engineB)}; paced p99 engine ` +
        `${fixed(engine.paced?.receiver.latencyMs.p99, 2)}, engine B ${fixed(engineB.paced?.receiver.latencyMs.p99, 2)} ms`,
    );
  }
  printBacklog(backlog);
}

function printBacklog(backlog) {
  if (backlog) {
    console.log('');
    console.log(
      table(
        [
          'backlog',
          'activities',
          'submitted/s (receiver down)',
          'drain s',
          'drained/s',
          'POSTs / multi',
          'dup / missing / bad sig',
          'engine RSS during drain min / max MB',
          'peak RSS MB',
        ],
        [
          [
            `Hookster (SQLite), batch max ${backlog.batchMax}`,
            int(backlog.n),
            int(backlog.submitPerSec),
            fixed(backlog.drainSeconds, 1),
            int(backlog.drainPerSec),
            `${backlog.receiver.posts} / ${backlog.receiver.multiPosts}`,
            `${backlog.receiver.duplicates} / ${backlog.receiver.missing} / ${backlog.receiver.badSignature}`,
            `${fixed(backlog.rss.min, 0)} / ${fixed(backlog.rss.max, 0)}`,
            fixed(backlog.peakRssMb, 0),
          ],
        ],
      ),
    );
    console.log(`RSS samples (MB, 1/s): ${backlog.rss.samples.map((v) => Math.round(v)).join(' ')}`);
  }
}
