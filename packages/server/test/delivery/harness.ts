// Shared set-up of the delivery end-to-end tests: a real engine child process, a tenant, a hub, a
// System integration pointing at a real loopback receiver, and conversations to submit into.
import { type RunningEngine, startEngine } from '../support/engine.js';
import {
  type ApiClient,
  type HubFixture,
  createTenantWithToken,
  eventually,
  setupHub,
} from '../support/client.js';

// Submitting is shared with the API and gateway tests.
export { submitText } from '../support/client.js';

export interface DeliveryWorld {
  engine: RunningEngine;
  client: ApiClient;
  tenantId: string;
  hub: HubFixture;
}

export async function startWorld(
  env: Record<string, string> = {},
  accountHolderEmail?: string,
  nodeArgs?: string[],
): Promise<DeliveryWorld> {
  const engine = await startEngine({ env, ...(nodeArgs ? { nodeArgs } : {}) });
  try {
    const tenant = await createTenantWithToken(engine, accountHolderEmail ? { accountHolderEmail } : {});
    const hub = await setupHub(tenant.client);
    return { engine, client: tenant.client, tenantId: tenant.tenantId, hub };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

export interface SystemIntegration {
  integrationId: string;
  publicSigningKey: string;
  privateSigningKey: string;
}

/** A System integration subscribed to every message, with optional Hookster configuration extensions. */
export async function addSystem(
  world: DeliveryWorld,
  webhookUrl: string,
  extra: Record<string, unknown> = {},
): Promise<SystemIntegration> {
  const created = (await world.hub.addIntegration({
    channelId: 'System',
    configuration: { webhookUrl, events: ['message'], ...extra },
  })) as { integrationId: string; configuration: Record<string, string> };
  const read = await world.client.get<{ configuration: Record<string, string> }>(
    `/api/v1/integrations/${created.integrationId}`,
  );
  const configuration = read.body.configuration ?? created.configuration;
  return {
    integrationId: created.integrationId,
    publicSigningKey: String(configuration.publicSigningKey),
    privateSigningKey: String(configuration.privateSigningKey),
  };
}

export interface WebhookBody {
  hubId: string;
  tenantId: string;
  integrationId: string;
  conversationId: string;
  activities: { eventId: number; isEcho: boolean; message?: { text?: string } }[];
}

export interface AttemptView {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseExcerpt?: string;
}

export interface DeliveryView {
  deliveryId: string;
  status: string;
  activityCount: number;
  attemptCount: number;
  attempts: AttemptView[];
}

/** The integration's deliveries (newest or oldest first, as the API lists them). */
export async function listDeliveries(world: DeliveryWorld, integrationId: string, status?: string) {
  const query = status ? `?status=${status}&pageSize=100` : '?pageSize=100';
  const response = await world.client.get<{ total: number; results: DeliveryView[] }>(
    `/api/v1/integrations/${integrationId}/deliveries${query}`,
  );
  if (response.status !== 200) throw new Error(`list deliveries: ${response.status} ${response.text}`);
  return response.body;
}

export async function getDelivery(world: DeliveryWorld, deliveryId: string): Promise<DeliveryView> {
  const response = await world.client.get<DeliveryView>(`/api/v1/deliveries/${deliveryId}`);
  if (response.status !== 200) throw new Error(`get delivery: ${response.status} ${response.text}`);
  return response.body;
}

/** Waits until the integration's only delivery reaches a final status; returns it with its attempts. */
export async function finalDelivery(world: DeliveryWorld, integrationId: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const list = await listDeliveries(world, integrationId);
    const first = list.results[0];
    if (!first || (first.status !== 'delivered' && first.status !== 'failed')) return undefined;
    return getDelivery(world, first.deliveryId);
  }, timeoutMs);
}

/** Gaps between the end of attempt n and the start of attempt n+1, in ms. */
export function gapsAfterFailures(attempts: AttemptView[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < attempts.length; i++) {
    const previous = attempts[i - 1];
    const current = attempts[i];
    if (!previous || !current) continue;
    gaps.push(Date.parse(current.startedAt) - (Date.parse(previous.startedAt) + previous.durationMs));
  }
  return gaps;
}
