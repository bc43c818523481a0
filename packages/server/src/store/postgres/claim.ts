// Claiming due lane heads on PostgreSQL: FOR UPDATE SKIP LOCKED over lanes, leases, fences, batching.

import type pg from 'pg';
import type { Guid } from '../../domain/types.js';
import { leaseUntilOf, type BodyEnvelope, type ClaimRequest, type ClaimedDelivery } from '../contract.js';
import { PROMOTE_SQL, type PgContext } from './context.js';
import type { Row } from './rows.js';
import { inTransaction } from './tx.js';

interface Head {
  deliveryId: Guid;
  integrationId: Guid;
  conversationId: Guid;
  hubId: Guid;
  tenantId: Guid;
  echo: boolean;
  eventId: number;
  seq: number;
  body: string | null;
  fence: number;
  attemptCount: number;
  attemptBase: number;
  createdAt: number;
  eventIds: number[];
  activityJson: string | null;
  /** The conversation's properties JSON, loaded only for a head dispatched for the first time. */
  propertiesJson: string | null;
  channelId: string;
  configuration: Record<string, unknown>;
}

interface LockedLane {
  integrationId: Guid;
  conversationId: Guid;
  /** The head as loaded, undefined when the lane's head is no longer pending (never expected). */
  head: Head | undefined;
}

/**
 * Why lanes are locked with SKIP LOCKED: N processes claim at once; each takes lane rows nobody else
 * holds and moves their due_at to the lease expiry before committing, so a lane (and therefore its
 * head) is claimed by one process at a time and not again while the lease is live. Due lanes are
 * ranked per integration and taken rank by rank (round robin), so a large backlog of one endpoint
 * cannot starve the others, and the per-integration cap is a bound on the rank.
 */
export async function claimDeliveries(ctx: PgContext, request: ClaimRequest): Promise<ClaimedDelivery[]> {
  if (request.limit <= 0) return [];
  return inTransaction(ctx.pool, async (client) => {
    const lanes = await lockDueLanes(ctx, client, request);
    if (lanes.length === 0) return [];
    const heads = lanes.flatMap((l) => (l.head === undefined ? [] : [l.head]));
    // A lane whose head is no longer pending (never expected) gets its next head promoted instead.
    const empty = lanes.filter((l) => l.head === undefined);
    const fresh = heads.filter((h) => h.body === null);
    const built = fresh.length > 0 ? await buildBodies(client, request, fresh) : new Map<Guid, Built>();
    // Each head's lease (longer where its integration sets its own attempt timeout).
    const leases = heads.map((h) => leaseUntilOf(request, h.configuration['deliveryTimeout']));
    const absorbed = [...built.values()].flatMap((b) => b.absorbed);
    const { rows } = await client.query(
      `WITH u AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $5::bigint[]) AS u(id, body, event_ids, lease)
       ), upd AS (
         UPDATE deliveries d SET fence = d.fence + 1, lease_owner = $4, lease_until = u.lease,
           body = COALESCE(u.body, d.body), event_ids = COALESCE(u.event_ids::bigint[], d.event_ids)
         FROM u WHERE d.delivery_id = u.id
         RETURNING d.delivery_id, d.fence
       ), gone AS (
         DELETE FROM deliveries WHERE delivery_id = ANY($6::text[])
       ), leased AS (
         UPDATE lanes l SET due_at = x.lease
         FROM unnest($7::text[], $8::text[], $5::bigint[]) AS x(integration, conv, lease)
         WHERE l.integration_id = x.integration AND l.conversation_id = x.conv
       ), repaired AS (
         UPDATE lanes l SET ${PROMOTE_SQL} FROM unnest($9::text[], $10::text[]) AS x(integration, conv)
         WHERE l.integration_id = x.integration AND l.conversation_id = x.conv
       )
       SELECT * FROM upd`,
      [
        heads.map((h) => h.deliveryId),
        heads.map((h) => built.get(h.deliveryId)?.body ?? null),
        heads.map((h) => {
          const b = built.get(h.deliveryId);
          return b === undefined ? null : `{${b.eventIds.join(',')}}`;
        }),
        request.owner,
        leases,
        absorbed,
        heads.map((h) => h.integrationId),
        heads.map((h) => h.conversationId),
        empty.map((l) => l.integrationId),
        empty.map((l) => l.conversationId),
      ],
    );
    const fences = new Map((rows as Row[]).map((r) => [r['delivery_id'] as string, Number(r['fence'])]));
    return heads.map((head): ClaimedDelivery => {
      const config = head.configuration;
      const fixed = built.get(head.deliveryId);
      const claimed: ClaimedDelivery = {
        deliveryId: head.deliveryId,
        fence: fences.get(head.deliveryId) ?? head.fence + 1,
        attemptNumber: head.attemptCount - head.attemptBase + 1,
        integrationId: head.integrationId,
        hubId: head.hubId,
        tenantId: head.tenantId,
        conversationId: head.conversationId,
        webhookUrl: typeof config['webhookUrl'] === 'string' ? config['webhookUrl'] : '',
        publicSigningKey: typeof config['publicSigningKey'] === 'string' ? config['publicSigningKey'] : '',
        privateSigningKey: typeof config['privateSigningKey'] === 'string' ? config['privateSigningKey'] : '',
        body: fixed?.body ?? (head.body as string),
        activityCount: fixed?.eventIds.length ?? head.eventIds.length,
        createdAt: head.createdAt,
      };
      if (typeof config['retrySchedule'] === 'string') claimed.retrySchedule = config['retrySchedule'];
      if (typeof config['deliveryTimeout'] === 'string') claimed.deliveryTimeout = config['deliveryTimeout'];
      return claimed;
    });
  });
}

/**
 * The integration served last by this store's claims: within a rank, integrations are taken in id
 * order starting after it, so claims of one free slot at a time take turns between integrations
 * instead of always serving the one with the oldest due lane (a large backlog starved the others).
 */
const cursors = new WeakMap<PgContext, string>();

/** The last integration served: of the highest rank claimed, the last in the rotated order. */
function advanceCursor(ctx: PgContext, cursor: string, rows: Row[]): void {
  let last: { rank: number; after: boolean; id: string } | undefined;
  for (const r of rows) {
    const id = r['lane_integration'] as string;
    const key = { rank: Number(r['rank']), after: id > cursor, id };
    if (
      last === undefined ||
      key.rank > last.rank ||
      (key.rank === last.rank && (key.after !== last.after ? !key.after : key.id > last.id))
    )
      last = key;
  }
  if (last !== undefined) cursors.set(ctx, last.id);
}

/**
 * One round trip locks the due lanes and loads their heads with what a claim needs. Why it is safe to
 * read the heads in the same statement: the heads are read from the statement's snapshot, but a lane
 * changed after that snapshot (by another process: its head claimed and then rescheduled, due again
 * already, or finished and the next promoted) is returned in its new version by the lock, and every
 * change to a head comes with a change to its lane. So a lane whose locked version is not the one the
 * snapshot holds (another xmin) is left for the next claim rather than claimed from stale rows: its
 * head could have had its body fixed, its batch absorbed and its attempts counted meanwhile.
 */
async function lockDueLanes(
  ctx: PgContext,
  client: pg.PoolClient,
  request: ClaimRequest,
): Promise<LockedLane[]> {
  const cursor = cursors.get(ctx) ?? '';
  const inFlight: Record<string, number> = {};
  for (const [integrationId, count] of request.inFlight) inFlight[integrationId] = count;
  const { rows } = await client.query(
    `WITH locked AS (
       SELECT l.integration_id, l.conversation_id, l.head_id, l.xmin AS lane_xmin, r.rank FROM lanes l
       JOIN (
         SELECT l2.integration_id, l2.conversation_id,
           row_number() OVER (PARTITION BY l2.integration_id ORDER BY l2.due_at, l2.conversation_id) AS rank
         FROM lanes l2
         JOIN integrations i ON i.integration_id = l2.integration_id
         JOIN hubs h ON h.hub_id = i.hub_id
         WHERE l2.due_at <= $1 AND i.status_id <> 3002 AND h.status_id <> 2002
       ) r ON r.integration_id = l.integration_id AND r.conversation_id = l.conversation_id
       WHERE r.rank <= $3 - COALESCE(($4::jsonb ->> r.integration_id)::int, 0) AND l.due_at <= $1
       ORDER BY r.rank, l.integration_id COLLATE "C" <= $5, l.integration_id COLLATE "C"
       LIMIT $2
       FOR UPDATE OF l SKIP LOCKED
     )
     SELECT locked.integration_id AS lane_integration, locked.conversation_id AS lane_conversation, locked.rank,
       s.integration_id IS NOT NULL AS lane_current, h.delivery_id, h.hub_id, h.tenant_id, h.echo,
       h.event_id, h.seq, h.body, h.fence, h.attempt_count, h.attempt_base, h.created_at, h.event_ids, a.activity_json, c.properties, i.channel_id, i.configuration
     FROM locked
     LEFT JOIN lanes s ON s.integration_id = locked.integration_id
       AND s.conversation_id = locked.conversation_id AND s.xmin = locked.lane_xmin
     LEFT JOIN deliveries h ON h.delivery_id = locked.head_id AND h.status = 'pending'
     LEFT JOIN activities a ON h.body IS NULL AND a.conversation_id = h.conversation_id AND a.event_id = h.event_id
     LEFT JOIN conversations c ON h.body IS NULL AND c.conversation_id = locked.conversation_id
     LEFT JOIN integrations i ON i.integration_id = locked.integration_id`,
    [request.now, request.limit, request.perIntegrationLimit, JSON.stringify(inFlight), cursor],
  );
  advanceCursor(ctx, cursor, rows as Row[]);
  return (rows as Row[]).flatMap((r): LockedLane[] => {
    // Changed since the snapshot: left as it is (locked until this claim ends, due again after).
    if (r['lane_current'] !== true) return [];
    const integrationId = r['lane_integration'] as string;
    const conversationId = r['lane_conversation'] as string;
    if (r['delivery_id'] === null || r['channel_id'] === null)
      return [{ integrationId, conversationId, head: undefined }];
    const lane: LockedLane = {
      integrationId,
      conversationId,
      head: {
        deliveryId: r['delivery_id'] as string,
        integrationId,
        conversationId,
        hubId: r['hub_id'] as string,
        tenantId: r['tenant_id'] as string,
        echo: r['echo'] as boolean,
        eventId: Number(r['event_id']),
        seq: Number(r['seq']),
        body: r['body'] as string | null,
        fence: Number(r['fence']),
        attemptCount: Number(r['attempt_count']),
        attemptBase: Number(r['attempt_base']),
        createdAt: Number(r['created_at']),
        eventIds: (r['event_ids'] as unknown[]).map(Number),
        activityJson: r['activity_json'] as string | null,
        propertiesJson: r['properties'] as string | null,
        channelId: r['channel_id'] as string,
        configuration: JSON.parse(r['configuration'] as string) as Record<string, unknown>,
      },
    };
    return [lane];
  });
}

interface Built {
  body: string;
  eventIds: number[];
  absorbed: Guid[];
}

/**
 * First dispatch: the body is fixed now. A System head absorbs the waiting deliveries right behind
 * it in its lane (never dispatched, same echo flag), in eventId order, up to the activity and byte
 * caps; they stop existing on their own and travel inside the head from now on.
 */
async function buildBodies(
  client: pg.PoolClient,
  request: ClaimRequest,
  fresh: Head[],
): Promise<Map<Guid, Built>> {
  const system = fresh.filter((h) => h.channelId === 'System' && !h.echo);
  const followers = new Map<Guid, Row[]>();
  if (system.length > 0 && request.batchMaxActivities > 1) {
    const { rows } = await client.query(
      `SELECT u.head, f.* FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
         AS u(head, integration, conv, head_event, head_seq)
       CROSS JOIN LATERAL (
         SELECT d.delivery_id, d.echo, d.body IS NULL AND d.attempt_count = 0 AS fresh, d.event_id,
           d.seq, a.activity_json
         FROM deliveries d
         JOIN activities a ON a.conversation_id = d.conversation_id AND a.event_id = d.event_id
         WHERE d.integration_id = u.integration AND d.conversation_id = u.conv
           AND d.status = 'pending' AND d.transport = 'webhook'
           AND (d.event_id, d.seq) > (u.head_event, u.head_seq)
         ORDER BY d.event_id, d.seq LIMIT $6
       ) f`,
      [
        system.map((h) => h.deliveryId),
        system.map((h) => h.integrationId),
        system.map((h) => h.conversationId),
        system.map((h) => h.eventId),
        system.map((h) => h.seq),
        request.batchMaxActivities - 1,
      ],
    );
    for (const row of rows as Row[]) {
      const list = followers.get(row['head'] as string) ?? [];
      list.push(row);
      followers.set(row['head'] as string, list);
    }
  }
  const built = new Map<Guid, Built>();
  for (const head of fresh) {
    const shape = head.channelId === 'System' ? 'activities' : 'activity';
    const jsons = [head.activityJson ?? '{}'];
    const eventIds = [...head.eventIds];
    const absorbed: Guid[] = [];
    let bytes = Buffer.byteLength(jsons[0] as string);
    const queue = (followers.get(head.deliveryId) ?? []).sort(
      (x, y) => Number(x['event_id']) - Number(y['event_id']) || Number(x['seq']) - Number(y['seq']),
    );
    for (const row of queue) {
      // Only deliveries never dispatched join a batch, and only contiguously, so lane order holds.
      if (row['fresh'] !== true || row['echo'] !== false) break;
      const json = row['activity_json'] as string;
      const size = Buffer.byteLength(json) + 1;
      if (jsons.length >= request.batchMaxActivities || bytes + size > request.batchMaxBytes) break;
      jsons.push(json);
      eventIds.push(Number(row['event_id']));
      absorbed.push(row['delivery_id'] as string);
      bytes += size;
    }
    const envelope: BodyEnvelope = {
      hubId: head.hubId,
      tenantId: head.tenantId,
      integrationId: head.integrationId,
      conversationId: head.conversationId,
      conversationPropertiesJson: head.propertiesJson ?? '{"profile":{},"additional":{}}',
      shape,
      echo: head.echo,
    };
    let body = request.buildBody(envelope, jsons);
    // The envelope adds bytes the estimate ignores: drop trailing activities until the body fits
    // (a single activity always goes, however large, so nothing is ever stuck).
    while (jsons.length > 1 && Buffer.byteLength(body) > request.batchMaxBytes) {
      jsons.pop();
      eventIds.pop();
      absorbed.pop();
      body = request.buildBody(envelope, jsons);
    }
    built.set(head.deliveryId, { body, eventIds, absorbed });
  }
  return built;
}
