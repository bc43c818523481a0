// Lazy fan-out of webhook deliveries on SQLite. A submit stores its routed webhook targets as one
// `fanouts` row next to the activity (migration 0004) — an append whatever the number of targets — and
// is answered once that is durable: the deliveries are committed then, in compact form. Their rows
// (one per integration, in the lanes) are written from it by `materialise`, oldest activity first, at
// the start of every claim and before any read of the delivery log, so nothing above the store can tell
// the difference. Lane order holds because every webhook delivery goes through here in activity order.
// The process's dispatcher reads them with `readFresh` instead and may send fresh ones before they have
// rows (flights, handoff.ts); the rows up to its watermark are then written as leased heads.
//
// A delivery's seq is fixed at submit, from a counter in the database (allocate), so submit can answer
// with the delivery ids and seq order is submit order. A fanouts row is keyed by its first seq.

import type { Database, Statement } from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
import { type Flight, HANDOFF_OWNER, type Handoff } from './handoff.js';
import { LimitedStatement } from './limited.js';

/** A webhook target as stored: [delivery seq, integration_ref, echo 0|1]. */
export type FanoutTarget = [number, number, number];

/** A fanouts row read by the hand-off's owner, and its targets that may become flights. */
export interface FreshFanout {
  f: FanoutRow;
  targets: FanoutTarget[];
  candidates: FanoutTarget[];
}

/** What the dispatcher has room for: free slots overall, and per integration (by integration_ref). */
export interface FreshRoom {
  limit: number;
  of: (ref: number) => number;
  /** The claim's clock (fanouts' created_at is on the same clock). */
  now: number;
}

/**
 * How long fanouts may wait beyond the end of a claim's window (readFresh) before a claim reads the
 * whole window again: the longest a fresh delivery of one integration waits behind another's burst
 * only because the burst was submitted first. (Measured: at full concurrency the dispatcher lagged its
 * submissions by 10–50 ms now and then; at 10 ms, 30 % of a burst's deliveries went through rows.)
 */
export const FAIR_WAIT_MS = 50;

export interface FreshWindow {
  fanouts: FreshFanout[];
  heldOf: (ref: number) => boolean | null;
  /** A row written for the window is a claimable head. */
  signal: boolean;
}

export interface FanoutRow {
  first_seq: number;
  activity_seq: number;
  conversation_ref: number;
  created_at: number;
  targets: string;
}

/** Delivery rows written per transaction when catching up (a claim writes at most CLAIM_ROWS). */
const CATCH_UP_ROWS = 8192;
export const CLAIM_ROWS = 16384;
/** Fanouts rows read per statement while materialising. */
const READ_FANOUTS = 256;

export class Fanouts {
  private readonly insert: Statement;
  private readonly oldest: Statement<[number, number], FanoutRow>;
  private readonly fresh: LimitedStatement<[number], FanoutRow>;
  private readonly anyAfter: Statement<[number, number], { one: number }>;
  private readonly remove: Statement<[number]>;
  private readonly removeOne: Statement<[number]>;
  private readonly keepTargets: Statement<[string, number]>;
  private readonly hasRow: Statement<[number], { one: number }>;
  /**
   * The newest fanouts row when this store began to take flights: rows up to it may have been taken by
   * an owner before a crash, and a flight of theirs may have its row (its outcome) already.
   */
  private inherited: number | undefined;
  private readonly laneHasPending: Statement<[number, number], { one: number }>;
  private readonly leased: Statement;
  private readonly flightRow: Statement;
  private readonly newest: Statement<[], { m: number | null }>;
  private readonly waitingBefore: Statement<[number], { first_seq: number }>;
  private readonly readNext: Statement<[], { next: number }>;
  private readonly writeNext: Statement<[number]>;
  /** The counter inside the current transaction: read at its first allocation, written at its commit. */
  private counter: { transaction: number; next: number } | undefined;
  private readonly earliestCreated: Statement<[number], { created_at: number }>;
  private readonly status: Statement<[number], { held: number }>;
  private readonly cancelled: Statement;
  private readonly inserts: Statement[] = [];

  constructor(
    private readonly db: Database,
    private readonly writes: GroupCommit,
    private readonly signalWork: () => void,
    private readonly handoff: Handoff,
  ) {
    this.insert = db.prepare(
      'INSERT INTO fanouts (first_seq, activity_seq, conversation_ref, created_at, targets) VALUES (?, ?, ?, ?, ?)',
    );
    // Literal LIMITs: a bound one makes SQLite prepare the statement again at each run (limited.ts).
    this.oldest = db.prepare(
      `SELECT first_seq, activity_seq, conversation_ref, created_at, targets FROM fanouts
       WHERE first_seq > ? AND first_seq <= ? ORDER BY first_seq LIMIT ${READ_FANOUTS}`,
    );
    // The fresh window reads about as many rows as the dispatcher has room for (a power of two).
    this.fresh = new LimitedStatement(
      db,
      `SELECT first_seq, activity_seq, conversation_ref, created_at, targets FROM fanouts
       WHERE first_seq > ? ORDER BY first_seq`,
    );
    this.anyAfter = db.prepare(
      'SELECT 1 AS one FROM fanouts WHERE first_seq > ? AND first_seq <= ? ORDER BY first_seq LIMIT 1',
    );
    this.remove = db.prepare('DELETE FROM fanouts WHERE first_seq <= ?');
    this.removeOne = db.prepare('DELETE FROM fanouts WHERE first_seq = ?');
    this.keepTargets = db.prepare('UPDATE fanouts SET targets = ? WHERE first_seq = ?');
    this.hasRow = db.prepare('SELECT 1 AS one FROM deliveries WHERE seq = ?');
    this.laneHasPending = db.prepare(
      `SELECT 1 AS one FROM deliveries INDEXED BY deliveries_lane
       WHERE conversation_ref = ? AND integration_ref = ? AND status = 'pending' AND transport = 'webhook' LIMIT 1`,
    );
    // A taken delivery whose flight has no row yet, written by a store that does not hold it: a head
    // leased until the latest flight's lease, fence 1 (the flight's), so its outcome applies to it.
    this.leased = db.prepare(
      `INSERT OR IGNORE INTO deliveries (seq, integration_ref, conversation_ref, transport, echo, activity_seq,
         status, held, is_head, due_at, next_attempt_at, created_at, fence, lease_owner, lease_until)
       VALUES (?, ?, ?, 'webhook', ?, ?, 'pending', ?, 1, ?, ?, ?, 1, '${HANDOFF_OWNER}', ?)`,
    );
    this.newest = db.prepare('SELECT MAX(first_seq) AS m FROM fanouts');
    this.waitingBefore = db.prepare(
      'SELECT first_seq FROM fanouts WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
    );
    this.flightRow = db.prepare(
      `INSERT OR IGNORE INTO deliveries (seq, integration_ref, conversation_ref, transport, echo, activity_seq,
         status, held, is_head, due_at, next_attempt_at, attempt_count, fence, created_at)
       VALUES (?, ?, ?, 'webhook', ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    );
    this.earliestCreated = db.prepare(
      'SELECT created_at FROM fanouts WHERE first_seq > ? ORDER BY first_seq LIMIT 1',
    );
    this.readNext = db.prepare('SELECT next FROM delivery_seqs WHERE id = 1');
    this.writeNext = db.prepare('UPDATE delivery_seqs SET next = ? WHERE id = 1');
    // held: the integration or its hub is paused now; no row: the integration was deleted.
    this.status = db.prepare(
      `SELECT (i.status_id = 3002 OR COALESCE(h.status_id, 2000) = 2002) AS held
       FROM integrations i LEFT JOIN hubs h ON h.hub_id = i.hub_id WHERE i.seq = ?`,
    );
    this.cancelled = db.prepare(
      `INSERT OR IGNORE INTO deliveries (seq, integration_ref, conversation_ref, transport, echo, activity_seq,
         status, held, is_head, created_at)
       VALUES (?, ?, ?, 'webhook', ?, ?, 'cancelled', 0, 0, ?)`,
    );
  }

  /**
   * Hands out `count` consecutive delivery seqs (inside a write transaction); returns the first. The
   * counter is read once per transaction and written back once, just before its commit (a submit
   * undone inside the transaction leaves a gap, never a reused seq). A transaction begun again after
   * a rolled-back one (group-commit.ts) reads it again — another process may have taken seqs in
   * between — and still starts past every seq this connection handed out.
   */
  allocate(count: number): number {
    const transaction = this.writes.transaction;
    let counter = this.counter;
    if (counter === undefined || counter.transaction !== transaction) {
      const c = { transaction, next: Math.max(this.readNext.get()!.next, counter?.next ?? 0) };
      this.counter = counter = c;
      this.writes.atCommit(() => this.writeNext.run(c.next));
    }
    const first = counter.next;
    counter.next += count;
    return first;
  }

  /** Stores an activity's webhook targets (inside the submit's write transaction); seqs ascending. */
  add(activitySeq: number, conversationRef: number, createdAt: number, targets: FanoutTarget[]): void {
    this.insert.run(targets[0]![0], activitySeq, conversationRef, createdAt, JSON.stringify(targets));
  }

  /**
   * Inside a write transaction: writes the delivery rows of the oldest fanouts (up to the one whose
   * first seq is `upTo`), stopping after the fanout that reaches `maxRows` rows. True when some up to
   * `upTo` remain.
   */
  materialise(maxRows: number, upTo = Number.MAX_SAFE_INTEGER): boolean {
    let rows = 0;
    let last: number | undefined;
    let signal = false;
    const heldOf = this.heldCache();
    // Rows up to the watermark were taken by the hand-off's owner: what is left of them are flights.
    const taken = this.handoff.watermark;
    for (;;) {
      const batch = this.oldest.all(last ?? 0, upTo);
      if (batch.length === 0) break;
      for (const f of batch) {
        const targets = JSON.parse(f.targets) as FanoutTarget[];
        if (f.first_seq <= taken) this.writeTaken(f, targets, heldOf);
        else if (this.writeRows(f, targets, heldOf)) signal = true;
        rows += targets.length;
        last = f.first_seq;
        if (rows >= maxRows) break;
      }
      if (rows >= maxRows || batch.length < READ_FANOUTS) break;
    }
    if (last === undefined) return false;
    this.remove.run(last);
    if (signal) this.signalWork();
    return this.anyAfter.get(last, upTo) !== undefined;
  }

  /**
   * Inside a write transaction of the hand-off's owner (handoff.ts): reads the fanouts rows after the
   * watermark, oldest first, until `maxRows` targets, and writes the rows of every target that cannot
   * be a flight: its integration is held or deleted, a flight holds its lane, its lane has a pending
   * row, or another target of the window shares its lane (they are written in order, so a System head
   * batches them). The rest are *candidates*: the claim picks flights among them (fairly, with the due
   * heads), then `settle` writes rows for the candidates it did not pick.
   *
   * The window ends after the first fanouts row that brings the candidates the dispatcher has room for
   * (`room`: overall and per integration) to its free slots: the rows after it stay fanouts, to be read
   * by a later claim, instead of being written as rows now only because every slot was taken (measured:
   * in a burst at full concurrency that was half of all deliveries, each then a row insert, a lease
   * and an outcome update with their index changes instead of one insert). Candidates of an integration
   * without room do not count, so a slow integration's backlog is still written as rows in large
   * windows and cannot hold back the fanouts of the others. Fairness between integrations that all
   * have room: a window that ends while the fanouts after it have waited FAIR_WAIT_MS is read whole
   * instead, as before the bound, so a burst of one integration delays another's delivery submitted
   * after it by at most that (plus a claim), not until the burst is through.
   */
  readFresh(maxRows: number, room: FreshRoom): FreshWindow {
    const heldOf = this.heldCache();
    const fanouts: FreshFanout[] = [];
    /** Per lane of the window: its targets so far, and whether the first counted against the room. */
    const lanes = new Map<string, { count: number; counted: boolean; ref: number }>();
    const eligible = new Map<FanoutTarget, boolean>();
    const countedOf = new Map<number, number>();
    let counted = 0;
    let rows = 0;
    let after = this.handoff.watermark;
    this.inherited ??= this.newest.get()?.m ?? 0;
    let bounded = true;
    /** Whether the window ends here: the free slots are filled and what follows is still fresh. */
    const cut = (): boolean => {
      if (!bounded || counted < room.limit) return false;
      const next = this.earliestCreated.get(after);
      if (next === undefined || room.now - next.created_at < FAIR_WAIT_MS) return true;
      // Fanouts have waited beyond the cut that long: read the whole window, so every integration's
      // fresh deliveries compete for the slots again (the ones not taken get rows, as heads).
      bounded = false;
      return false;
    };
    read: for (;;) {
      if (cut()) break;
      // About as many rows as there are slots left, growing with what was read (when little counts —
      // integrations at their limit, lanes with rows — a window of thousands is not read 8 at a time).
      const size = bounded
        ? Math.min(READ_FANOUTS, Math.max(8, fanouts.length, 2 ** Math.ceil(Math.log2(room.limit - counted))))
        : READ_FANOUTS;
      const batch = this.fresh.all(size, 0, after);
      for (const f of batch) {
        const targets = JSON.parse(f.targets) as FanoutTarget[];
        fanouts.push({ f, targets, candidates: [] });
        const inherited = f.first_seq <= this.inherited;
        for (const t of targets) {
          if (inherited && this.hasRow.get(t[0]) !== undefined) {
            // A flight of an owner before a crash whose outcome was recorded: it stays as it is.
            eligible.set(t, false);
            continue;
          }
          const ref = t[1];
          const key = `${f.conversation_ref}:${ref}`;
          const lane = lanes.get(key);
          if (lane !== undefined) {
            // A second target of the lane in the window: neither is a candidate.
            if (lane.counted) {
              lane.counted = false;
              counted--;
              countedOf.set(lane.ref, countedOf.get(lane.ref)! - 1);
            }
            lane.count++;
            continue;
          }
          const ok =
            heldOf(ref) === false &&
            !this.handoff.laneBusy(f.conversation_ref, ref) &&
            this.laneHasPending.get(f.conversation_ref, ref) === undefined;
          eligible.set(t, ok);
          const mine = countedOf.get(ref) ?? 0;
          const counts = ok && mine < room.of(ref);
          if (counts) {
            counted++;
            countedOf.set(ref, mine + 1);
          }
          lanes.set(key, { count: 1, counted: counts, ref });
        }
        after = f.first_seq;
        rows += targets.length;
        if (rows >= maxRows || cut()) break read;
      }
      if (batch.length < size) break;
    }
    let signal = false;
    for (const fresh of fanouts) {
      const { f, targets } = fresh;
      const rest: FanoutTarget[] = [];
      for (const t of targets) {
        if (eligible.get(t) === true && lanes.get(`${f.conversation_ref}:${t[1]}`)!.count === 1)
          fresh.candidates.push(t);
        else rest.push(t);
      }
      if (rest.length > 0 && this.writeRows(f, rest, heldOf)) signal = true;
    }
    return { fanouts, heldOf, signal };
  }

  /**
   * Inside the same write transaction, after the claim: the picked candidates are flights (added to
   * the hand-off by the caller); the others get their rows (heads, claimable at once). A fanouts row
   * left without flights is deleted; the watermark moves past the window.
   */
  settle(window: FreshWindow, isFlight: (seq: number) => boolean): void {
    let signal = window.signal;
    for (const { f, targets, candidates } of window.fanouts) {
      const rest = candidates.filter((t) => !isFlight(t[0]));
      if (rest.length > 0 && this.writeRows(f, rest, window.heldOf)) signal = true;
      const flights = candidates.length - rest.length;
      if (flights === 0) this.removeOne.run(f.first_seq);
      // The row keeps only its flights: the others have rows now, which may go (a System head absorbs
      // waiting rows) while a flight is out, and a store writing the taken row's targets as leased
      // heads (materialise) must not write them again.
      else if (flights < targets.length)
        this.keepTargets.run(JSON.stringify(candidates.filter((t) => isFlight(t[0]))), f.first_seq);
    }
    const last = window.fanouts[window.fanouts.length - 1];
    if (last !== undefined) this.handoff.advance(last.f.first_seq);
    if (signal) this.signalWork();
  }

  /** Inside a write transaction: a flight's fanouts row has no flight left. */
  taken(firstSeq: number): void {
    this.removeOne.run(firstSeq);
  }

  /**
   * Inside a write transaction: writes the row of a flight, with its outcome or — its lease ended
   * without one — due again (pending, no lease, so a late result is stale). Undefined when it has a row
   * already (another store of the process wrote it, leased: apply to that row instead); else whether
   * its integration is held now (`heldOf`: one cache per transaction step, see heldCache).
   */
  writeFlight(
    flight: Flight,
    status: 'pending' | 'delivered' | 'failed',
    dueAt: number | null,
    attemptCount: number,
    heldOf: (ref: number) => boolean | null,
  ): { held: boolean } | undefined {
    const h = heldOf(flight.integrationRef);
    const pending = status === 'pending';
    const changes = this.flightRow.run(
      flight.seq,
      flight.integrationRef,
      flight.conversationRef,
      flight.echo,
      flight.activitySeq,
      h === null && pending ? 'cancelled' : status,
      pending && h === true ? 1 : 0,
      pending && h !== null ? 1 : 0,
      pending ? dueAt : null,
      pending ? dueAt : null,
      attemptCount,
      flight.createdAt,
    ).changes;
    return changes === 0 ? undefined : { held: h === true };
  }

  /** Inside a write transaction: rows for the flights still out, as leased heads (the store closes). */
  materialiseTaken(): void {
    while (this.materialise(CATCH_UP_ROWS, this.handoff.watermark));
  }

  /** Writes every fanout's rows (inside a write transaction): before an integration is deleted. */
  materialiseAll(): void {
    while (this.materialise(CATCH_UP_ROWS));
  }

  /**
   * Before a read of the delivery log: every fanout committed so far gets its rows — or, given a
   * delivery's seq, those up to the one holding it — in transactions of a bounded size.
   */
  async catchUp(seq?: number): Promise<void> {
    const upTo = seq === undefined ? this.newest.get()?.m : this.waitingBefore.get(seq)?.first_seq;
    if (upTo === undefined || upTo === null) return;
    while (await this.writes.enqueue(() => this.materialise(CATCH_UP_ROWS, upTo), false));
  }

  /** When the oldest fanout was submitted (its deliveries are due since), if any waits. */
  earliest(): number | undefined {
    return this.earliestCreated.get(this.handoff.watermark)?.created_at;
  }

  /** held (true/false) or deleted (null) of integrations, read once per transaction step. */
  heldCache(): (ref: number) => boolean | null {
    const held = new Map<number, boolean | null>();
    return (ref) => {
      let h = held.get(ref);
      if (h === undefined) {
        const row = this.status.get(ref);
        h = row === undefined ? null : row.held === 1;
        held.set(ref, h);
      }
      return h;
    };
  }

  /** Rows for targets of a not-taken fanout; true when one is a claimable head. */
  private writeRows(f: FanoutRow, targets: FanoutTarget[], heldOf: (ref: number) => boolean | null): boolean {
    let signal = false;
    const live: FanoutTarget[] = [];
    for (const t of targets) {
      const h = heldOf(t[1]);
      if (h === null) {
        // Deleted since the submit (deleting materialises first, so only a race can get here).
        this.cancelled.run(t[0], t[1], f.conversation_ref, t[2], f.activity_seq, f.created_at);
      } else {
        live.push(t);
        if (!h) signal = true;
      }
    }
    this.write(f, live, heldOf);
    return signal;
  }

  /** Rows for the targets of a taken fanout that have none yet: its flights, as leased heads. */
  private writeTaken(f: FanoutRow, targets: FanoutTarget[], heldOf: (ref: number) => boolean | null): void {
    const lease = this.handoff.leaseUntil;
    for (const t of targets) {
      const h = heldOf(t[1]);
      if (h === null) this.cancelled.run(t[0], t[1], f.conversation_ref, t[2], f.activity_seq, f.created_at);
      else
        this.leased.run(
          t[0],
          t[1],
          f.conversation_ref,
          t[2],
          f.activity_seq,
          h ? 1 : 0,
          lease,
          f.created_at,
          f.created_at,
          lease,
        );
    }
  }

  private write(f: FanoutRow, targets: FanoutTarget[], heldOf: (ref: number) => boolean | null): void {
    if (targets.length === 0) return;
    const distinct = new Set(targets.map((t) => t[1])).size === targets.length;
    if (distinct && targets.length <= 32) {
      this.insertOf(targets.length).run(this.params(f, targets, heldOf));
      return;
    }
    // Rare shapes (the same lane twice, very many targets): one row per statement, so each lane
    // check sees the rows written before it.
    for (const t of targets) this.insertOf(1).run(this.params(f, [t], heldOf));
  }

  private params(f: FanoutRow, targets: FanoutTarget[], heldOf: (ref: number) => boolean | null) {
    const params: Record<string, number> = { cr: f.conversation_ref, a: f.activity_seq, now: f.created_at };
    targets.forEach((t, k) => {
      params[`s${k}`] = t[0];
      params[`r${k}`] = t[1];
      params[`e${k}`] = t[2];
      params[`h${k}`] = heldOf(t[1]) === true ? 1 : 0;
      params[`b${k}`] = this.handoff.laneBusy(f.conversation_ref, t[1]) ? 1 : 0;
    });
    return params;
  }

  /**
   * One INSERT for n rows; a row is its lane's head when no flight holds the lane and no earlier pending
   * delivery waits in it. (After a restart a flight's row can come after later rows of its lane, which
   * were written behind it: it is their head.) A row that exists already — a flight's, written with its
   * outcome before a restart — is kept.
   */
  private insertOf(count: number): Statement {
    let statement = this.inserts[count];
    if (statement === undefined) {
      const rows = Array.from(
        { length: count },
        (_, k) =>
          `(@s${k}, @r${k}, @cr, 'webhook', @e${k}, @a, 'pending', @h${k},
            @b${k} = 0 AND NOT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_lane
              WHERE conversation_ref = @cr AND integration_ref = @r${k} AND status = 'pending' AND transport = 'webhook'
                AND seq < @s${k}),
            @now, @now, @now)`,
      );
      statement = this.db.prepare(
        `INSERT OR IGNORE INTO deliveries (seq, integration_ref, conversation_ref, transport, echo, activity_seq,
           status, held, is_head, due_at, next_attempt_at, created_at) VALUES ${rows.join(', ')}`,
      );
      this.inserts[count] = statement;
    }
    return statement;
  }
}
