// Fixtures for the Store conformance suite: a tenant with one hub, its integrations and a conversation,
// a tiny local planner (the real routing lives in domain/) and claim/record helpers.

import { randomUUID } from 'node:crypto';
import type {
  Activity,
  Conversation,
  Hub,
  Integration,
  IntegrationType,
  Tenant,
} from '../../domain/types.js';
import type {
  ActivityPlan,
  AttemptNext,
  BodyEnvelope,
  ClaimedDelivery,
  ClaimRequest,
  PlannedDelivery,
  RoutingContext,
  Store,
} from '../contract.js';

export const iso = (ms: number = Date.now()): string => new Date(ms).toISOString();

export function tenantFixture(name = 'Acme'): Tenant {
  return {
    tenantId: randomUUID(),
    name,
    accountHolderEmail: 'owner@example.com',
    statusId: 1000,
    created: iso(),
    modified: iso(),
  };
}

export function hubFixture(tenantId: string, name = `hub-${randomUUID()}`): Hub {
  return {
    hubId: randomUUID(),
    tenantId,
    name,
    description: 'a hub',
    statusId: 2000,
    created: iso(),
    modified: iso(),
  };
}

export function systemFixture(hub: Hub, name = `system-${randomUUID()}`): Integration {
  return {
    integrationId: randomUUID(),
    hubId: hub.hubId,
    tenantId: hub.tenantId,
    integrationTypeId: 'System',
    channelId: 'System',
    name,
    statusId: 3000,
    configuration: {
      webhookUrl: 'http://127.0.0.1:9/system',
      events: ['message'],
      publicSigningKey: 'A'.repeat(32),
      privateSigningKey: 'B'.repeat(32),
      retrySchedule: '10ms,20ms',
    },
    created: iso(),
    modified: iso(),
  };
}

export function directFixture(hub: Hub, type: 'Customer' | 'Agent' | 'Bot', webhook: boolean): Integration {
  return {
    integrationId: randomUUID(),
    hubId: hub.hubId,
    tenantId: hub.tenantId,
    integrationTypeId: type,
    channelId: 'Direct',
    name: `${type}-${randomUUID()}`,
    statusId: 3000,
    configuration: webhook
      ? {
          integrationType: type,
          echo: true,
          webhookUrl: 'http://127.0.0.1:9/direct',
          publicSigningKey: 'C'.repeat(32),
          privateSigningKey: 'D'.repeat(32),
        }
      : { integrationType: type },
    created: iso(),
    modified: iso(),
  };
}

export function conversationFixture(customer: Integration, binding: string = randomUUID()): Conversation {
  return {
    conversationId: randomUUID(),
    tenantId: customer.tenantId,
    hubId: customer.hubId,
    integrationId: customer.integrationId,
    binding,
    tokenId: 'dG9rZW4tdG9rZW4tdG9rZW4=',
    properties: { profile: { name: 'Ann' }, additional: {} },
    openedDateTime: iso(),
    lastEventId: 0,
  };
}

export interface World {
  store: Store;
  tenant: Tenant;
  hub: Hub;
  /** System integration (batching, webhook). */
  system: Integration;
  /** Direct customer integration with a webhook and echo. */
  customer: Integration;
  /** Direct agent without a webhook (websocket). */
  agent: Integration;
  conversation: Conversation;
}

export async function makeWorld(store: Store): Promise<World> {
  const tenant = tenantFixture();
  await store.createTenant(tenant);
  const hub = hubFixture(tenant.tenantId);
  await store.createHub(hub);
  const system = systemFixture(hub);
  const customer = directFixture(hub, 'Customer', true);
  const agent = directFixture(hub, 'Agent', false);
  for (const i of [system, customer, agent]) await store.createIntegration(i);
  const conversation = await newConversation(store, customer);
  return { store, tenant, hub, system, customer, agent, conversation };
}

export async function newConversation(store: Store, customer: Integration): Promise<Conversation> {
  const c = conversationFixture(customer);
  return (await store.establishConversation({ integrationId: c.integrationId, binding: c.binding }, () => c))
    .conversation;
}

export interface PlanOptions {
  text?: string;
  senderType?: IntegrationType;
  recipientType?: IntegrationType;
  businessIntegrationId?: string;
  /** Pads the message to make a large activity. */
  padding?: number;
  onContext?: (ctx: RoutingContext) => void;
}

/** A planner that sends one message activity to exactly the given deliveries. */
export function planTo(deliveries: PlannedDelivery[], options: PlanOptions = {}) {
  return (ctx: RoutingContext): ActivityPlan => {
    options.onContext?.(ctx);
    const senderType = options.senderType ?? 'Customer';
    const activity: Activity = {
      type: 'message',
      eventTrigger: `message:${senderType.toLowerCase()}`,
      eventId: Math.max(ctx.now, ctx.conversation.lastEventId + 1),
      isEcho: false,
      sender: { integrationType: senderType },
      recipient: { integrationType: options.recipientType ?? 'Agent' },
      message: { type: 'text', text: (options.text ?? 'hello') + 'x'.repeat(options.padding ?? 0) },
    };
    const plan: ActivityPlan = { activity, activityJson: JSON.stringify(activity), deliveries };
    if (options.businessIntegrationId !== undefined)
      plan.businessIntegrationId = options.businessIntegrationId;
    return plan;
  };
}

export const webhookTo = (integration: Integration, echo = false): PlannedDelivery => ({
  integrationId: integration.integrationId,
  echo,
  transport: 'webhook',
});

export const websocketTo = (integration: Integration): PlannedDelivery => ({
  integrationId: integration.integrationId,
  echo: false,
  transport: 'websocket',
});

/** The suite's body builder: exact bytes of the activities, envelope fields around them. */
export function testBody(envelope: BodyEnvelope, activitiesJson: string[]): string {
  const payload = envelope.shape === 'activities' ? `[${activitiesJson.join(',')}]` : activitiesJson[0];
  return (
    `{"hubId":"${envelope.hubId}","tenantId":"${envelope.tenantId}","integrationId":"${envelope.integrationId}",` +
    `"conversationId":"${envelope.conversationId}","conversationProperties":${envelope.conversationPropertiesJson},` +
    `"echo":${envelope.echo},"${envelope.shape}":${payload}}`
  );
}

export function claimRequest(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    owner: 'worker-1',
    now: Date.now(),
    leaseMs: 30_000,
    limit: 100,
    perIntegrationLimit: 100,
    inFlight: new Map(),
    batchMaxActivities: 100,
    batchMaxBytes: 256 * 1024,
    buildBody: testBody,
    ...overrides,
  };
}

/** The activities a claimed body carries, in order. */
export function bodyActivities(claimed: ClaimedDelivery): Activity[] {
  const body = JSON.parse(claimed.body) as { activities?: Activity[]; activity?: Activity };
  return body.activities ?? (body.activity ? [body.activity] : []);
}

export function record(claimed: ClaimedDelivery, next: AttemptNext, statusCode = 200) {
  return {
    deliveryId: claimed.deliveryId,
    fence: claimed.fence,
    attemptNumber: claimed.attemptNumber,
    startedAt: Date.now(),
    durationMs: 3,
    statusCode,
    next,
  };
}

export const page = (pageNumber = 0, pageSize = 50) => ({ pageNumber, pageSize });

/** Claims every claimable delivery and records it failed, until none is left. */
export async function failAll(store: Store): Promise<void> {
  for (;;) {
    const claimed = await store.claimDeliveries(claimRequest());
    if (claimed.length === 0) break;
    await store.recordAttempts(claimed.map((c) => record(c, { status: 'failed' }, 500)));
  }
}

/**
 * Submits `perLane` activities to each conversation, round after round across them, each planned by
 * `plan` with one delivery; returns each conversation's delivery ids in submit order.
 */
export async function submitAcross(
  store: Store,
  conversations: Conversation[],
  perLane: number,
  plan: (ctx: RoutingContext) => ActivityPlan,
): Promise<Map<string, string[]>> {
  const submitted = new Map<string, string[]>();
  for (let k = 0; k < perLane; k++) {
    for (const c of conversations) {
      const { deliveryIds } = await store.submitActivity(c.conversationId, plan);
      submitted.set(c.conversationId, [...(submitted.get(c.conversationId) ?? []), deliveryIds[0]!]);
    }
  }
  return submitted;
}

/** Claims and delivers everything claimable, until none is left; returns each lane's ids in claim order. */
export async function deliverAll(store: Store): Promise<Map<string, string[]>> {
  const order = new Map<string, string[]>();
  for (;;) {
    const claimed = await store.claimDeliveries(claimRequest());
    if (claimed.length === 0) break;
    for (const c of claimed)
      order.set(c.conversationId, [...(order.get(c.conversationId) ?? []), c.deliveryId]);
    await store.recordAttempts(claimed.map((c) => record(c, { status: 'delivered' })));
  }
  return order;
}
