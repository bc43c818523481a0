#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. CPU_PROF_DIR=… npm run bench): self time by
// function and by file, and the share of idle time. Usage: node bench/profile-top.mjs <file> [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-top.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i += 1) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const files = new Map();
for (const [id, us] of selfUs) {
  const { callFrame: cf } = byId.get(id);
  const where = cf.url
    ? cf.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules|packages)\//, '$1/')
    : '(native)';
  const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  files.set(where, (files.get(where) ?? 0) + us);
}
// Coarse buckets, to see where an engine's time goes at a glance.
const BUCKETS = [
  ['idle', /^\(idle\)/],
  ['garbage collector', /^\(garbage collector\)/],
  ['store (SQLite, incl. synchronous SQL and fsync)', /store\/sqlite\//],
  ['store (other)', /\/store\//],
  ['api', /server\/(dist|src)\/api\//],
  ['delivery', /server\/(dist|src)\/delivery\//],
  ['domain', /server\/(dist|src)\/domain\//],
  ['gateway', /server\/(dist|src)\/gateway\//],
  ['sdk', /packages\/sdk\//],
  [
    'fastify and its deps',
    /node_modules\/(fastify|find-my-way|secure-json-parse|light-my-request|avvio|@fastify|fast-json|pino|abstract-logging|ajv)/,
  ],
  ['undici', /node_modules\/undici\//],
  ['other node_modules', /node_modules\//],
  [
    'node: http / net / streams',
    /^node:(_http|net|internal\/streams|internal\/http|stream|internal\/stream_base)/,
  ],
  ['node: other', /^node:/],
  ['native (writev, crypto, …)', /.*/],
];
const buckets = new Map();
for (const [k, us] of files) {
  const name = k === '(native)' ? null : k;
  let bucket = BUCKETS.find(([, re]) => name !== null && re.test(name))?.[0];
  if (bucket === undefined) bucket = 'native (writev, crypto, …)';
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
}
for (const [key, us] of fn) {
  if (key.startsWith('(idle)') || key.startsWith('(garbage collector)')) {
    const bucket = key.startsWith('(idle)') ? 'idle' : 'garbage collector';
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    buckets.set('native (writev, crypto, …)', buckets.get('native (writev, crypto, …)') - us);
  }
}
const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5) + ' %';
console.log(`total ${(total / 1e6).toFixed(2)} s sampled`);
console.log('\nself time by function:');
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log('\nself time by part:');
for (const [k, us] of [...buckets].sort((a, b) => b[1] - a[1])) console.log(`${pct(us)}  ${k}`);
console.log('\nself time by file:');
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
