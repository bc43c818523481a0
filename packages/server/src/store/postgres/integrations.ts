// Integrations on PostgreSQL: names unique per hub; pause holds deliveries, delete cancels them.

import type pg from 'pg';
import { HooksterError } from '../../domain/errors.js';
import { IntegrationStatus, type Guid, type Integration, type Page } from '../../domain/types.js';
import { isUnchangedIntegration } from '../contract.js';
import { pageOffset, type PageQuery, type PgContext } from './context.js';
import { toIntegration, type Row } from './rows.js';
import { inTransaction, isUniqueViolation } from './tx.js';

/**
 * The hub row is locked FOR KEY SHARE before the insert, and a hub that is gone is HubNotFound (the
 * caller found it just before, so this is a hub deleted meanwhile): deleteHub locks the hub FOR
 * UPDATE first, so it either waits for this commit and then deletes the new integration with the
 * others, or this lock waits for the delete and then finds no hub. Without it an integration
 * created while its hub is deleted could outlive the hub. KEY SHARE does not conflict with another
 * create, nor with a hub update that keeps the key (a rename, a pause).
 */
export async function createIntegration(ctx: PgContext, i: Integration): Promise<void> {
  try {
    await inTransaction(ctx.pool, async (client) => {
      const hub = await client.query('SELECT 1 FROM hubs WHERE hub_id = $1 FOR KEY SHARE', [i.hubId]);
      if (hub.rowCount === 0) throw HooksterError.of('HubNotFound');
      await client.query(
        `INSERT INTO integrations (integration_id, hub_id, tenant_id, integration_type_id, channel_id, name,
           status_id, configuration, created, modified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          i.integrationId,
          i.hubId,
          i.tenantId,
          i.integrationTypeId,
          i.channelId,
          i.name,
          i.statusId,
          JSON.stringify(i.configuration),
          i.created,
          i.modified,
        ],
      );
    });
  } catch (error) {
    if (isUniqueViolation(error, 'integrations_hub_name')) throw HooksterError.of('IntegrationNameExists');
    throw error;
  }
}

export async function getIntegration(ctx: PgContext, integrationId: Guid): Promise<Integration | undefined> {
  const { rows } = await ctx.pool.query('SELECT * FROM integrations WHERE integration_id = $1', [
    integrationId,
  ]);
  return rows[0] === undefined ? undefined : toIntegration(rows[0] as Row);
}

export async function listIntegrations(
  ctx: PgContext,
  filter: { tenantId?: Guid; hubId?: Guid },
  page: PageQuery,
): Promise<Page<Integration>> {
  const conditions: string[] = [];
  const params: string[] = [];
  if (filter.tenantId !== undefined) {
    params.push(filter.tenantId);
    conditions.push(`tenant_id = $${params.length}`);
  }
  if (filter.hubId !== undefined) {
    params.push(filter.hubId);
    conditions.push(`hub_id = $${params.length}`);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const total = await ctx.pool.query(`SELECT count(*)::int AS n FROM integrations ${where}`, params);
  const { rows } = await ctx.pool.query(
    `SELECT * FROM integrations ${where} ORDER BY seq LIMIT ${page.pageSize} OFFSET ${pageOffset(page)}`,
    params,
  );
  return {
    pageNumber: page.pageNumber,
    pageSize: page.pageSize,
    total: (total.rows[0] as { n: number }).n,
    results: (rows as Row[]).map(toIntegration),
  };
}

/**
 * Replaces the integration; leaving the paused status makes its lanes claimable, so work is signalled.
 * Without a webhookUrl (a Direct integration moved to the websocket) its waiting webhook deliveries are
 * cancelled in the same transaction, with deleteIntegration's lock order: the integration row is
 * locked first (a submit holding it FOR SHARE has committed by then, and a later one reads the
 * new configuration), then its lanes, then its deliveries (fenced, so a result in flight is stale).
 * With `expected`, the locked row is compared with it first; a difference writes nothing (false).
 */
export async function updateIntegration(
  ctx: PgContext,
  i: Integration,
  expected?: Integration,
): Promise<boolean> {
  let written: boolean;
  try {
    written = await inTransaction(ctx.pool, async (client) => {
      const locked = await client.query('SELECT * FROM integrations WHERE integration_id = $1 FOR UPDATE', [
        i.integrationId,
      ]);
      if (locked.rowCount === 0) throw HooksterError.of('IntegrationNotFound');
      const row = locked.rows[0] as Row;
      // The row is locked: no other update can be written between this comparison and this one.
      if (expected !== undefined && !isUnchangedIntegration(toIntegration(row), expected)) return false;
      const before = row.configuration as string;
      await client.query(
        `UPDATE integrations SET integration_type_id = $2, channel_id = $3,
           name = $4, status_id = $5, configuration = $6, modified = $7
         WHERE integration_id = $1`,
        [
          i.integrationId,
          i.integrationTypeId,
          i.channelId,
          i.name,
          i.statusId,
          JSON.stringify(i.configuration),
          i.modified,
        ],
      );
      if (typeof i.configuration.webhookUrl === 'string') {
        if (!hadWebhook(before)) await heldPushesToWebhooks(client, i.integrationId);
        return true;
      }
      if (!hadWebhook(before)) return true;
      await client.query(
        `DELETE FROM lanes WHERE (integration_id, conversation_id) IN (
           SELECT integration_id, conversation_id FROM lanes WHERE integration_id = $1
           ORDER BY conversation_id COLLATE "C" FOR UPDATE)`,
        [i.integrationId],
      );
      await client.query(
        `UPDATE deliveries SET status = 'cancelled', fence = fence + 1, lease_owner = NULL, lease_until = NULL
         WHERE integration_id = $1 AND status = 'pending' AND transport = 'webhook'`,
        [i.integrationId],
      );
      return true;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'integrations_hub_name')) throw HooksterError.of('IntegrationNameExists');
    throw error;
  }
  if (written && i.statusId !== IntegrationStatus.Paused) ctx.signalWork();
  return written;
}

/**
 * Given a webhookUrl: the websocket deliveries a pause held become webhook deliveries, each lane's first
 * one its head (due now; the claim skips it while the integration or hub is paused), so the resume sends
 * them to the webhook rather than to connections that may no longer exist. Unheld websocket deliveries
 * are pushes whose outcome is on its way: left alone.
 */
async function heldPushesToWebhooks(client: pg.PoolClient, integrationId: Guid): Promise<void> {
  await client.query(
    `WITH moved AS (
       UPDATE deliveries SET transport = 'webhook', held_push = false, next_attempt_at = created_at
       WHERE integration_id = $1 AND status = 'pending' AND transport = 'websocket' AND held_push
       RETURNING delivery_id, conversation_id, event_id, seq, created_at
     ), heads AS (
       SELECT DISTINCT ON (conversation_id) conversation_id, delivery_id, created_at
       FROM moved ORDER BY conversation_id, event_id, seq
     )
     INSERT INTO lanes (integration_id, conversation_id, head_id, due_at)
     SELECT $1, conversation_id, delivery_id, created_at FROM heads ORDER BY conversation_id COLLATE "C"
     ON CONFLICT (integration_id, conversation_id) DO UPDATE
       SET head_id = COALESCE(lanes.head_id, EXCLUDED.head_id),
           due_at = CASE WHEN lanes.head_id IS NULL THEN EXCLUDED.due_at ELSE lanes.due_at END`,
    [integrationId],
  );
}

function hadWebhook(configuration: string): boolean {
  return typeof (JSON.parse(configuration) as { webhookUrl?: unknown }).webhookUrl === 'string';
}

/**
 * The integration row is locked first (FOR UPDATE), before its lanes and deliveries: a submit writing
 * deliveries for it holds it FOR SHARE (see submit.ts), so the lock waits until such a submit
 * committed and the statements below (each with a new snapshot) cancel what it wrote; a submit that
 * comes later waits for this transaction and then finds the integration gone. Then lanes, then
 * deliveries: the lock order every lane writer follows (see hubs.ts deleteHub).
 */
export async function deleteIntegration(ctx: PgContext, integrationId: Guid): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    const locked = await client.query('SELECT 1 FROM integrations WHERE integration_id = $1 FOR UPDATE', [
      integrationId,
    ]);
    if (locked.rowCount === 0) throw HooksterError.of('IntegrationNotFound');
    await client.query(
      `DELETE FROM lanes WHERE (integration_id, conversation_id) IN (
         SELECT integration_id, conversation_id FROM lanes WHERE integration_id = $1
         ORDER BY conversation_id COLLATE "C" FOR UPDATE)`,
      [integrationId],
    );
    await client.query(
      `UPDATE deliveries SET status = 'cancelled', fence = fence + 1, lease_owner = NULL, lease_until = NULL
       WHERE integration_id = $1 AND status = 'pending'`,
      [integrationId],
    );
    await client.query('DELETE FROM integrations WHERE integration_id = $1', [integrationId]);
  });
}
