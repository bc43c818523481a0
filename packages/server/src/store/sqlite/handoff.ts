// The hand-off of fresh webhook deliveries to the process's dispatcher (SQLite). A submit commits the
// activity and one fanouts row (fanout.ts). The dispatcher's claim then takes the fanouts committed
// since its previous claim, oldest first: a target whose lane is empty, whose integration is not held
// and for which there is room is sent at once as a *flight* — fence 1, first attempt — and gets its
// delivery row only with its outcome (one insert, instead of an insert, a lease update and an outcome
// update of a row and its lane indexes). The claim reads only about as many fanouts rows as it has
// room for (fanout.ts, readFresh) while they are fresh; the rest wait, as fanouts, for the next claim.
// Every other target of the rows it reads gets its row at once, as before.
//
// What keeps this exactly as safe as a leased row:
// - Lane order: a flight occupies its lane in memory; a later delivery of that lane is written as a
//   waiting row (never a head) and is promoted by the flight's outcome, as behind a leased head.
// - Other writers: the fanouts row stays, holding only its flights' targets, until all its flights have
//   their rows, and the *watermark* (the last fanouts row taken) is shared, through the write lock's
//   memory, with every thread of the process. Anything else that writes rows from fanouts (a read of
//   the delivery log, a manual retry, a delete) writes the taken ones as leased heads (fence 1, this
//   lease), so the log shows them pending and the flight's outcome is then applied to that row like
//   any leased delivery's.
// - Crashes: nothing of a flight is in the database but its fanouts row, so after a restart it is sent
//   again (at least once, as after an expired lease). A flight whose outcome could not be recorded
//   expires with its lease: it is then written as a due head, and its late result is stale.
// - One owner: only one store per file and process takes flights (the first that claims); the others
//   write rows as before. Stores that watch other processes' commits (a `--role worker` beside an API
//   process) never take: another process would not see the watermark.
//
// The memory here mirrors rows of the current transaction: every change registers its undo with the
// group commit, so a rolled-back write leaves memory as the database.

import { randomInt } from 'node:crypto';
import type { GroupCommit } from './group-commit.js';

export interface Flight {
  seq: number;
  integrationRef: number;
  conversationRef: number;
  echo: number;
  activitySeq: number;
  createdAt: number;
  /** The fanouts row it came from (deleted once all its flights have rows). */
  firstSeq: number;
  leaseUntil: number;
}

/** The lease owner written on a taken delivery's row by a store that does not hold its flight. */
export const HANDOFF_OWNER = 'handoff';

export class Handoff {
  /** [write lock, owner of the hand-off]. */
  private readonly ints: Int32Array;
  /** [watermark: first_seq of the last fanouts row taken, lease of the flights taken so far]. */
  private readonly floats: Float64Array;
  private readonly id = randomInt(1, 2 ** 31 - 1);
  private readonly flights = new Map<number, Flight>();
  private readonly lanes = new Set<string>();
  /** Flights without a row, per fanouts row. */
  private readonly outstanding = new Map<number, number>();
  private nextExpiry = Infinity;

  constructor(
    shared: SharedArrayBuffer | undefined,
    private readonly writes: GroupCommit,
    /** False: this store never takes flights (it still honours another store's watermark). */
    private readonly enabled: boolean,
  ) {
    const memory = shared ?? new SharedArrayBuffer(24);
    this.ints = new Int32Array(memory, 0, 2);
    this.floats = new Float64Array(memory, 8, 2);
  }

  /** Inside a write transaction: whether this store takes flights (the first store to ask becomes owner). */
  own(): boolean {
    if (!this.enabled) return false;
    if (this.ints[1] === 0) this.ints[1] = this.id;
    return this.ints[1] === this.id;
  }

  /** Inside a write transaction: fanouts rows up to this first_seq were taken (their flights, if any, have no rows). */
  get watermark(): number {
    return this.floats[0]!;
  }

  /** The lease a row written for a taken flight gets: the latest any flight has. */
  get leaseUntil(): number {
    return this.floats[1]!;
  }

  /** Inside a write transaction of the owner: fanouts rows up to `firstSeq` are taken. */
  advance(firstSeq: number): void {
    const before = this.floats[0]!;
    if (firstSeq <= before) return;
    this.floats[0] = firstSeq;
    this.writes.onUndo(() => (this.floats[0] = before));
  }

  laneBusy(conversationRef: number, integrationRef: number): boolean {
    return this.lanes.size > 0 && this.lanes.has(`${conversationRef}:${integrationRef}`);
  }

  flight(seq: number): Flight | undefined {
    return this.flights.get(seq);
  }

  get size(): number {
    return this.flights.size;
  }

  /** Inside a write transaction of the owner: `flight` is sent now. */
  add(flight: Flight): void {
    const lane = `${flight.conversationRef}:${flight.integrationRef}`;
    const leaseBefore = this.floats[1]!;
    const expiryBefore = this.nextExpiry;
    this.flights.set(flight.seq, flight);
    this.lanes.add(lane);
    this.outstanding.set(flight.firstSeq, (this.outstanding.get(flight.firstSeq) ?? 0) + 1);
    if (flight.leaseUntil > leaseBefore) this.floats[1] = flight.leaseUntil;
    this.nextExpiry = Math.min(this.nextExpiry, flight.leaseUntil);
    this.writes.onUndo(() => {
      this.flights.delete(flight.seq);
      this.lanes.delete(lane);
      this.release(flight.firstSeq);
      this.floats[1] = leaseBefore;
      this.nextExpiry = expiryBefore;
    });
  }

  /**
   * Inside a write transaction: the flight has its row now (or never will: it expired). True when its
   * fanouts row has no flight left (the caller deletes it).
   */
  resolve(flight: Flight): boolean {
    const lane = `${flight.conversationRef}:${flight.integrationRef}`;
    this.flights.delete(flight.seq);
    this.lanes.delete(lane);
    const done = this.release(flight.firstSeq);
    this.writes.onUndo(() => {
      this.flights.set(flight.seq, flight);
      this.lanes.add(lane);
      this.outstanding.set(flight.firstSeq, (this.outstanding.get(flight.firstSeq) ?? 0) + 1);
      this.nextExpiry = Math.min(this.nextExpiry, flight.leaseUntil);
    });
    return done;
  }

  /** No later than the earliest lease of a flight (undefined: none). */
  earliestLease(): number | undefined {
    return this.flights.size === 0 || this.nextExpiry === Infinity ? undefined : this.nextExpiry;
  }

  /** Flights whose lease ended by `now` (checked only once the earliest lease has). */
  expired(now: number): Flight[] {
    if (now < this.nextExpiry) return [];
    const expired: Flight[] = [];
    let next = Infinity;
    for (const flight of this.flights.values()) {
      if (flight.leaseUntil <= now) expired.push(flight);
      else next = Math.min(next, flight.leaseUntil);
    }
    this.nextExpiry = next;
    return expired;
  }

  /**
   * At close (holding the write lock): the flights are over, or will be sent again by the next owner
   * from their fanouts rows — the watermark no longer protects them.
   */
  disown(): void {
    if (this.ints[1] !== this.id) return;
    this.ints[1] = 0;
    this.floats[0] = 0;
    this.floats[1] = 0;
    this.flights.clear();
    this.lanes.clear();
    this.outstanding.clear();
  }

  private release(firstSeq: number): boolean {
    const left = (this.outstanding.get(firstSeq) ?? 1) - 1;
    if (left > 0) {
      this.outstanding.set(firstSeq, left);
      return false;
    }
    this.outstanding.delete(firstSeq);
    return true;
  }
}
