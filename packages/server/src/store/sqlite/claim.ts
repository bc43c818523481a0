// Claiming deliveries on SQLite: fair between integrations, head of lane only, leased with a fence,
// and — for System integrations at first dispatch — batched with the lane's waiting deliveries into
// one body that is stored, so every retry sends the same bytes. A body of one activity is not stored:
// it is rebuilt at each attempt from what never changes (the activity's stored JSON, the conversation's
// properties, the delivery's ids and echo flag), so it is byte-identical without writing ~1 KiB per
// delivery into the WAL. "Dispatched before" is fence > 0 (every lease increments it).

import type { IntegrationConfiguration } from '../../domain/types.js';
import type { BodyEnvelope, ClaimedDelivery, ClaimRequest } from '../contract.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf } from './delivery-id.js';
import { CLAIM_ROWS } from './fanout.js';
import { LimitedStatement } from './limited.js';

interface HeadRow {
  seq: number;
  conversation_ref: number;
  conversation_id: string;
  echo: number;
  activity_seq: number;
  activity_count: number;
  attempt_count: number;
  budget_base: number;
  fence: number;
  body: string | null;
  created_at: number;
  /** The head's activity JSON and its conversation's properties (read with the head: one statement). */
  activity_json: string;
  properties: string;
  /** 1 when the lane holds more pending deliveries after the head (a System batch may take them). */
  more: number;
}

interface WaitingRow {
  seq: number;
  echo: number;
  dispatched: number;
  json: string;
}

interface Target {
  ref: number;
  integrationId: string;
  hubId: string;
  tenantId: string;
  channelId: string;
  configurationJson: string;
}

export function createClaims(ctx: SqliteContext) {
  const { db } = ctx;
  // A loose index scan: one seek per integration that has claimable heads, whatever their number.
  const nextReadyIntegration = db.prepare<[number], { integration_ref: number }>(
    `SELECT integration_ref FROM deliveries INDEXED BY deliveries_ready
     WHERE is_head = 1 AND held = 0 AND integration_ref > ? ORDER BY integration_ref LIMIT 1`,
  );
  const dueHeads = new LimitedStatement<[number, number], HeadRow>(
    db,
    `SELECT d.seq, d.conversation_ref, c.conversation_id, d.echo, d.activity_seq, d.activity_count,
            d.attempt_count, d.budget_base, d.fence, (SELECT body FROM delivery_bodies b WHERE b.seq = d.seq) AS body,
            d.created_at, a.json AS activity_json, c.properties,
            EXISTS (SELECT 1 FROM deliveries w INDEXED BY deliveries_lane
              WHERE w.conversation_ref = d.conversation_ref AND w.integration_ref = d.integration_ref
                AND w.status = 'pending' AND w.transport = 'webhook' AND w.seq > d.seq) AS more
     FROM deliveries d INDEXED BY deliveries_ready
       JOIN conversations c ON c.seq = d.conversation_ref
       JOIN activities a ON a.seq = d.activity_seq
     WHERE d.integration_ref = ? AND d.is_head = 1 AND d.held = 0 AND d.due_at <= ?
     ORDER BY d.due_at, d.seq`,
  );
  // Every head of a claim in one statement (the seqs as a JSON array); the new fence is the one read
  // with the head plus one, as nothing else writes inside this transaction.
  const leaseAll = db.prepare<[string, number, number, string]>(
    `UPDATE deliveries SET lease_owner = ?, lease_until = ?, due_at = ?, fence = fence + 1
     WHERE seq IN (SELECT value FROM json_each(?))`,
  );
  const setActivityCount = db.prepare<[number, number]>(
    'UPDATE deliveries SET activity_count = ? WHERE seq = ?',
  );
  const insertBody = db.prepare('INSERT INTO delivery_bodies (seq, body) VALUES (?, ?)');
  const target = db.prepare<
    [number],
    { integration_id: string; hub_id: string; tenant_id: string; channel_id: string; configuration: string }
  >('SELECT integration_id, hub_id, tenant_id, channel_id, configuration FROM integrations WHERE seq = ?');
  const waiting = new LimitedStatement<[number, number, number], WaitingRow>(
    db,
    `SELECT d.seq, d.echo, d.fence > 0 AS dispatched, a.json
     FROM deliveries d INDEXED BY deliveries_lane JOIN activities a ON a.seq = d.activity_seq
     WHERE d.conversation_ref = ? AND d.integration_ref = ? AND d.status = 'pending' AND d.transport = 'webhook'
       AND d.seq > ?
     ORDER BY d.seq`,
  );
  // Absorbed rows are contiguous in their lane (head.seq, last]: one range delete on the lane index.
  const deleteAbsorbed = db.prepare(
    `DELETE FROM deliveries INDEXED BY deliveries_lane
     WHERE conversation_ref = ? AND integration_ref = ? AND status = 'pending' AND transport = 'webhook'
       AND seq > ? AND seq <= ?`,
  );

  // Rotates the first integration served, so with more integrations than `limit` all get their turn.
  let cursor = 0;

  function readyIntegrations(): number[] {
    const refs: number[] = [];
    let after = 0;
    for (;;) {
      const row = nextReadyIntegration.get(after);
      if (row === undefined) break;
      refs.push(row.integration_ref);
      after = row.integration_ref;
    }
    const start = refs.findIndex((ref) => ref > cursor);
    return start <= 0 ? refs : [...refs.slice(start), ...refs.slice(0, start)];
  }

  /**
   * The body of a head: at first dispatch System heads absorb the lane's waiting deliveries (deleted);
   * later, a head that carries one activity is built again from the same parts (a batch's body is stored).
   */
  function bodyOf(t: Target, head: HeadRow, request: ClaimRequest, first: boolean) {
    const integrationId = t.integrationId;
    const shape = t.channelId === 'System' ? 'activities' : 'activity';
    const envelope: BodyEnvelope = {
      hubId: t.hubId,
      tenantId: t.tenantId,
      integrationId,
      conversationId: head.conversation_id,
      conversationPropertiesJson: head.properties,
      shape,
      echo: head.echo === 1,
    };
    const jsons = [head.activity_json];
    const absorbed: number[] = [];
    if (
      first &&
      head.more === 1 &&
      shape === 'activities' &&
      head.echo === 0 &&
      request.batchMaxActivities > 1
    ) {
      let bytes = Buffer.byteLength(jsons[0]!);
      for (const row of waiting.all(
        request.batchMaxActivities - 1,
        0,
        head.conversation_ref,
        t.ref,
        head.seq,
      )) {
        // Only deliveries never dispatched join a batch, and only contiguously, so lane order holds.
        if (row.dispatched === 1 || row.echo === 1) break;
        const size = Buffer.byteLength(row.json) + 1;
        if (bytes + size > request.batchMaxBytes) break;
        bytes += size;
        jsons.push(row.json);
        absorbed.push(row.seq);
      }
    }
    let body = request.buildBody(envelope, jsons);
    // The envelope adds bytes the estimate above ignores: drop trailing activities until it fits
    // (a single activity always goes, however large, so nothing is ever stuck).
    while (jsons.length > 1 && Buffer.byteLength(body) > request.batchMaxBytes) {
      jsons.pop();
      absorbed.pop();
      body = request.buildBody(envelope, jsons);
    }
    const last = absorbed[absorbed.length - 1];
    if (last !== undefined) deleteAbsorbed.run(head.conversation_ref, t.ref, head.seq, last);
    return { body, activityCount: jsons.length };
  }

  function claimNow(request: ClaimRequest): ClaimedDelivery[] {
    const claimed: ClaimedDelivery[] = [];
    // Deliveries submitted since get their rows first (in activity order), a bounded chunk per claim;
    // if more wait, the work signal brings the dispatcher back.
    if (ctx.fanouts.materialise(CLAIM_ROWS)) ctx.signalWork();
    if (request.limit <= 0) return claimed;
    const candidates: { t: Target; heads: HeadRow[]; room: number }[] = [];
    const refs = readyIntegrations();
    // First an equal share from each integration, then — only if that left the claim short — more
    // from those that had more: no claim reads rows it will not lease.
    const share = Math.max(1, Math.ceil(request.limit / Math.max(1, refs.length)));
    let found = 0;
    for (const ref of refs) {
      const row = target.get(ref);
      if (row === undefined) continue;
      const room = Math.min(
        request.limit,
        request.perIntegrationLimit - (request.inFlight.get(row.integration_id) ?? 0),
      );
      if (room <= 0) continue;
      const heads = dueHeads.all(Math.min(room, share), 0, ref, request.now);
      if (heads.length === 0) continue;
      found += heads.length;
      const t = {
        ref,
        integrationId: row.integration_id,
        hubId: row.hub_id,
        tenantId: row.tenant_id,
        channelId: row.channel_id,
        configurationJson: row.configuration,
      };
      candidates.push({ t, heads, room });
    }
    for (const c of candidates) {
      if (found >= request.limit) break;
      if (c.heads.length < share || c.room <= c.heads.length) continue;
      const more = dueHeads.all(
        Math.min(c.room, request.limit - found + c.heads.length) - c.heads.length,
        c.heads.length,
        c.t.ref,
        request.now,
      );
      c.heads.push(...more);
      found += more.length;
    }
    // Round robin, one head per integration per turn, so a huge backlog cannot starve the others.
    const picked: { t: Target; head: HeadRow }[] = [];
    for (let turn = 0; picked.length < request.limit; turn++) {
      let any = false;
      for (const c of candidates) {
        const head = c.heads[turn];
        if (head === undefined) continue;
        any = true;
        picked.push({ t: c.t, head });
        if (picked.length >= request.limit) break;
      }
      if (!any) break;
    }
    const configurations = new Map<number, IntegrationConfiguration>();
    const leaseUntil = request.now + request.leaseMs;
    const seqs: number[] = [];
    for (const { t, head } of picked) {
      const integrationId = t.integrationId;
      let config = configurations.get(t.ref);
      if (config === undefined) {
        config = JSON.parse(t.configurationJson) as IntegrationConfiguration;
        configurations.set(t.ref, config);
      }
      let fixed: { body: string; activityCount: number };
      if (head.body !== null) {
        fixed = { body: head.body, activityCount: head.activity_count };
      } else if (head.fence > 0) {
        // Dispatched before with one activity (a batch would have a stored body).
        fixed = bodyOf(t, head, request, false);
      } else {
        fixed = bodyOf(t, head, request, true);
        if (fixed.activityCount > 1) {
          insertBody.run(head.seq, fixed.body);
          setActivityCount.run(fixed.activityCount, head.seq);
        }
      }
      seqs.push(head.seq);
      const delivery: ClaimedDelivery = {
        deliveryId: deliveryIdOf(ctx.deliveryIdPrefix, head.seq),
        fence: head.fence + 1,
        attemptNumber: head.attempt_count - head.budget_base + 1,
        integrationId,
        hubId: t.hubId,
        tenantId: t.tenantId,
        conversationId: head.conversation_id,
        webhookUrl: config.webhookUrl ?? '',
        publicSigningKey: config.publicSigningKey ?? '',
        privateSigningKey: config.privateSigningKey ?? '',
        body: fixed.body,
        activityCount: fixed.activityCount,
        createdAt: head.created_at,
      };
      if (typeof config.retrySchedule === 'string') delivery.retrySchedule = config.retrySchedule;
      if (typeof config.deliveryTimeout === 'string') delivery.deliveryTimeout = config.deliveryTimeout;
      claimed.push(delivery);
      cursor = t.ref;
    }
    if (seqs.length > 0) leaseAll.run(request.owner, leaseUntil, leaseUntil, JSON.stringify(seqs));
    return claimed;
  }

  return {
    claimDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
      // Not durable: a lease lost to a power cut only means the delivery is claimed again (at least once).
      return ctx.writes.enqueue(() => claimNow(request), false);
    },
  };
}
