// The backlog phase: with the receiver down, submit `run.n` activities (the engine keeps retrying each
// conversation's head and holds the rest), bring the receiver back and time the drain while sampling the
// engine's resident memory every second — the backlog must not be loaded into memory.
import { ask, nextMessage, nowMs, rssMb, sleep } from './proc.mjs';

export async function backlogPhase({ receiver, loadgen, engine, run, timeoutMs, log }) {
  await ask(receiver.child, { type: 'reset', phase: run.phase, expected: run.n }, 'reset-ok');
  await ask(receiver.child, { type: 'down' }, 'down-ok');
  log(`backlog: receiver down, submitting ${run.n} activities`);
  const lg = await ask(loadgen, { type: 'run', ...run }, 'result', timeoutMs);
  if (lg.errors > 0) {
    log(`backlog submit errors: ${lg.errorSample.join(' | ')}`);
    receiver.child.send({ type: 'expect', expected: lg.ok });
  }
  log(`backlog: ${lg.ok} submitted at ${Math.round(lg.requestsPerSec)}/s; receiver up, draining`);
  const rssBefore = rssMb(engine.pid);
  const done = nextMessage(receiver.child, 'done', timeoutMs);
  done.catch(() => {});
  await ask(receiver.child, { type: 'up' }, 'up-ok');
  const upAt = nowMs();
  const samples = [];
  let finished = false;
  let timedOut = false;
  done.then(
    () => (finished = true),
    () => (timedOut = finished = true),
  );
  while (!finished) {
    const v = rssMb(engine.pid);
    if (v !== null) samples.push(v);
    const progress = await ask(receiver.child, { type: 'progress' }, 'progress');
    if (samples.length % 10 === 0)
      log(`backlog: ${progress.unique} of ${run.n} received, engine RSS ${Math.round(v ?? 0)} MB`);
    for (let i = 0; i < 20 && !finished; i += 1) await sleep(50);
  }
  await sleep(1000); // late duplicates still count
  const st = await ask(receiver.child, { type: 'stats' }, 'stats');
  const drainMs = (st.lastAt ?? nowMs()) - upAt;
  const ok = !timedOut && st.missing === 0 && st.duplicates === 0 && st.badSignature === 0 && lg.errors === 0;
  log(
    `backlog: drained ${st.unique} in ${(drainMs / 1000).toFixed(1)} s, missing ${st.missing}, dup ${st.duplicates}${timedOut ? ', TIMED OUT' : ''}`,
  );
  return {
    ok,
    n: run.n,
    submitPerSec: lg.requestsPerSec,
    submitErrors: lg.errors,
    drainSeconds: drainMs / 1000,
    drainPerSec: st.unique / (drainMs / 1000),
    timedOut,
    receiver: st,
    rss: { before: rssBefore, min: Math.min(...samples), max: Math.max(...samples), samples },
  };
}
