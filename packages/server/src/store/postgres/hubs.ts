// Hubs on PostgreSQL: names unique per tenant; pausing holds deliveries, deleting cancels them.

import { HooksterError } from '../../domain/errors.js';
import { HubStatus, type Guid, type Hub, type Page } from '../../domain/types.js';
import { isUnchangedHub } from '../contract.js';
import { pageOffset, type PageQuery, type PgContext } from './context.js';
import { toHub, type Row } from './rows.js';
import { inTransaction, isUniqueViolation } from './tx.js';

export async function createHub(ctx: PgContext, hub: Hub): Promise<void> {
  try {
    await ctx.pool.query(
      `INSERT INTO hubs (hub_id, tenant_id, name, description, close_dormant_conversation, status_id, created, modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        hub.hubId,
        hub.tenantId,
        hub.name,
        hub.description,
        hub.closeDormantConversation ?? null,
        hub.statusId,
        hub.created,
        hub.modified,
      ],
    );
  } catch (error) {
    if (isUniqueViolation(error, 'hubs_tenant_name')) throw HooksterError.of('HubNameExists');
    throw error;
  }
}

export async function getHub(ctx: PgContext, hubId: Guid): Promise<Hub | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM hubs WHERE hub_id = $1', [hubId]);
  return rows[0] === undefined ? undefined : toHub(rows[0] as Row);
}

export async function listHubs(
  ctx: PgContext,
  tenantId: Guid | undefined,
  page: PageQuery,
): Promise<Page<Hub>> {
  const where = tenantId === undefined ? '' : 'WHERE tenant_id = $1';
  const params = tenantId === undefined ? [] : [tenantId];
  const total = await ctx.pool.query(`SELECT count(*)::int AS n FROM hubs ${where}`, params);
  const { rows } = await ctx.pool.query(
    `SELECT * FROM hubs ${where} ORDER BY seq LIMIT ${page.pageSize} OFFSET ${pageOffset(page)}`,
    params,
  );
  return {
    pageNumber: page.pageNumber,
    pageSize: page.pageSize,
    total: (total.rows[0] as { n: number }).n,
    results: (rows as Row[]).map(toHub),
  };
}

/**
 * Replaces the hub; resuming it makes its held lanes claimable again, so work is signalled. With
 * `expected`, the row is locked and compared with it first; a difference writes nothing (false). The
 * lock is FOR NO KEY UPDATE, the one the UPDATE takes anyway: it keeps an integration create (FOR KEY
 * SHARE on the hub) free to run beside it.
 */
export async function updateHub(ctx: PgContext, hub: Hub, expected?: Hub): Promise<boolean> {
  let written: boolean;
  try {
    written = await inTransaction(ctx.pool, async (client) => {
      const locked = await client.query('SELECT * FROM hubs WHERE hub_id = $1 FOR NO KEY UPDATE', [
        hub.hubId,
      ]);
      if (locked.rowCount === 0) throw HooksterError.of('HubNotFound');
      if (expected !== undefined && !isUnchangedHub(toHub(locked.rows[0] as Row), expected)) return false;
      await client.query(
        `UPDATE hubs SET name = $2, description = $3, close_dormant_conversation = $4, status_id = $5,
           modified = $6
         WHERE hub_id = $1`,
        [
          hub.hubId,
          hub.name,
          hub.description,
          hub.closeDormantConversation ?? null,
          hub.statusId,
          hub.modified,
        ],
      );
      return true;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'hubs_tenant_name')) throw HooksterError.of('HubNameExists');
    throw error;
  }
  if (written && hub.statusId !== HubStatus.Paused) ctx.signalWork();
  return written;
}

/**
 * Why the hub row is locked first (FOR UPDATE): an integration create holds it FOR KEY SHARE (see
 * integrations.ts createIntegration), so one that got there first has committed before the
 * statements below, which delete its integration with the others, and one that comes later waits
 * for this transaction and then finds no hub. Why the hub's integrations are locked next (FOR
 * UPDATE, in code-unit order, the order a submit locks them FOR SHARE and a resend FOR KEY SHARE): a submit
 * that routed to one of them committed before, and the statements below see and cancel what it
 * wrote, or it waits for this transaction and then finds them gone (see submit.ts). Why lanes are
 * deleted next: every writer locks a lane row before the delivery rows of that lane (claims, attempt
 * records, resends), so taking the lanes first here cannot deadlock with them.
 */
export async function deleteHub(ctx: PgContext, hubId: Guid): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    const locked = await client.query('SELECT 1 FROM hubs WHERE hub_id = $1 FOR UPDATE', [hubId]);
    if (locked.rowCount === 0) throw HooksterError.of('HubNotFound');
    await client.query(
      `SELECT 1 FROM integrations WHERE hub_id = $1 ORDER BY integration_id COLLATE "C" FOR UPDATE`,
      [hubId],
    );
    await client.query(
      `DELETE FROM lanes WHERE (integration_id, conversation_id) IN (
         SELECT integration_id, conversation_id FROM lanes
         WHERE integration_id IN (SELECT integration_id FROM integrations WHERE hub_id = $1)
         ORDER BY integration_id COLLATE "C", conversation_id COLLATE "C" FOR UPDATE)`,
      [hubId],
    );
    await client.query(
      `UPDATE deliveries SET status = 'cancelled', fence = fence + 1, lease_owner = NULL, lease_until = NULL
       WHERE hub_id = $1 AND status = 'pending'`,
      [hubId],
    );
    await client.query('DELETE FROM integrations WHERE hub_id = $1', [hubId]);
    await client.query('DELETE FROM hubs WHERE hub_id = $1', [hubId]);
  });
}
