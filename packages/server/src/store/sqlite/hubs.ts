// Hubs and integrations on SQLite, with the holding (pause/resume) and cancelling (delete) they imply.
// Every change bumps the hub's version, which revalidates the submit path's cached routing view.

import { HooksterError } from '../../domain/errors.js';
import { HubStatus, IntegrationStatus } from '../../domain/types.js';
import type { Guid, Hub, Integration, Page, PageRequest } from '../../domain/types.js';
import { isUnchangedHub, isUnchangedIntegration } from '../contract.js';
import type { SqliteContext } from './context.js';
import { toHub, toIntegration, type HubRow, type IntegrationRow } from './rows.js';

export function createHubs(ctx: SqliteContext) {
  const { db, writes, lanes } = ctx;
  const insertHub = db.prepare(
    `INSERT INTO hubs (hub_id, tenant_id, name, description, close_dormant_conversation, status_id, created, modified)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectHub = db.prepare<[string], HubRow>('SELECT * FROM hubs WHERE hub_id = ?');
  const hubsOfTenant = db.prepare<[string, number, number], HubRow>(
    'SELECT * FROM hubs WHERE tenant_id = ? ORDER BY seq LIMIT ? OFFSET ?',
  );
  const countHubsOfTenant = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM hubs WHERE tenant_id = ?',
  );
  const allHubs = db.prepare<[number, number], HubRow>('SELECT * FROM hubs ORDER BY seq LIMIT ? OFFSET ?');
  const countAllHubs = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hubs');
  const updateHubRow = db.prepare(
    `UPDATE hubs SET name = ?, description = ?, close_dormant_conversation = ?, status_id = ?, modified = ?,
       version = version + 1 WHERE hub_id = ?`,
  );
  const bumpHub = db.prepare('UPDATE hubs SET version = version + 1 WHERE hub_id = ?');
  const deleteHubRow = db.prepare('DELETE FROM hubs WHERE hub_id = ?');

  const insertIntegration = db.prepare(
    `INSERT INTO integrations (integration_id, hub_id, tenant_id, integration_type_id, channel_id, name,
       status_id, configuration, created, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectIntegration = db.prepare<[string], IntegrationRow>(
    'SELECT * FROM integrations WHERE integration_id = ?',
  );
  const integrationsOfHub = db.prepare<[string], IntegrationRow>(
    'SELECT * FROM integrations WHERE hub_id = ? ORDER BY seq',
  );
  const updateIntegrationRow = db.prepare(
    `UPDATE integrations SET integration_type_id = ?, channel_id = ?, name = ?, status_id = ?,
       configuration = ?, modified = ? WHERE integration_id = ?`,
  );
  const deleteIntegrationRow = db.prepare('DELETE FROM integrations WHERE integration_id = ?');
  const insertRef = db.prepare(
    'INSERT INTO integration_refs (seq, integration_id, hub_id, tenant_id) VALUES (?, ?, ?, ?)',
  );

  function hadWebhook(row: IntegrationRow): boolean {
    return typeof (JSON.parse(row.configuration) as { webhookUrl?: unknown }).webhookUrl === 'string';
  }

  /** Re-applies holding to every integration of a hub after a status change. */
  function applyHolding(hubId: string, hubPaused: boolean): void {
    for (const row of integrationsOfHub.all(hubId)) {
      const held = hubPaused || row.status_id === IntegrationStatus.Paused;
      if (lanes.setHeld(row.seq, held) > 0 && !held) ctx.signalWork();
    }
  }

  function listIntegrationsPage(filter: { tenantId?: Guid; hubId?: Guid }, page: PageRequest) {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(filter.tenantId);
    }
    if (filter.hubId !== undefined) {
      where.push('hub_id = ?');
      params.push(filter.hubId);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = db
      .prepare<unknown[], IntegrationRow>(
        `SELECT * FROM integrations ${clause} ORDER BY seq LIMIT ? OFFSET ?`,
      )
      .all(...params, page.pageSize, page.pageNumber * page.pageSize);
    const total =
      db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM integrations ${clause}`).get(...params)
        ?.n ?? 0;
    return { ...page, total, results: rows.map(toIntegration) };
  }

  return {
    createHub(hub: Hub): Promise<void> {
      return writes.enqueue(() => {
        insertHub.run(
          hub.hubId,
          hub.tenantId,
          hub.name,
          hub.description,
          hub.closeDormantConversation ?? null,
          hub.statusId,
          hub.created,
          hub.modified,
        );
      });
    },
    async getHub(hubId: Guid): Promise<Hub | undefined> {
      const row = selectHub.get(hubId);
      return row && toHub(row);
    },
    async listHubs(tenantId: Guid | undefined, page: PageRequest): Promise<Page<Hub>> {
      const offset = page.pageNumber * page.pageSize;
      const rows =
        tenantId === undefined
          ? allHubs.all(page.pageSize, offset)
          : hubsOfTenant.all(tenantId, page.pageSize, offset);
      const total = (tenantId === undefined ? countAllHubs.get() : countHubsOfTenant.get(tenantId))?.n ?? 0;
      return { ...page, total, results: rows.map(toHub) };
    },
    updateHub(hub: Hub, expected?: Hub): Promise<boolean> {
      return writes.enqueue(() => {
        const before = selectHub.get(hub.hubId);
        if (before === undefined) throw HooksterError.of('HubNotFound');
        // Under the write lock, so nothing is written between this comparison and the update.
        if (expected !== undefined && !isUnchangedHub(toHub(before), expected)) return false;
        updateHubRow.run(
          hub.name,
          hub.description,
          hub.closeDormantConversation ?? null,
          hub.statusId,
          hub.modified,
          hub.hubId,
        );
        const wasPaused = before.status_id === HubStatus.Paused;
        const isPaused = hub.statusId === HubStatus.Paused;
        if (wasPaused !== isPaused) applyHolding(hub.hubId, isPaused);
        return true;
      });
    },
    async deleteHub(hubId: Guid): Promise<void> {
      // The deliveries still in fanouts get rows in bounded transactions first; the delete's own
      // transaction then writes only those submitted meanwhile, so everything pending is cancelled.
      await ctx.fanouts.catchUp();
      return writes.enqueue(() => {
        if (selectHub.get(hubId) === undefined) throw HooksterError.of('HubNotFound');
        ctx.fanouts.materialiseAll();
        for (const row of integrationsOfHub.all(hubId)) {
          lanes.cancelIntegration(row.seq);
          deleteIntegrationRow.run(row.integration_id);
        }
        deleteHubRow.run(hubId);
      });
    },

    createIntegration(i: Integration): Promise<void> {
      return writes.enqueue(() => {
        // Checked under the write lock: the caller found the hub, but a delete may have run since.
        if (selectHub.get(i.hubId) === undefined) throw HooksterError.of('HubNotFound');
        const ref = insertIntegration.run(
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
        ).lastInsertRowid;
        insertRef.run(ref, i.integrationId, i.hubId, i.tenantId);
        bumpHub.run(i.hubId);
      });
    },
    async getIntegration(integrationId: Guid): Promise<Integration | undefined> {
      const row = selectIntegration.get(integrationId);
      return row && toIntegration(row);
    },
    async listIntegrations(
      filter: { tenantId?: Guid; hubId?: Guid },
      page: PageRequest,
    ): Promise<Page<Integration>> {
      return listIntegrationsPage(filter, page);
    },
    async updateIntegration(i: Integration, expected?: Integration): Promise<boolean> {
      // Without a webhookUrl (a Direct integration moved to the websocket) its waiting webhook
      // deliveries are cancelled, as by a delete: the deliveries still in fanouts get rows first.
      const withoutWebhook = typeof i.configuration.webhookUrl !== 'string';
      // Only then (read before the write lock; the transaction decides again): other updates leave
      // the fanouts to the dispatcher's hand-off.
      const current = withoutWebhook ? selectIntegration.get(i.integrationId) : undefined;
      if (current !== undefined && hadWebhook(current)) await ctx.fanouts.catchUp();
      return writes.enqueue(() => {
        const before = selectIntegration.get(i.integrationId);
        if (before === undefined) throw HooksterError.of('IntegrationNotFound');
        // Under the write lock, so nothing is written between this comparison and the update.
        if (expected !== undefined && !isUnchangedIntegration(toIntegration(before), expected)) return false;
        if (withoutWebhook && hadWebhook(before)) {
          ctx.fanouts.materialiseAll();
          lanes.cancelWebhooks(before.seq);
        }
        updateIntegrationRow.run(
          i.integrationTypeId,
          i.channelId,
          i.name,
          i.statusId,
          JSON.stringify(i.configuration),
          i.modified,
          i.integrationId,
        );
        bumpHub.run(before.hub_id);
        // Given a webhookUrl: what a pause held for the websocket goes to the webhook instead (once
        // resumed), rather than to connections that may no longer exist.
        if (!withoutWebhook && !hadWebhook(before)) {
          if (lanes.heldPushesToWebhooks(before.seq, lanes.isHeld(i.integrationId))) ctx.signalWork();
        }
        const wasPaused = before.status_id === IntegrationStatus.Paused;
        const isPaused = i.statusId === IntegrationStatus.Paused;
        if (wasPaused !== isPaused) {
          const held = lanes.isHeld(i.integrationId);
          if (lanes.setHeld(before.seq, held) > 0 && !held) ctx.signalWork();
        }
        return true;
      });
    },
    async deleteIntegration(integrationId: Guid): Promise<void> {
      await ctx.fanouts.catchUp();
      return writes.enqueue(() => {
        const before = selectIntegration.get(integrationId);
        if (before === undefined) throw HooksterError.of('IntegrationNotFound');
        ctx.fanouts.materialiseAll();
        lanes.cancelIntegration(before.seq);
        deleteIntegrationRow.run(integrationId);
        bumpHub.run(before.hub_id);
      });
    },
  };
}
