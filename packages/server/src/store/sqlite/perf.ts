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

/** One submit + claim + record round next to whatever waits in the store, in ms. */
async function rounds(store: Store, conversationId: string, plan: ReturnType<typeof planTo>, n: number) {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    await store.submitActivity(conversationId, plan);
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
  return (performance.now() - started) / n;
}

async function backlogRun(backlog: number) {
  const { store, customer, convs } = await setup('backlog', 0, 1002);
  const blocked = convs[0]!;
  const flowing = convs[1]!;
  const plan = planTo([webhookTo(customer)]);
  const empty = await rounds(store, flowing, plan, 1000);
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
  const beside = await rounds(store, flowing, plan, 1000);
  console.log(
    `backlog: submit+claim+record round ${empty.toFixed(3)} ms with nothing waiting, ` +
      `${beside.toFixed(3)} ms beside one lane blocked with ${backlog} deliveries`,
  );
  await store.close();
  // A backlog spread over 1,000 conversations drains in chunks of equal cost.
  const spread = await setup('spread', 0, 1000);
  const spreadPlan = planTo([webhookTo(spread.customer)]);
  await inFlight(backlog, 64, (n) => spread.store.submitActivity(spread.convs[n % 1000]!, spreadPlan));
  const chunks: string[] = [];
  let left = backlog;
  while (left > 0) {
    const started = performance.now();
    let done = 0;
    while (done < backlog / 5) {
      const claimed = await spread.store.claimDeliveries(
        claimRequest({ limit: 256, perIntegrationLimit: 256 }),
      );
      if (claimed.length === 0) break;
      await spread.store.recordAttempts(
        claimed.map((c) => ({
          deliveryId: c.deliveryId,
          fence: c.fence,
          attemptNumber: 1,
          startedAt: Date.now(),
          durationMs: 1,
          statusCode: 200,
          next: { status: 'delivered' as const },
        })),
      );
      done += claimed.length;
    }
    if (done === 0) break;
    left -= done;
    chunks.push(String(Math.round(done / ((performance.now() - started) / 1000))));
  }
  console.log(`backlog ${backlog} over 1000 lanes drains at ${chunks.join(', ')} deliveries/s per fifth`);
  await spread.store.close();
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
