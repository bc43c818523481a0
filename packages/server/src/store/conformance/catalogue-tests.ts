// Conformance: tenants, clients, tokens, hubs, integrations, conversations and notifications.

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Notification } from '../../domain/types.js';
import {
  conversationFixture,
  directFixture,
  hubFixture,
  iso,
  makeWorld,
  page,
  planTo,
  systemFixture,
  tenantFixture,
  webhookTo,
} from './fixtures.js';
import { expectCatalogueError, type Stores } from './harness.js';

export function catalogueTests(stores: Stores): void {
  it('creates and reads back tenants, clients and tokens', async () => {
    const store = await stores.fresh();
    const tenant = tenantFixture();
    await store.createTenant(tenant);
    expect(await store.getTenant(tenant.tenantId)).toEqual(tenant);
    expect(await store.getTenant(randomUUID())).toBeUndefined();
    const client = {
      clientId: 'client-1',
      tenantId: tenant.tenantId,
      secretHash: 'h',
      scope: 'api',
      created: iso(),
    };
    await store.createClient(client);
    expect(await store.getClient('client-1')).toEqual(client);
    // A taken client id is a 409 on every store (the API then takes the next id), never a driver error.
    await expect(store.createClient({ ...client, secretHash: 'other' })).rejects.toMatchObject({
      status: 409,
    });
    expect(await store.getClient('client-1')).toEqual(client);
    expect(await store.getClient('nope')).toBeUndefined();
    const token = {
      tokenHash: 'abc',
      tenantId: tenant.tenantId,
      clientId: 'client-1',
      scope: 'api',
      expiresAt: 123,
    };
    expect(await store.createToken(token, client.secretHash)).toBe(true);
    expect(await store.getToken('abc')).toEqual(token);
    expect(await store.getToken('abd')).toBeUndefined();
  });

  it("lists a tenant's clients and revokes one with every token issued to it", async () => {
    const store = await stores.fresh();
    const a = tenantFixture('a');
    const b = tenantFixture('b');
    await store.createTenant(a);
    await store.createTenant(b);
    const client = (clientId: string, tenantId: string, created: string) => ({
      clientId,
      tenantId,
      secretHash: `hash-of-${clientId}`,
      scope: 'api',
      created,
    });
    const first = client('a-1', a.tenantId, '2026-01-01T00:00:00.000Z');
    const second = client('a-2', a.tenantId, '2026-01-02T00:00:00.000Z');
    const other = client('b-1', b.tenantId, '2026-01-01T00:00:00.000Z');
    for (const c of [second, other, first]) await store.createClient(c);
    expect(await store.listClients(a.tenantId)).toEqual([first, second]);
    expect(await store.listClients(randomUUID())).toEqual([]);

    const token = (tokenHash: string, c: typeof first) => ({
      tokenHash,
      tenantId: c.tenantId,
      clientId: c.clientId,
      scope: 'api',
      expiresAt: Date.now() + 60_000,
    });
    for (const t of [token('t1', first), token('t2', first), token('t3', second), token('t4', other)]) {
      expect(await store.createToken(t, `hash-of-${t.clientId}`)).toBe(true);
    }
    // A token is only issued to a client that still has the secret it was checked against.
    expect(await store.createToken(token('t5', first), 'hash-of-another-secret')).toBe(false);
    expect(await store.getToken('t5')).toBeUndefined();

    // Another tenant's client is not found through this tenant, and nothing of it goes.
    expect(await store.deleteClient(a.tenantId, 'b-1')).toBeUndefined();
    expect(await store.getClient('b-1')).toEqual(other);
    expect(await store.getToken('t4')).toBeDefined();

    expect(await store.deleteClient(a.tenantId, 'a-1')).toBe(2);
    expect(await store.getClient('a-1')).toBeUndefined();
    expect(await store.getToken('t1')).toBeUndefined();
    expect(await store.getToken('t2')).toBeUndefined();
    expect(await store.getToken('t3')).toBeDefined();
    expect(await store.listClients(a.tenantId)).toEqual([second]);
    expect(await store.deleteClient(a.tenantId, 'a-1')).toBeUndefined();
    // No token for a revoked client, even with the secret it had.
    expect(await store.createToken(token('t6', first), 'hash-of-a-1')).toBe(false);
    expect(await store.getToken('t6')).toBeUndefined();
  });

  it('updates a tenant and reports an unknown one as NotFound', async () => {
    const store = await stores.fresh();
    const tenant = tenantFixture();
    await store.createTenant(tenant);
    const updated = { ...tenant, name: 'Renamed', accountHolderEmail: 'new@example.com', modified: iso() };
    await store.updateTenant(updated);
    expect(await store.getTenant(tenant.tenantId)).toEqual(updated);
    await expectCatalogueError(store.updateTenant({ ...tenant, tenantId: randomUUID() }), 'NotFound');
  });

  it('finds nothing by a key with a NUL character (PostgreSQL text cannot hold one)', async () => {
    const store = await stores.fresh();
    const world = await makeWorld(store);
    const nul = (key: string) => `${key}\u0000`;
    expect(await store.getTenant(nul(world.tenant.tenantId))).toBeUndefined();
    expect(await store.getClient(nul('client-1'))).toBeUndefined();
    expect(await store.getToken(nul('abc'))).toBeUndefined();
    expect(await store.getHub(nul(world.hub.hubId))).toBeUndefined();
    expect(await store.getIntegration(nul(world.system.integrationId))).toBeUndefined();
    expect(await store.getConversation(nul(world.conversation.conversationId))).toBeUndefined();
    expect(await store.getDelivery(nul(randomUUID()))).toBeUndefined();
  });

  it('lists hubs by tenant, oldest first, with totals and pages', async () => {
    const store = await stores.fresh();
    const a = tenantFixture('a');
    const b = tenantFixture('b');
    await store.createTenant(a);
    await store.createTenant(b);
    const hubsA = [
      hubFixture(a.tenantId, 'one'),
      hubFixture(a.tenantId, 'two'),
      hubFixture(a.tenantId, 'three'),
    ];
    for (const hub of hubsA) await store.createHub(hub);
    await store.createHub(hubFixture(b.tenantId, 'one'));
    const first = await store.listHubs(a.tenantId, page(0, 2));
    expect(first.total).toBe(3);
    expect(first.results.map((h) => h.name)).toEqual(['one', 'two']);
    expect((await store.listHubs(a.tenantId, page(1, 2))).results.map((h) => h.name)).toEqual(['three']);
    expect((await store.listHubs(undefined, page(0, 10))).total).toBe(4);
    expect(await store.getHub(hubsA[1]!.hubId)).toEqual(hubsA[1]);
  });

  it('refuses a hub name already taken in the tenant with HubNameExists', async () => {
    const store = await stores.fresh();
    const a = tenantFixture();
    const b = tenantFixture();
    await store.createTenant(a);
    await store.createTenant(b);
    await store.createHub(hubFixture(a.tenantId, 'same'));
    await expectCatalogueError(store.createHub(hubFixture(a.tenantId, 'same')), 'HubNameExists');
    await store.createHub(hubFixture(b.tenantId, 'same'));
    const other = hubFixture(a.tenantId, 'other');
    await store.createHub(other);
    await expectCatalogueError(store.updateHub({ ...other, name: 'same' }), 'HubNameExists');
    expect((await store.listHubs(a.tenantId, page())).total).toBe(2);
  });

  it('updates a hub and reports an unknown one as HubNotFound', async () => {
    const store = await stores.fresh();
    const tenant = tenantFixture();
    await store.createTenant(tenant);
    const hub = hubFixture(tenant.tenantId);
    await store.createHub(hub);
    const changed = {
      ...hub,
      name: 'renamed',
      description: 'new',
      closeDormantConversation: 60,
      modified: iso(),
    };
    await store.updateHub(changed);
    expect(await store.getHub(hub.hubId)).toEqual(changed);
    await expectCatalogueError(store.updateHub(hubFixture(tenant.tenantId)), 'HubNotFound');
  });

  it('creates, lists, replaces and deletes integrations with their configuration intact', async () => {
    const store = await stores.fresh();
    const tenant = tenantFixture();
    await store.createTenant(tenant);
    const hub = hubFixture(tenant.tenantId);
    const otherHub = hubFixture(tenant.tenantId);
    await store.createHub(hub);
    await store.createHub(otherHub);
    const system = systemFixture(hub, 'sys');
    const direct = directFixture(hub, 'Bot', true);
    await store.createIntegration(system);
    await store.createIntegration(direct);
    await store.createIntegration(systemFixture(otherHub, 'sys'));
    expect(await store.getIntegration(system.integrationId)).toEqual(system);
    const listed = await store.listIntegrations({ hubId: hub.hubId }, page());
    expect(listed.total).toBe(2);
    expect(listed.results.map((i) => i.integrationId)).toEqual([system.integrationId, direct.integrationId]);
    expect((await store.listIntegrations({ tenantId: tenant.tenantId }, page(0, 1))).total).toBe(3);
    expect((await store.listIntegrations({}, page())).total).toBe(3);
    const replaced = {
      ...system,
      configuration: { webhookUrl: 'http://127.0.0.1:1/x', events: ['message:agent'] },
    };
    await store.updateIntegration(replaced);
    expect((await store.getIntegration(system.integrationId))?.configuration).toEqual(replaced.configuration);
    await store.deleteIntegration(direct.integrationId);
    expect(await store.getIntegration(direct.integrationId)).toBeUndefined();
    await expectCatalogueError(store.updateIntegration(direct), 'IntegrationNotFound');
  });

  it('refuses an integration name already taken in the hub with IntegrationNameExists', async () => {
    const store = await stores.fresh();
    const tenant = tenantFixture();
    await store.createTenant(tenant);
    const hub = hubFixture(tenant.tenantId);
    const otherHub = hubFixture(tenant.tenantId);
    await store.createHub(hub);
    await store.createHub(otherHub);
    await store.createIntegration(systemFixture(hub, 'dup'));
    await expectCatalogueError(store.createIntegration(systemFixture(hub, 'dup')), 'IntegrationNameExists');
    await store.createIntegration(systemFixture(otherHub, 'dup'));
    const second = systemFixture(hub, 'second');
    await store.createIntegration(second);
    await expectCatalogueError(store.updateIntegration({ ...second, name: 'dup' }), 'IntegrationNameExists');
  });

  it('deletes a hub with its integrations and cancels their pending deliveries', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const result = await store.submitActivity(w.conversation.conversationId, planTo([webhookTo(w.system)]));
    await store.deleteHub(w.hub.hubId);
    expect(await store.getHub(w.hub.hubId)).toBeUndefined();
    expect(await store.getIntegration(w.system.integrationId)).toBeUndefined();
    expect((await store.getDelivery(result.deliveryIds[0]!))?.status).toBe('cancelled');
    expect(await store.nextDueAt()).toBeUndefined();
    await expectCatalogueError(store.deleteHub(w.hub.hubId), 'HubNotFound');
  });

  it('refuses an integration for a hub that is gone (deleted after the caller found it)', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    await store.deleteHub(w.hub.hubId);
    const late = systemFixture(w.hub);
    await expectCatalogueError(store.createIntegration(late), 'HubNotFound');
    expect(await store.getIntegration(late.integrationId)).toBeUndefined();
    expect((await store.listIntegrations({ hubId: w.hub.hubId }, page())).total).toBe(0);
  });

  it('establishes a conversation once per integration and binding', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const c = conversationFixture(w.customer, 'binding-1');
    const first = await store.establishConversation(
      { integrationId: c.integrationId, binding: c.binding },
      () => c,
    );
    expect(first).toEqual({ conversation: c, isNew: true });
    const again = await store.establishConversation(
      { integrationId: c.integrationId, binding: c.binding },
      () => conversationFixture(w.customer, 'binding-1'),
    );
    expect(again.isNew).toBe(false);
    expect(again.conversation.conversationId).toBe(c.conversationId);
    expect(await store.getConversation(c.conversationId)).toEqual(c);
    expect(await store.getConversation(randomUUID())).toBeUndefined();
  });

  it('establishes exactly one conversation when the same binding races', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.establishConversation({ integrationId: w.customer.integrationId, binding: 'race' }, () =>
          conversationFixture(w.customer, 'race'),
        ),
      ),
    );
    expect(results.filter((r) => r.isNew)).toHaveLength(1);
    expect(new Set(results.map((r) => r.conversation.conversationId)).size).toBe(1);
  });

  it('gives an integration’s e-mail window to one caller at a time, again once it has passed', async () => {
    const store = await stores.fresh();
    const integrationId = randomUUID();
    const other = randomUUID();
    const t0 = 1_800_000_000_000;
    const window = 60_000;
    expect(await store.reserveEmailWindow(integrationId, t0, window)).toEqual({
      reserved: true,
      lastSentAt: t0,
    });
    // Concurrent callers (two processes): exactly one gets a window.
    const both = await Promise.all([
      store.reserveEmailWindow(integrationId, t0 + 1_000, window),
      store.reserveEmailWindow(integrationId, t0 + 2_000, window),
    ]);
    expect(both).toEqual([
      { reserved: false, lastSentAt: t0 },
      { reserved: false, lastSentAt: t0 },
    ]);
    expect((await store.reserveEmailWindow(other, t0 + 1_000, window)).reserved).toBe(true);
    const later = await Promise.all([
      store.reserveEmailWindow(integrationId, t0 + window, window),
      store.reserveEmailWindow(integrationId, t0 + window, window),
    ]);
    expect(later.filter((w) => w.reserved)).toHaveLength(1);
    expect(later.every((w) => w.lastSentAt === t0 + window)).toBe(true);
    // A reopened store keeps the window.
    const reopened = await stores.restart(store);
    expect(await reopened.reserveEmailWindow(integrationId, t0 + window + 1, window)).toEqual({
      reserved: false,
      lastSentAt: t0 + window,
    });
  });

  it('gives back an e-mail window no e-mail went out in, unless another reservation followed', async () => {
    const store = await stores.fresh();
    const integrationId = randomUUID();
    const t0 = 1_800_000_000_000;
    const window = 60_000;
    expect((await store.reserveEmailWindow(integrationId, t0, window)).reserved).toBe(true);
    await store.releaseEmailWindow(integrationId, t0, window);
    // Given back: taken again at once (a moment later), not a window later.
    expect(await store.reserveEmailWindow(integrationId, t0 + 10, window)).toEqual({
      reserved: true,
      lastSentAt: t0 + 10,
    });
    // A stale give-back (of the window before) leaves the current one taken.
    await store.releaseEmailWindow(integrationId, t0, window);
    expect(await store.reserveEmailWindow(integrationId, t0 + 20, window)).toEqual({
      reserved: false,
      lastSentAt: t0 + 10,
    });
  });

  it('removes the passed e-mail windows of deleted integrations only', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const gone = randomUUID();
    const t0 = 1_800_000_000_000;
    const window = 60_000;
    for (const id of [w.system.integrationId, gone]) {
      expect((await store.reserveEmailWindow(id, t0, window)).reserved).toBe(true);
    }
    // Not passed yet: kept (it still holds the deleted integration's last digest back).
    expect(await store.pruneEmailWindows(t0 - 1)).toBe(0);
    // Passed: the deleted integration's goes, the live one's stays.
    expect(await store.pruneEmailWindows(t0)).toBe(1);
    expect(await store.reserveEmailWindow(w.system.integrationId, t0 + 1, window)).toEqual({
      reserved: false,
      lastSentAt: t0,
    });
    expect(await store.pruneEmailWindows(t0 + window)).toBe(0);
  });

  it('stores notifications and lists them per tenant, newest first', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const other = tenantFixture();
    await store.createTenant(other);
    const make = (tenantId: string, caption: string, deliveryId?: string): Notification => {
      const n: Notification = {
        notificationId: randomUUID(),
        tenantId,
        hubId: w.hub.hubId,
        integrationId: w.system.integrationId,
        code: 7512,
        caption,
        details: 'HTTP 500 from http://127.0.0.1:9/system after 6 attempts',
        createdAt: iso(),
      };
      if (deliveryId !== undefined) n.deliveryId = deliveryId;
      return n;
    };
    const first = make(w.tenant.tenantId, 'first', randomUUID());
    const second = make(w.tenant.tenantId, 'second');
    await store.createNotification(first);
    await store.createNotification(second);
    await store.createNotification(make(other.tenantId, 'foreign'));
    const mine = await store.listNotifications(w.tenant.tenantId, page());
    expect(mine.total).toBe(2);
    expect(mine.results).toEqual([second, first]);
    expect((await store.listNotifications(undefined, page(0, 1))).total).toBe(3);
    expect((await store.listNotifications(undefined, page(0, 1))).results).toHaveLength(1);
  });

  it('keeps the e-mails owed for notifications, per integration and oldest first, until cleared', async () => {
    const store = await stores.fresh();
    const w = await makeWorld(store);
    const make = (integrationId: string, details: string): Notification => ({
      notificationId: randomUUID(),
      tenantId: w.tenant.tenantId,
      hubId: w.hub.hubId,
      integrationId,
      code: 7512,
      caption: 'Unreachable web-endpoint.',
      details,
      createdAt: iso(),
    });
    const a1 = make(w.system.integrationId, 'a1');
    const a2 = make(w.system.integrationId, 'a2');
    const b1 = make(w.customer.integrationId, 'b1');
    await store.createNotification(a1, '{"n":1}');
    await store.createNotification(make(w.system.integrationId, 'nothing owed'));
    await store.createNotification(a2, '{"n":2}');
    await store.createNotification(b1, '{"n":3}');
    expect((await store.integrationsOwedMail()).sort()).toEqual(
      [w.system.integrationId, w.customer.integrationId].sort(),
    );
    expect(await store.listOwedMail(w.system.integrationId, 10)).toEqual([
      { notification: a1, mail: '{"n":1}' },
      { notification: a2, mail: '{"n":2}' },
    ]);
    expect(await store.listOwedMail(w.system.integrationId, 1)).toHaveLength(1);
    await store.clearOwedMail([a1.notificationId, b1.notificationId]);
    expect(await store.integrationsOwedMail()).toEqual([w.system.integrationId]);
    // Kept across a restart; the notifications themselves stay listed either way.
    const reopened = await stores.restart(store);
    expect(await reopened.listOwedMail(w.system.integrationId, 10)).toEqual([
      { notification: a2, mail: '{"n":2}' },
    ]);
    expect(await reopened.listOwedMail(w.customer.integrationId, 10)).toEqual([]);
    expect((await reopened.listNotifications(w.tenant.tenantId, page())).total).toBe(4);
    await reopened.clearOwedMail([]);
  });
}
