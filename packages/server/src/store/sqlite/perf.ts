// A measurement program (not a test) for the SQLite store: durable submits/s with 64 in flight and
// 1 or 10 System integrations, then claim + record throughput, then the cost of claiming next to a
// blocked lane's 200,000-delivery backlog. Run: npx tsx packages/server/src/store/sqlite/perf.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimRequest, Store } from '../contract.js';
import {
  claimRequest,
  directFixture,
  hubFixture,
  newConversation,
  planTo,
  systemFixture,
  tenantFixture,
  webhookTo,
} from '../conformance/fixtures.js';
import { createSqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'hookster-perf-'));

async function setup(name: string, systems: number, conversations: number) {
  const store = createSqliteStore(join(root, name, 'hookster.db'));
  await store.migrate();
  const tenant = tenantFixture();
  await store.createTenant(tenant);
  const hub = hubFixture(tenant.tenantId);
  await store.createHub(hub);
  const targets = [];
  for (let i = 0; i < systems; i++) {
    const system = systemFixture(hub);
    await store.createIntegration(system);
    targets.push(webhookTo(system));
  }
  const customer = directFixture(hub, 'Customer', true);
  await store.createIntegration(customer);
  const convs = [];
  for (let i = 0; i < conversations; i++) convs.push((await newConversation(store, customer)).conversationId);
  return { store, targets, convs, customer };
}

async function inFlight(total: number, concurrency: number, task: (n: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function drain(store: Store, overrides: Partial<ClaimRequest>) {
  let deliveries = 0;
  let activities = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (;;) {
    const claimed = await store.claimDeliveries(
      claimRequest({ limit: 512, perIntegrationLimit: 512, ...overrides }),
    );
    if (claimed.length === 0) break;
    deliveries += claimed.length;
    for (const c of claimed) activities += c.activityCount;
    await store.recordAttempts(
      claimed.map((c) => ({
        deliveryId: c.deliveryId,
        fence: c.fence,
        attemptNumber: c.attemptNumber,
        startedAt: Date.now(),
        durationMs: 1,
        statusCode: 200,
        next: { status: 'delivered' as const },
      })),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(
    `        cpu per claimed delivery: ${((used.user + used.system) / Math.max(1, deliveries)).toFixed(1)} µs`,
  );
  return { deliveries, activities, seconds };
}

async function submitRun(systems: number, count: number, batchMaxActivities: number) {
  const { store, targets, convs } = await setup(`submit-${systems}-${batchMaxActivities}`, systems, 1000);
  const plan = planTo(targets, { padding: 200 });
  const started = performance.now();
  const cpu = process.cpuUsage();
  await inFlight(count, 64, (n) => store.submitActivity(convs[n % convs.length]!, plan));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(`        cpu per activity: ${((used.user + used.system) / count).toFixed(1)} µs`);
  console.log(
    `submit  systems=${systems}: ${count} activities (${count * systems} deliveries) in ${seconds.toFixed(2)} s = ` +
      `${Math.round(count / seconds)} activities/s, ${Math.round((count * systems) / seconds)} delivery rows/s`,
  );
  const d = await drain(store, { batchMaxActivities });
  console.log(
    `drain   systems=${systems} batchMax=${batchMaxActivities}: ${d.deliveries} claims carrying ${d.activities} ` +
      `activities in ${d.seconds.toFixed(2)} s = ${Math.round(d.deliveries / d.seconds)} deliveries/s, ` +
      `${Math.round(d.activities / d.seconds)} activity-deliveries/s`,
  );
  await store.close();
}

async function backlogRun(backlog: number) {
  const { store, customer, convs } = await setup('backlog', 0, 2);
  const blocked = convs[0]!;
  const flowing = convs[1]!;
  const plan = planTo([webhookTo(customer)]);
  await inFlight(backlog, 64, () => store.submitActivity(blocked, plan));
  const now = Date.now();
  const [head] = await store.claimDeliveries(claimRequest({ now }));
  await store.recordAttempts([
    {
      deliveryId: head!.deliveryId,
      fence: head!.fence,
      attemptNumber: 1,
      startedAt: now,
      durationMs: 1,
      statusCode: 500,
      next: { status: 'pending', nextAttemptAt: now + 3_600_000 },
    },
  ]);
  const rounds = 2000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    await store.submitActivity(flowing, plan);
    const [c] = await store.claimDeliveries(claimRequest());
    await store.recordAttempts([
      {
        deliveryId: c!.deliveryId,
        fence: c!.fence,
        attemptNumber: 1,
        startedAt: Date.now(),
        durationMs: 1,
        statusCode: 200,
        next: { status: 'delivered' },
      },
    ]);
  }
  const perRound = (performance.now() - started) / rounds;
  console.log(
    `backlog ${backlog} blocked in one lane: submit+claim+record next to it = ${perRound.toFixed(3)} ms`,
  );
  const drainStart = performance.now();
  // Release the blocked lane and time its drain (direct deliveries: one activity each).
  await store.retryDelivery(head!.deliveryId, Date.now());
  const d = await drain(store, { now: now + 3_600_000 });
  console.log(
    `backlog drain: ${d.deliveries} deliveries of one lane in ${((performance.now() - drainStart) / 1000).toFixed(2)} s`,
  );
  await store.close();
}

const count = Number(process.argv[2] ?? 50_000);
try {
  await submitRun(1, count, 100);
  await submitRun(10, count, 100);
  if (process.argv[4] !== 'quick') await submitRun(10, count / 5, 1);
  if (process.argv[4] !== 'quick') await backlogRun(Number(process.argv[3] ?? 200_000));
} finally {
  rmSync(root, { recursive: true, force: true });
}
