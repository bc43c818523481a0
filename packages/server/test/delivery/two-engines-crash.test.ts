// Two `--role all` engines on one PostgreSQL schema, both taking submissions and both delivering, and one
// of them killed with SIGKILL mid-run. Judged at a real receiver: nothing is lost, every conversation
// arrives in order, two requests of one conversation are never open at once, and the only activities
// that arrive twice are deliveries the killed engine held under a lease when it died.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  freshSchemaUrl,
  postgresAvailable,
} from '../../src/store/postgres/test-database.js';
import { apiClient, createTenantWithToken, setupHub, uniqueName, until } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

const available = await postgresAvailable();
const CONVERSATIONS = 20;
const PER_CONVERSATION = 30;
const TOTAL = CONVERSATIONS * PER_CONVERSATION;

const engines: RunningEngine[] = [];
const servers: Server[] = [];
const schemas: string[] = [];
afterAll(async () => {
  for (const engine of engines) await engine.stop();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await dropSchemas(schemas);
});

/** Answers every request after 20 ms; records arrivals per conversation and any overlap within one. */
async function startOverlapReceiver() {
  const arrived = new Map<number, number[]>();
  const open = new Map<number, number>();
  const overlaps: string[] = [];
  let distinct = 0;
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        activity: { message: { text: string } };
      };
      const [conversation, n] = body.activity.message.text.split(':').map(Number) as [number, number];
      if ((open.get(conversation) ?? 0) > 0) overlaps.push(`${conversation}:${n}`);
      open.set(conversation, (open.get(conversation) ?? 0) + 1);
      const list = arrived.get(conversation) ?? [];
      list.push(n);
      arrived.set(conversation, list);
      if (!seen.has(`${conversation}:${n}`)) {
        seen.add(`${conversation}:${n}`);
        distinct++;
      }
      let closed = false;
      // Counted as closed before the answer leaves: the engine cannot send the lane's next delivery
      // before it has this answer. A request cut off by the killed engine closes with its socket.
      const close = (): void => {
        if (closed) return;
        closed = true;
        open.set(conversation, (open.get(conversation) ?? 1) - 1);
      };
      res.on('close', close);
      setTimeout(() => {
        if (res.destroyed) return;
        close();
        res.writeHead(200).end('ok');
      }, 20);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived,
    overlaps,
    distinct: () => distinct,
  };
}

describe.runIf(available)('two engines on one PostgreSQL schema, one killed with SIGKILL', () => {
  it('delivers everything in order, never two requests of one conversation at once, and re-sends only what the killed engine held', async () => {
    const receiver = await startOverlapReceiver();
    const { url, schema } = freshSchemaUrl('two');
    schemas.push(schema);
    // A timeout well above the receiver's 20 ms even on a loaded machine: an attempt that timed out but
    // arrived would be re-sent, a duplicate that says nothing about the crash. The lease is it + 5 s.
    const env = { HOOKSTER_DELIVERY_TIMEOUT: '3s', HOOKSTER_CONCURRENCY: '64' };
    const a = await startEngine({ databaseUrl: url, env });
    engines.push(a);
    // Logs at info, to tell its dispatcher's lease owner.
    const b = await startEngine({
      databaseUrl: url,
      adminToken: a.adminToken,
      env: { ...env, HOOKSTER_LOG_LEVEL: 'info' },
    });
    engines.push(b);
    // The log line is written by pino, apart from the `listening` line the harness waits for: it may
    // come just after it.
    await until('the dispatcher of b logged its owner', () => /"owner":"([^"]+)"/.test(b.output()), 10_000);
    const ownerOfB = /"owner":"([^"]+)"/.exec(b.output())?.[1];
    expect(ownerOfB, 'the dispatcher of b logged its owner').toBeDefined();

    const tenant = await createTenantWithToken(a);
    const hub = await setupHub(tenant.client);
    await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Agent', webhookUrl: `${receiver.url}/agent` },
    });
    const customer = await hub.addIntegration({
      channelId: 'Direct',
      configuration: { integrationType: 'Customer' },
    });
    const viaA = tenant.client;
    const viaB = apiClient(b.url, tenant.token);
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const established = await viaA.post<{ conversationId: string }>('/api/v1/conversations/establish', {
        integrationId: customer.integrationId,
        binding: uniqueName(`user${i}`),
        channelType: 'Direct',
      });
      expect(established.status).toBe(200);
      conversations.push(established.body.conversationId);
    }

    let killed = false;
    async function submit(c: number, n: number): Promise<void> {
      const client = !killed && n % 2 === 1 ? viaB : viaA;
      const response = await client
        .post(`/inbound/customer/v1/direct/activity/${conversations[c]}`, {
          type: 'message',
          message: { type: 'text', text: `${c}:${n}` },
        })
        .catch((error: unknown) => ({ status: 0, text: String(error) }));
      if (response.status === 200) return;
      if (client === viaA) throw new Error(`submit: ${response.status} ${response.text}`);
      // b died with this request: resubmitted through a unless its commit made it (answer lost).
      const listed = await viaA.get<{ message?: { text?: string } }[]>(
        `/api/v1/interactions/activities/${conversations[c]}`,
      );
      if (!listed.body.some((x) => x.message?.text === `${c}:${n}`)) await submit(c, n);
    }
    const submitting = Promise.all(
      conversations.map(async (_, c) => {
        for (let n = 0; n < PER_CONVERSATION; n++) await submit(c, n);
      }),
    );

    await until('a quarter delivered', () => receiver.distinct() >= TOTAL / 4, 60_000);
    killed = true;
    await b.kill('SIGKILL');
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    let heldByB: number;
    try {
      // Nothing of b's is recorded any more: its leased deliveries are the ones it may have sent.
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".deliveries
         WHERE lease_owner = $1 AND status = 'pending' AND lease_until IS NOT NULL`,
        [ownerOfB],
      );
      heldByB = rows[0]!.n;
    } finally {
      await admin.end();
    }
    await submitting;
    await until(
      'everything delivered (or an overlap seen)',
      () => receiver.distinct() === TOTAL || receiver.overlaps.length > 0,
      120_000,
    );

    expect(receiver.overlaps, 'requests of one conversation open at once').toEqual([]);
    let duplicates = 0;
    for (let c = 0; c < CONVERSATIONS; c++) {
      const list = receiver.arrived.get(c) ?? [];
      // In order: never backwards; an at-least-once re-send repeats the latest, never reorders.
      expect(
        list.filter((n, i) => i > 0 && n < list[i - 1]!),
        `conversation ${c}: ${list.join(',')}`,
      ).toEqual([]);
      duplicates += list.length - new Set(list).size;
    }
    expect(duplicates).toBeLessThanOrEqual(heldByB);
    expect(receiver.distinct()).toBe(TOTAL);
  }, 240_000);
});
