// Webhook receiver of the benchmarks: node:http on 127.0.0.1 that answers 200 as soon as a body has
// arrived, then verifies x-hubster-signature with @hookster/sdk (key looked up by x-hubster-public-key)
// and records every tagged activity in the body (a System body may carry several). Driven over IPC:
//   {type:'keys', keys:{public: private}}   adds signing keys;
//   {type:'reset', phase, expected}          starts counting a phase (seq 0..expected-1);
//   {type:'expect', expected}                lowers the target (submissions that failed);
//   {type:'stats'} / {type:'progress'}       full figures / just the counts;
//   {type:'down'} / {type:'up'}              stops listening (connections refused) / listens again.
// It sends {type:'ready', port} and {type:'done', phase, at} once every seq of the phase arrived.
// With LATENCY_DUMP_DIR set, each phase's send times and latencies are written there (see stats()).
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { verifyHubsterSignature } from '../../packages/sdk/dist/index.js';
import { BENCH_TAG_RE } from './payload.mjs';
import { nowMs } from './proc.mjs';
import { summarize } from './stats.mjs';

const keys = new Map();
let phase = null;
let expected = 0;
let counts = new Uint8Array(0);
let latency = new Float64Array(0);
let sentAt = new Float64Array(0);
let unique = 0;
let activities = 0;
let duplicates = 0;
let posts = 0;
let multiPosts = 0;
let maxPerPost = 0;
let bytes = 0;
let badSignature = 0;
let foreign = 0;
let firstAt = null;
let lastAt = null;
let doneSent = false;

function reset(msg) {
  phase = msg.phase;
  expected = msg.expected;
  counts = new Uint8Array(expected);
  latency = new Float64Array(expected);
  sentAt = new Float64Array(expected);
  unique = activities = duplicates = posts = multiPosts = maxPerPost = bytes = badSignature = foreign = 0;
  firstAt = lastAt = null;
  doneSent = false;
}

function maybeDone() {
  if (!doneSent && phase !== null && unique >= expected) {
    doneSent = true;
    process.send({ type: 'done', phase, at: lastAt });
  }
}

function record(body, headers, at) {
  posts += 1;
  bytes += body.length;
  const privateKey = keys.get(headers['x-hubster-public-key']);
  const signature = headers['x-hubster-signature'];
  if (
    privateKey === undefined ||
    typeof signature !== 'string' ||
    !verifyHubsterSignature(body, signature, privateKey)
  ) {
    badSignature += 1;
  }
  let inPost = 0;
  for (const m of body.toString('utf8').matchAll(BENCH_TAG_RE)) {
    inPost += 1;
    const seq = Number(m[2]);
    if (m[1] !== phase || seq >= expected) {
      foreign += 1;
      continue;
    }
    activities += 1;
    const seen = counts[seq];
    if (seen < 255) counts[seq] = seen + 1;
    if (seen > 0) {
      duplicates += 1;
      continue;
    }
    sentAt[seq] = Number(m[3]);
    latency[seq] = at - sentAt[seq];
    unique += 1;
    if (firstAt === null) firstAt = at;
    lastAt = at;
  }
  if (inPost > 1) multiPosts += 1;
  if (inPost > maxPerPost) maxPerPost = inPost;
  maybeDone();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = nowMs();
    res.writeHead(200).end();
    record(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), req.headers, at);
  });
});
server.keepAliveTimeout = 60_000;

function stats() {
  let missing = 0;
  const missingSample = [];
  for (let i = 0; i < expected; i += 1) {
    if (counts[i] === 0) {
      missing += 1;
      if (missingSample.length < 10) missingSample.push(i);
    }
  }
  const lat = new Float64Array(unique);
  let k = 0;
  for (let i = 0; i < expected; i += 1) if (counts[i] > 0) lat[k++] = latency[i];
  // LATENCY_DUMP_DIR: each phase's send times (epoch ms) then latencies (ms), by seq, as Float64 (0 = not
  // received), to find when the slow deliveries were sent.
  if (process.env.LATENCY_DUMP_DIR) {
    mkdirSync(process.env.LATENCY_DUMP_DIR, { recursive: true });
    writeFileSync(
      `${process.env.LATENCY_DUMP_DIR}/${phase}.f64`,
      Buffer.concat([new Uint8Array(sentAt.buffer), new Uint8Array(latency.buffer)]),
    );
  }
  return {
    type: 'stats',
    phase,
    expected,
    unique,
    activities,
    duplicates,
    missing,
    missingSample,
    posts,
    multiPosts,
    maxPerPost,
    bytesPerPost: posts > 0 ? bytes / posts : null,
    badSignature,
    foreign,
    firstAt,
    lastAt,
    latencyMs: summarize(lat, k),
  };
}

let port = Number(process.env.RECEIVER_PORT ?? 0);
function listen(reply) {
  server.listen(port, '127.0.0.1', () => {
    port = server.address().port;
    process.send({ type: reply, port });
  });
}

process.on('message', (msg) => {
  if (msg.type === 'keys') {
    for (const [pub, priv] of Object.entries(msg.keys)) keys.set(pub, priv);
    process.send({ type: 'keys-ok' });
  } else if (msg.type === 'reset') {
    reset(msg);
    process.send({ type: 'reset-ok', phase });
  } else if (msg.type === 'expect') {
    expected = Math.min(expected, msg.expected);
    maybeDone();
  } else if (msg.type === 'stats') {
    process.send(stats());
  } else if (msg.type === 'progress') {
    process.send({ type: 'progress', unique, posts, duplicates, badSignature, lastAt });
  } else if (msg.type === 'down') {
    server.close(() => process.send({ type: 'down-ok' }));
    server.closeAllConnections();
  } else if (msg.type === 'up') {
    listen('up-ok');
  }
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
process.on('disconnect', () => process.exit(0));
listen('ready');
