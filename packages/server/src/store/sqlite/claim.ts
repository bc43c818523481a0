// Claiming deliveries on SQLite: fair between integrations, head of lane only, leased with a fence
// (or, for the process's dispatcher, fresh deliveries sent as flights without a row: handoff.ts),
// and — for System integrations at first dispatch — batched with the lane's waiting deliveries into
// one body that is stored, so every retry sends the same bytes. A body of one activity is not stored:
// it is rebuilt at each attempt from what never changes (the activity's stored JSON, the conversation's
// properties, the delivery's ids and echo flag), so it is byte-identical without writing ~1 KiB per
// delivery into the WAL. "Dispatched before" is fence > 0 (every lease increments it).

import type { IntegrationConfiguration } from '../../domain/types.js';
import { leaseUntilOf, type BodyEnvelope, type ClaimedDelivery, type ClaimRequest } from '../contract.js';
import type { SqliteContext } from './context.js';
import { deliveryIdOf } from './delivery-id.js';
import { CLAIM_ROWS, type FanoutRow, type FanoutTarget, type FreshWindow } from './fanout.js';
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

interface FlightParts {
  activity_json: string;
  conversation_id: string;
  properties: string;
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
  // A flight's parts (the activity of its fanouts row and its conversation), read once per fanouts row.
  const flightParts = db.prepare<[number, number], FlightParts>(
    `SELECT a.json AS activity_json, c.conversation_id, c.properties
     FROM activities a, conversations c WHERE a.seq = ? AND c.seq = ?`,
  );
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

  /**
   * Integrations with claimable heads (`withHeads`), plus `more` (with fresh candidates), rotated by
   * the cursor.
   */
  function readyIntegrations(more: Iterable<number>, withHeads: Set<number>): number[] {
    const found = new Set<number>(more);
    let after = 0;
    for (;;) {
      const row = nextReadyIntegration.get(after);
      if (row === undefined) break;
      found.add(row.integration_ref);
      withHeads.add(row.integration_ref);
      after = row.integration_ref;
    }
    const refs = [...found].sort((a, b) => a - b);
    const start = refs.findIndex((ref) => ref > cursor);
    return start <= 0 ? refs : [...refs.slice(start), ...refs.slice(0, start)];
  }

  function envelopeOf(t: Target, conversationId: string, properties: string, echo: number): BodyEnvelope {
    return {
      hubId: t.hubId,
      tenantId: t.tenantId,
      integrationId: t.integrationId,
      conversationId,
      conversationPropertiesJson: properties,
      shape: t.channelId === 'System' ? 'activities' : 'activity',
      echo: echo === 1,
    };
  }

  /** The integration a claim sends to, read once per claim. */
  function targetOf(ref: number, targets: Map<number, Target | null>): Target | undefined {
    let t = targets.get(ref);
    if (t === undefined) {
      const row = target.get(ref);
      t =
        row === undefined
          ? null
          : {
              ref,
              integrationId: row.integration_id,
              hubId: row.hub_id,
              tenantId: row.tenant_id,
              channelId: row.channel_id,
              configurationJson: row.configuration,
            };
      targets.set(ref, t);
    }
    return t ?? undefined;
  }

  function configurationOf(t: Target, configurations: Map<number, IntegrationConfiguration>) {
    let config = configurations.get(t.ref);
    if (config === undefined) {
      config = JSON.parse(t.configurationJson) as IntegrationConfiguration;
      configurations.set(t.ref, config);
    }
    return config;
  }

  function claimedOf(
    t: Target,
    config: IntegrationConfiguration,
    seq: number,
    fence: number,
    attemptNumber: number,
    conversationId: string,
    fixed: { body: string; activityCount: number },
    createdAt: number,
  ): ClaimedDelivery {
    const delivery: ClaimedDelivery = {
      deliveryId: deliveryIdOf(ctx.deliveryIdPrefix, seq),
      fence,
      attemptNumber,
      integrationId: t.integrationId,
      hubId: t.hubId,
      tenantId: t.tenantId,
      conversationId,
      webhookUrl: config.webhookUrl ?? '',
      publicSigningKey: config.publicSigningKey ?? '',
      privateSigningKey: config.privateSigningKey ?? '',
      body: fixed.body,
      activityCount: fixed.activityCount,
      createdAt,
    };
    if (typeof config.retrySchedule === 'string') delivery.retrySchedule = config.retrySchedule;
    if (typeof config.deliveryTimeout === 'string') delivery.deliveryTimeout = config.deliveryTimeout;
    return delivery;
  }

  /**
   * The body of a head: at first dispatch System heads absorb the lane's waiting deliveries (deleted);
   * later, a head that carries one activity is built again from the same parts (a batch's body is stored).
   */
  function bodyOf(t: Target, head: HeadRow, request: ClaimRequest, first: boolean) {
    const envelope = envelopeOf(t, head.conversation_id, head.properties, head.echo);
    const shape = envelope.shape;
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
    // The process's dispatcher (the hand-off's owner) reads the fanouts committed since its last claim
    // and may send fresh deliveries as flights (handoff.ts); any other store writes their rows first
    // (in activity order, a bounded chunk per claim; if more wait, the work signal brings the
    // dispatcher back).
    const owner = ctx.handoff.own();
    const targets = new Map<number, Target | null>();
    let fresh: FreshWindow | undefined;
    if (owner) {
      expireFlights(request.now);
      fresh = ctx.fanouts.readFresh(CLAIM_ROWS, {
        limit: request.limit,
        now: request.now,
        of: (ref) => {
          const t = targetOf(ref, targets);
          return t === undefined ? 0 : roomOf(request, t);
        },
      });
    } else if (ctx.fanouts.materialise(CLAIM_ROWS)) ctx.signalWork();
    return request.limit > 0 || fresh !== undefined ? claim(request, fresh, targets) : [];
  }

  /** How many more deliveries of an integration the claim may take. */
  function roomOf(request: ClaimRequest, t: Target): number {
    return Math.min(
      request.limit,
      request.perIntegrationLimit - (request.inFlight.get(t.integrationId) ?? 0),
    );
  }

  /** Flights whose outcome never came (it could not be recorded) are due again, as after a lease. */
  function expireFlights(now: number): void {
    const heldOf = ctx.fanouts.heldCache();
    for (const flight of ctx.handoff.expired(now)) {
      ctx.fanouts.writeFlight(flight, 'pending', now, 0, heldOf);
      if (ctx.handoff.resolve(flight)) ctx.fanouts.taken(flight.firstSeq);
      ctx.signalWork();
    }
  }

  /**
   * Picks up to `limit` deliveries: due heads and fresh candidates of each integration (heads first),
   * one integration per turn, each within its room. Heads are leased; candidates become flights.
   */
  function claim(
    request: ClaimRequest,
    fresh: FreshWindow | undefined,
    targets: Map<number, Target | null>,
  ): ClaimedDelivery[] {
    const claimed: ClaimedDelivery[] = [];
    const configurations = new Map<number, IntegrationConfiguration>();
    const freshOf = new Map<number, { f: FanoutRow; t: FanoutTarget }[]>();
    for (const { f, candidates } of fresh?.fanouts ?? []) {
      for (const t of candidates) {
        let list = freshOf.get(t[1]);
        if (list === undefined) freshOf.set(t[1], (list = []));
        list.push({ f, t });
      }
    }
    const candidates: {
      t: Target;
      heads: HeadRow[];
      fresh: { f: FanoutRow; t: FanoutTarget }[];
      room: number;
    }[] = [];
    const withHeads = new Set<number>();
    const refs = readyIntegrations(freshOf.keys(), withHeads);
    // First an equal share from each integration, then — only if that left the claim short — more
    // from those that had more: no claim reads rows it will not lease.
    const share = Math.max(1, Math.ceil(request.limit / Math.max(1, refs.length)));
    let found = 0;
    for (const ref of refs) {
      const t = targetOf(ref, targets);
      if (t === undefined) continue;
      const room = roomOf(request, t);
      if (room <= 0) continue;
      // An integration without an unheld head (read in this transaction) has nothing due: no query.
      const heads = withHeads.has(ref) ? dueHeads.all(Math.min(room, share), 0, ref, request.now) : [];
      const freshOfRef = freshOf.get(ref) ?? [];
      if (heads.length === 0 && freshOfRef.length === 0) continue;
      found += heads.length + freshOfRef.length;
      candidates.push({ t, heads, fresh: freshOfRef, room });
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
    // Round robin, one delivery per integration per turn, so a huge backlog cannot starve the others.
    const picked: { t: Target; head: HeadRow }[] = [];
    const flights: { t: Target; f: FanoutRow; target: FanoutTarget }[] = [];
    let count = 0;
    for (let turn = 0; count < request.limit; turn++) {
      let any = false;
      for (const c of candidates) {
        if (turn >= c.room) continue;
        const head = c.heads[turn];
        const next = head === undefined ? c.fresh[turn - c.heads.length] : undefined;
        if (head === undefined && next === undefined) continue;
        any = true;
        if (head !== undefined) picked.push({ t: c.t, head });
        else flights.push({ t: c.t, f: next!.f, target: next!.t });
        if (++count >= request.limit) break;
      }
      if (!any) break;
    }
    leaseHeads(request, picked, claimed, configurations);
    if (fresh !== undefined) sendFlights(request, fresh, flights, claimed, configurations);
    return claimed;
  }

  function leaseHeads(
    request: ClaimRequest,
    picked: { t: Target; head: HeadRow }[],
    claimed: ClaimedDelivery[],
    configurations: Map<number, IntegrationConfiguration>,
  ): void {
    // Heads grouped by the end of their lease (one group unless an integration sets its own timeout).
    const byLease = new Map<number, number[]>();
    for (const { t, head } of picked) {
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
      const configuration = configurationOf(t, configurations);
      const leaseUntil = leaseUntilOf(request, configuration.deliveryTimeout);
      const group = byLease.get(leaseUntil);
      if (group === undefined) byLease.set(leaseUntil, [head.seq]);
      else group.push(head.seq);
      claimed.push(
        claimedOf(
          t,
          configuration,
          head.seq,
          head.fence + 1,
          head.attempt_count - head.budget_base + 1,
          head.conversation_id,
          fixed,
          head.created_at,
        ),
      );
      cursor = t.ref;
    }
    for (const [leaseUntil, seqs] of byLease) {
      leaseAll.run(request.owner, leaseUntil, leaseUntil, JSON.stringify(seqs));
    }
  }

  /** The picked candidates become flights (one activity each: their lanes had nothing waiting). */
  function sendFlights(
    request: ClaimRequest,
    fresh: FreshWindow,
    picked: { t: Target; f: FanoutRow; target: FanoutTarget }[],
    claimed: ClaimedDelivery[],
    configurations: Map<number, IntegrationConfiguration>,
  ): void {
    const seqs = new Set<number>();
    let parts: { activitySeq: number; row: FlightParts } | undefined;
    for (const { t, f, target } of picked) {
      const [seq, integrationRef, echo] = target;
      const configuration = configurationOf(t, configurations);
      const leaseUntil = leaseUntilOf(request, configuration.deliveryTimeout);
      ctx.handoff.add({
        seq,
        integrationRef,
        conversationRef: f.conversation_ref,
        echo,
        activitySeq: f.activity_seq,
        createdAt: f.created_at,
        firstSeq: f.first_seq,
        leaseUntil,
      });
      seqs.add(seq);
      if (parts?.activitySeq !== f.activity_seq) {
        parts = { activitySeq: f.activity_seq, row: flightParts.get(f.activity_seq, f.conversation_ref)! };
      }
      const { row } = parts;
      const envelope = envelopeOf(t, row.conversation_id, row.properties, echo);
      const fixed = { body: request.buildBody(envelope, [row.activity_json]), activityCount: 1 };
      claimed.push(claimedOf(t, configuration, seq, 1, 1, row.conversation_id, fixed, f.created_at));
      cursor = t.ref;
    }
    ctx.fanouts.settle(fresh, (seq) => seqs.has(seq));
  }

  return {
    claimDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]> {
      // Not durable: a lease lost to a power cut only means the delivery is claimed again (at least once).
      return ctx.writes.enqueue(() => claimNow(request), false);
    },
  };
}
