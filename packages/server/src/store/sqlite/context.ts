// What every part of the SQLite backend shares: the connection, the group-commit writer, the lane
// helpers and the work signal. Built once the schema exists.

import type { Database } from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
import type { Fanouts } from './fanout.js';
import type { Handoff } from './handoff.js';
import type { Lanes } from './lanes.js';

export interface SqliteContext {
  db: Database;
  writes: GroupCommit;
  lanes: Lanes;
  /** Webhook deliveries stored compactly at submit, written as rows later (fanout.ts). */
  fanouts: Fanouts;
  /** Fresh deliveries sent by the process's dispatcher before they have rows (handoff.ts). */
  handoff: Handoff;
  /** Per-database prefix of delivery ids (delivery-id.ts). */
  deliveryIdPrefix: string;
  /** Marks that the current write made work claimable; listeners run after its commit. */
  signalWork(): void;
}
