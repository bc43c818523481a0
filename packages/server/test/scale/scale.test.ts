// Scale-out on PostgreSQL: 1 API process and 3 worker processes deliver to a real receiver; nothing is
// lost, duplicated or reordered, also when a worker is killed or PostgreSQL restarts mid-run.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresAvailable } from '../../src/store/postgres/test-database.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { prepareLoad, startCluster, tally, waitForDistinct, type Cluster } from './cluster.js';

const available = await postgresAvailable();
const CONVERSATIONS = Number(process.env['HOOKSTER_SCALE_CONVERSATIONS'] ?? 200);
const PER_CONVERSATION = Number(process.env['HOOKSTER_SCALE_PER_CONVERSATION'] ?? 100);

/** Restarts this machine's PostgreSQL cluster (every connection drops; the engine must recover). */
async function restartPostgres(): Promise<void> {
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'restart'], {
    timeout: 60_000,
  });
}

let cluster: Cluster | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await cluster?.stop();
  await receiver?.close();
  cluster = undefined;
  receiver = undefined;
});

describe.runIf(available)('1 API and 3 workers on one PostgreSQL', () => {
  it(`delivers ${CONVERSATIONS * PER_CONVERSATION} activities across ${CONVERSATIONS} conversations once each, in order`, async () => {
    receiver = await startReceiver(200);
    cluster = await startCluster(3);
    const load = await prepareLoad(cluster, receiver, CONVERSATIONS);
    const started = Date.now();
    await load.submitAll(PER_CONVERSATION);
    const submitted = Date.now();
    await waitForDistinct(receiver, CONVERSATIONS * PER_CONVERSATION, 240_000);
    const done = Date.now();
    const result = tally(receiver, CONVERSATIONS, PER_CONVERSATION);
    // A re-send is only legitimate after an attempt that failed (at-least-once): none may fail here.
    expect(await cluster.failedAttempts()).toEqual({});
    console.log(
      `scale: ${CONVERSATIONS * PER_CONVERSATION} activities submitted in ${submitted - started} ms, ` +
        `all delivered after ${done - started} ms (${Math.round((CONVERSATIONS * PER_CONVERSATION * 1000) / (done - started))}/s)`,
    );
    expect(result).toEqual({
      distinct: CONVERSATIONS * PER_CONVERSATION,
      duplicates: 0,
      outOfOrder: [],
      missing: 0,
    });
  }, 300_000);
});

const CRASH_CONVERSATIONS = Number(process.env['HOOKSTER_SCALE_CRASH_CONVERSATIONS'] ?? 100);
const CRASH_PER_CONVERSATION = Number(process.env['HOOKSTER_SCALE_CRASH_PER_CONVERSATION'] ?? 40);
const CRASH_TOTAL = CRASH_CONVERSATIONS * CRASH_PER_CONVERSATION;

/** Resolves once a quarter of the run arrived ("mid-run"), with how many had arrived then. */
async function quarterDelivered(r: Receiver): Promise<number> {
  await waitForDistinct(r, Math.floor(CRASH_TOTAL / 4), 120_000);
  return tally(r, CRASH_CONVERSATIONS, CRASH_PER_CONVERSATION).distinct;
}

describe.runIf(available)('crashes during a run on PostgreSQL', () => {
  it('loses nothing and keeps order when one of 3 workers is killed with SIGKILL mid-run', async () => {
    receiver = await startReceiver(200);
    // A short attempt timeout, so the killed worker's leases (timeout + 5 s) expire soon.
    cluster = await startCluster(3, { HOOKSTER_DELIVERY_TIMEOUT: '2s' });
    const load = await prepareLoad(cluster, receiver, CRASH_CONVERSATIONS);
    const submitting = load.submitAll(CRASH_PER_CONVERSATION);
    const atCrash = await quarterDelivered(receiver);
    await cluster.workers[0]!.kill('SIGKILL');
    expect(atCrash).toBeLessThan(CRASH_TOTAL);
    await submitting;
    await waitForDistinct(receiver, CRASH_TOTAL, 180_000);
    const result = tally(receiver, CRASH_CONVERSATIONS, CRASH_PER_CONVERSATION);
    console.log(
      `kill -9 after ${atCrash} of ${CRASH_TOTAL}: ${result.duplicates} re-sent (in flight at the crash), ` +
        `${receiver.requests.length} requests, failed attempts ${JSON.stringify(await cluster.failedAttempts())}`,
    );
    expect(result.missing).toBe(0);
    expect(result.outOfOrder).toEqual([]);
    // At-least-once: only what the killed worker had in flight may arrive twice.
    expect(result.duplicates).toBeLessThanOrEqual(256);
  }, 300_000);

  it('recovers by itself and delivers everything when PostgreSQL restarts mid-run', async () => {
    receiver = await startReceiver(200);
    cluster = await startCluster(3);
    const load = await prepareLoad(cluster, receiver, CRASH_CONVERSATIONS);
    const submitting = load.submitAll(CRASH_PER_CONVERSATION, { tolerant: true });
    const atRestart = await quarterDelivered(receiver);
    await restartPostgres();
    expect(atRestart).toBeLessThan(CRASH_TOTAL);
    await submitting;
    await waitForDistinct(receiver, CRASH_TOTAL, 180_000);
    const result = tally(receiver, CRASH_CONVERSATIONS, CRASH_PER_CONVERSATION);
    console.log(
      `postgres restart after ${atRestart} of ${CRASH_TOTAL}: ${result.duplicates} re-sent, ` +
        `${receiver.requests.length} requests, failed attempts ${JSON.stringify(await cluster.failedAttempts())}`,
    );
    expect(result.missing).toBe(0);
    expect(result.outOfOrder).toEqual([]);
    for (const engine of [cluster.api, ...cluster.workers]) {
      expect((await fetch(`${engine.url}/healthz`)).status).toBe(200);
    }
  }, 300_000);
});
