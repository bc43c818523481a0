// Public delivery ids for SQLite: a per-database random GUID prefix + the row's seq in the last 12 hex
// digits. Why: the id then needs no unique index of its own (one B-tree write less per delivery on the
// hot submit path) and maps back to the primary key with no lookup.

import { randomUUID } from 'node:crypto';

/** The first 24 characters of a v4 GUID ("xxxxxxxx-xxxx-4xxx-yxxx-"), generated once per database. */
export function newDeliveryIdPrefix(): string {
  return randomUUID().slice(0, 24);
}

export function deliveryIdOf(prefix: string, seq: number): string {
  return prefix + seq.toString(16).padStart(12, '0');
}

/** The seq a delivery id encodes, or undefined when the id is not one of this database's. */
export function seqOfDeliveryId(prefix: string, deliveryId: string): number | undefined {
  const id = deliveryId.toLowerCase();
  if (id.length !== 36 || !id.startsWith(prefix)) return undefined;
  const tail = id.slice(24);
  if (!/^[0-9a-f]{12}$/.test(tail)) return undefined;
  return parseInt(tail, 16);
}
