#!/usr/bin/env node
// `npm run bench:verify`: Standard Webhooks verifications per second for 1 KiB and 64 KiB bodies, in one
// process: @hookster/sdk (node:crypto and WebCrypto entries), a bare createHmac + timingSafeEqual baseline,
// and the svix and standardwebhooks libraries. Prints figures and ratios to the bare baseline.
// Contestants run in short interleaved slices, so a load change on a shared machine hits them alike; each
// ratio is the median over rounds of (contestant rate / its baseline's rate in the same round).
// Env: DURATION_MS per contestant per round (default 200), ROUNDS (default 15), JSON=1 for a JSON line.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import { Webhook as SvixWebhook } from 'svix';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import * as sdk from '@hookster/sdk';
import * as webSdk from '@hookster/sdk/webcrypto';

const DURATION_MS = Number(process.env.DURATION_MS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const SIZES = [1024, 64 * 1024];

const privateKey = randomBytes(16).toString('hex').toUpperCase();
const secret = sdk.standardSecretFromPrivateKey(privateKey);
const keyBytes = Buffer.from(privateKey, 'utf8');

/** A JSON body of exactly `size` bytes (the libraries parse the JSON after verifying). */
function jsonBody(size) {
  const head = '{"activities":[{"type":"message","message":{"type":"text","text":"';
  const tail = '"}}]}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail, 'utf8');
}

function contestants(body) {
  const id = 'msg_2b9d1c7e6f5a4b3c';
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', keyBytes)
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest('base64');
  const header = `v1,${signature}`;
  const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': header };
  const svixHeaders = { 'svix-id': id, 'svix-timestamp': timestamp, 'svix-signature': header };
  const sdkHeaders = { id, timestamp, signature: header };
  const svix = new SvixWebhook(secret);
  const standard = new StandardWebhook(secret);
  return [
    {
      name: 'bare createHmac + timingSafeEqual',
      sync: true,
      run: () => {
        // The minimum: one HMAC over "id.timestamp.body", decode the v1 value, constant-time compare.
        const expected = createHmac('sha256', keyBytes).update(`${id}.${timestamp}.`).update(body).digest();
        const given = Buffer.from(header.slice(3), 'base64');
        return given.length === expected.length && timingSafeEqual(given, expected);
      },
    },
    {
      name: '@hookster/sdk verifyStandard (node:crypto)',
      sync: true,
      run: () => {
        sdk.verifyStandard(sdkHeaders, body, secret);
        return true;
      },
    },
    {
      name: 'bare Hubster createHmac + timingSafeEqual',
      sync: true,
      baseline: 'hubster',
      run: () => {
        const expected = createHmac('sha256', keyBytes).update(body).digest();
        const given = Buffer.from(hubsterSignature, 'base64');
        return given.length === expected.length && timingSafeEqual(given, expected);
      },
    },
    {
      name: '@hookster/sdk verifyHubsterSignature (node:crypto)',
      sync: true,
      // The Hubster scheme (no id/timestamp): compared with the bare Hubster row.
      against: 'hubster',
      run: () => sdk.verifyHubsterSignature(body, hubsterSignature, privateKey),
    },
    {
      name: '@hookster/sdk verifyStandard (WebCrypto, async)',
      sync: false,
      run: async () => {
        await webSdk.verifyStandard(sdkHeaders, body, secret);
        return true;
      },
    },
    { name: 'svix Webhook.verify', sync: true, run: () => svix.verify(body, svixHeaders) !== undefined },
    {
      name: 'standardwebhooks Webhook.verify',
      sync: true,
      run: () => standard.verify(body, headers) !== undefined,
    },
  ];
}

let hubsterSignature = '';

async function measure(contestant) {
  const deadline = process.hrtime.bigint() + BigInt(DURATION_MS) * 1_000_000n;
  const started = process.hrtime.bigint();
  let count = 0;
  let now = started;
  while (now < deadline) {
    if (contestant.sync) {
      for (let i = 0; i < 200; i++)
        if (!contestant.run()) throw new Error(`${contestant.name} failed to verify`);
    } else {
      for (let i = 0; i < 200; i++)
        if (!(await contestant.run())) throw new Error(`${contestant.name} failed to verify`);
    }
    count += 200;
    now = process.hrtime.bigint();
  }
  return (count * 1e9) / Number(now - started);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

console.log(
  `verify benchmark: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${ROUNDS} rounds x ${DURATION_MS} ms, median`,
);
console.log(
  'Standard Webhooks rows: × the bare Standard Webhooks row; Hubster rows: × the bare Hubster row.',
);
const summary = [];
for (const size of SIZES) {
  const body = jsonBody(size);
  hubsterSignature = sdk.signHubster(body, privateKey);
  const list = contestants(body);
  for (const c of list) {
    // Sanity: each contestant accepts the genuine request and (where it throws) refuses a tampered body.
    if (!(await c.run())) throw new Error(`${c.name} does not verify the genuine request`);
  }
  const tampered = Buffer.from(body);
  tampered[tampered.length - 10] ^= 1;
  if (createHmac('sha256', keyBytes).update(tampered).digest('base64') === hubsterSignature)
    throw new Error('tamper check broken');
  for (const c of list) c.samples = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of list) {
      await measure({ ...c, samples: undefined, run: c.run, sync: c.sync }).then((rate) =>
        c.samples.push(rate),
      );
    }
  }
  const standardBare = list[0];
  const hubsterBare = list.find((c) => c.baseline === 'hubster');
  console.log(`\nbody ${size / 1024} KiB`);
  console.log(`${'contestant'.padEnd(52)} ${'verifications/s'.padStart(16)} ${'× bare'.padStart(8)}`);
  for (const c of list) {
    const base = c.baseline === 'hubster' || c.against === 'hubster' ? hubsterBare : standardBare;
    const rate = median(c.samples);
    const ratio = median(c.samples.map((sample, round) => sample / base.samples[round]));
    console.log(`${c.name.padEnd(52)} ${fmt(rate).padStart(16)} ${ratio.toFixed(2).padStart(8)}`);
    summary.push({ size, name: c.name, rate: Math.round(rate), ratio: Number(ratio.toFixed(2)) });
  }
}
if (process.env.JSON === '1') console.log(JSON.stringify(summary));
