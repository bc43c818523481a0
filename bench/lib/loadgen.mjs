// Load generator, a child of the benchmarks. On {type:'run', ...} it sends `n` requests with
// `concurrency` in flight (or open-loop at `rate`/s) and answers {type:'result'}:
//   target 'ceiling':  builds the delivery body itself, signs it and POSTs it to the receiver;
//   target 'baseline': POSTs {conversationId, activity} to the BullMQ baseline (expects 202);
//   target 'engine':   POSTs the activity to Hookster's customer submit route (expects 200),
//                      round-robin over `conversationIds`.
import { Agent, request } from 'undici';
import { baselineSubmission, benchTag, ceilingDelivery, engineActivity, paddingText } from './payload.mjs';
import { nowMs, sleep } from './proc.mjs';
import { summarize } from './stats.mjs';

const agents = new Map();
function agentFor(url, concurrency) {
  const origin = new URL(url).origin;
  let agent = agents.get(origin);
  if (!agent) {
    agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000, pipelining: 1 });
    agents.set(origin, agent);
  }
  return agent;
}

function builder({ target, url, token, conversationIds, text }) {
  if (target === 'ceiling') {
    return (tag) => ({ url, expect: 200, ...ceilingDelivery(tag, text) });
  }
  if (target === 'baseline') {
    const headers = { 'content-type': 'application/json' };
    return (tag) => ({ url, expect: 202, headers, body: JSON.stringify(baselineSubmission(tag, text)) });
  }
  if (target === 'engine') {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const urls = conversationIds.map((id) => `${url}/inbound/customer/v1/direct/activity/${id}`);
    return (tag, seq) => ({
      url: urls[seq % urls.length],
      expect: 200,
      headers,
      body: JSON.stringify(engineActivity(tag, text)),
    });
  }
  throw new Error(`unknown target ${target}`);
}

async function run(msg) {
  const { phase, n, concurrency, bodyBytes, rate = 0 } = msg;
  const text = paddingText(bodyBytes);
  const build = builder({ ...msg, text });
  const dispatcher = agentFor(msg.url, concurrency);
  const rtt = new Float64Array(n);
  let next = 0;
  let errors = 0;
  const errorSample = [];
  const t0 = nowMs();

  async function one(seq) {
    const due = rate > 0 ? t0 + (seq * 1000) / rate : 0;
    if (rate > 0) {
      const wait = due - nowMs();
      if (wait > 0) await sleep(Math.ceil(wait));
    }
    // Open loop: a late send is timed from its schedule, so a stall is never hidden.
    const sentAt = rate > 0 ? Math.max(due, nowMs()) : nowMs();
    const req = build(benchTag(phase, seq, sentAt), seq);
    const started = nowMs();
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        dispatcher,
      });
      const text = await res.body.text();
      if (res.statusCode !== req.expect) throw new Error(`status ${res.statusCode}: ${text.slice(0, 300)}`);
    } catch (err) {
      errors += 1;
      if (errorSample.length < 5) errorSample.push(`${seq}: ${err.message}`);
    }
    rtt[seq] = nowMs() - started;
  }

  async function loop() {
    while (next < n) await one(next++);
  }
  // Paced runs need enough workers that a slow answer never delays the next scheduled send.
  const workers = rate > 0 ? Math.max(concurrency, 256) : concurrency;
  await Promise.all(Array.from({ length: Math.min(workers, n) }, loop));
  const t1 = nowMs();
  return {
    type: 'result',
    phase,
    n,
    ok: n - errors,
    errors,
    errorSample,
    startedAt: t0,
    finishedAt: t1,
    requestsPerSec: n / ((t1 - t0) / 1000),
    rttMs: summarize(rtt, n),
  };
}

process.on('message', (msg) => {
  if (msg.type === 'run') {
    run(msg).then(
      (result) => process.send(result),
      (err) =>
        process.send({
          type: 'result',
          phase: msg.phase,
          n: msg.n,
          ok: 0,
          errors: msg.n,
          errorSample: [String(err)],
        }),
    );
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
