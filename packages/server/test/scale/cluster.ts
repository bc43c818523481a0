// Scale-out harness: 1 API process and N worker processes (`hookster serve --role …`) on one fresh
// PostgreSQL schema, a real receiver, and a load of customer activities submitted through the API.

import pg from 'pg';
import { TEST_POSTGRES_URL, dropSchemas, freshSchemaUrl } from '../../src/store/postgres/test-database.js';
import {
  adminClient,
  createTenantWithToken,
  setupHub,
  uniqueName,
  type ApiClient,
} from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';
import type { Receiver } from '../support/receiver.js';

export interface Cluster {
  api: RunningEngine;
  workers: RunningEngine[];
  databaseUrl: string;
  /** Attempts that did not get a 2xx, by error (diagnostics for re-sends). */
  failedAttempts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Why a 10 s attempt timeout by default: on a loaded 2-core machine the receiver (in the test process)
 * can answer late; a timed-out attempt that did arrive is re-sent (at-least-once), which would show as
 * a duplicate that says nothing about the engine. The lease is the timeout plus 5 s.
 */
export async function startCluster(
  workerCount: number,
  extraEnv: Record<string, string> = {},
): Promise<Cluster> {
  const env = { HOOKSTER_DELIVERY_TIMEOUT: '10s', ...extraEnv };
  const { url, schema } = freshSchemaUrl('scale');
  const api = await startEngine({ role: 'api', databaseUrl: url, env });
  const workers = await Promise.all(
    Array.from({ length: workerCount }, () =>
      startEngine({ role: 'worker', databaseUrl: url, adminToken: api.adminToken, env }),
    ),
  );
  return {
    api,
    workers,
    databaseUrl: url,
    async failedAttempts() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ reason: string; n: number }>(
          `SELECT coalesce(error, status_code::text) AS reason, count(*)::int AS n FROM "${schema}".attempts
           WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299 GROUP BY 1`,
        );
        return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
      } finally {
        await client.end();
      }
    },
    async stop() {
      await Promise.all([api, ...workers].map((engine) => engine.stop()));
      await dropSchemas([schema]);
    },
  };
}

export interface Load {
  conversationIds: string[];
  /**
   * Submits `perConversation` activities to every conversation, each conversation in sequence. With
   * `tolerant`, a failed submit (database restarting) is retried once the API answers again, unless the
   * activity list shows it was committed after all (an answer lost with the connection).
   */
  submitAll(perConversation: number, options?: { concurrency?: number; tolerant?: boolean }): Promise<void>;
}

const RETRY_BOUND_MS = 60_000;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One tenant and hub with a Direct customer integration (websocket, the submitter) and a Direct agent
 * with a webhook to the receiver: every customer activity becomes exactly one webhook delivery of one
 * activity, so the receiver sees each activity on its own and order is checked per activity.
 */
export async function prepareLoad(
  cluster: Cluster,
  receiver: Receiver,
  conversations: number,
): Promise<Load> {
  const tenant = await createTenantWithToken(cluster.api);
  const hub = await setupHub(tenant.client);
  await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Agent', webhookUrl: `${receiver.url}/agent` },
  });
  const customer = await hub.addIntegration({
    channelId: 'Direct',
    configuration: { integrationType: 'Customer' },
  });
  const client: ApiClient = tenant.client;
  const conversationIds: string[] = [];
  for (let i = 0; i < conversations; i++) {
    const established = await client.post<{ conversationId: string }>('/api/v1/conversations/establish', {
      integrationId: customer.integrationId,
      binding: uniqueName(`user${i}`),
      channelType: 'Direct',
    });
    if (established.status !== 200) throw new Error(`establish: ${established.status} ${established.text}`);
    conversationIds.push(established.body.conversationId);
  }
  return {
    conversationIds,
    async submitAll(perConversation, options = {}) {
      const concurrency = options.concurrency ?? 64;
      async function submit(conversationId: string, text: string): Promise<void> {
        const deadline = Date.now() + RETRY_BOUND_MS;
        for (;;) {
          const response = await client
            .post(`/inbound/customer/v1/direct/activity/${conversationId}`, {
              type: 'message',
              message: { type: 'text', text },
            })
            .catch((error: unknown) => ({ status: 0, text: String(error) }));
          if (response.status === 200) return;
          if (options.tolerant !== true || Date.now() > deadline) {
            throw new Error(`submit: ${response.status} ${response.text}`);
          }
          for (;;) {
            await pause(200);
            const listed = await client
              .get<{ message?: { text?: string } }[]>(`/api/v1/interactions/activities/${conversationId}`)
              .catch(() => undefined);
            if (listed?.status !== 200) {
              if (Date.now() > deadline) throw new Error(`the API did not come back: ${listed?.status}`);
              continue;
            }
            if (listed.body.some((a) => a.message?.text === text)) return;
            break;
          }
        }
      }
      let next = 0;
      async function lane(): Promise<void> {
        for (;;) {
          const index = next++;
          if (index >= conversationIds.length) return;
          const conversationId = conversationIds[index]!;
          for (let n = 0; n < perConversation; n++) await submit(conversationId, `${index}:${n}`);
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, conversationIds.length) }, lane));
    },
  };
}

export interface Tally {
  /** Distinct activities received. */
  distinct: number;
  /** Requests that repeated an activity already received. */
  duplicates: number;
  /** Conversations whose received sequence went backwards (a later activity before an earlier one). */
  outOfOrder: string[];
  /** Activities never received. */
  missing: number;
}

/**
 * Reads what the receiver got. Order is kept when, per conversation, the sequence numbers never go
 * down; an at-least-once re-send of the latest activity (after a crash) repeats it, never reorders.
 */
export function tally(receiver: Receiver, conversations: number, perConversation: number): Tally {
  const seen = new Map<number, number[]>();
  for (const request of receiver.requests) {
    const body = request.json<{ activity?: { message?: { text?: string } } }>();
    const [conversation, n] = String(body.activity?.message?.text).split(':').map(Number);
    const list = seen.get(conversation!) ?? [];
    list.push(n!);
    seen.set(conversation!, list);
  }
  let distinct = 0;
  let duplicates = 0;
  const outOfOrder: string[] = [];
  for (let c = 0; c < conversations; c++) {
    const list = seen.get(c) ?? [];
    const unique = new Set(list);
    distinct += unique.size;
    duplicates += list.length - unique.size;
    if (list.some((n, i) => i > 0 && n < list[i - 1]!)) outOfOrder.push(String(c));
  }
  return { distinct, duplicates, outOfOrder, missing: conversations * perConversation - distinct };
}

/** Resolves once `expected` distinct activities arrived, or rejects after `timeoutMs`. */
export async function waitForDistinct(
  receiver: Receiver,
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const texts = new Set<string>();
  let read = 0;
  for (;;) {
    for (; read < receiver.requests.length; read++) {
      texts.add(
        String(
          receiver.requests[read]!.json<{ activity?: { message?: { text?: string } } }>().activity?.message
            ?.text,
        ),
      );
    }
    if (texts.size >= expected) return;
    if (Date.now() > deadline)
      throw new Error(`only ${texts.size} of ${expected} activities arrived in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export { adminClient };
