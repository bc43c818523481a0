// Routing of a submitted activity (DESIGN §2.2): enrichment (eventId, eventTrigger, sources) and who
// receives it. Pure: the store calls planActivity inside its submit transaction with a loaded context.

import { hash } from 'node:crypto';
import { HooksterError, errorItem } from './errors.js';
import type { ActivityPlan, PlannedDelivery, RoutingContext } from '../store/contract.js';
import {
  IntegrationStatus,
  type Activity,
  type Conversation,
  type InboundActivity,
  type Integration,
  type Source,
} from './types.js';

export type SubmitSide = 'customer' | 'business';

export interface PlanIds {
  /** The interactionId of a message: a sequential GUID whose timestamp is the activity's eventId. */
  interactionId: (eventId: number) => string;
}

/** `message` matches every message; `message:X` matches that trigger; events match nothing. */
export function matchesFilters(
  events: readonly string[] | undefined,
  type: Activity['type'],
  trigger: string,
): boolean {
  if (type !== 'message' || !events) return false;
  // One boolean per integration, never one delivery per matching filter (the once-only rule).
  for (const filter of events) {
    if (filter === 'message' || filter === trigger) return true;
  }
  return false;
}

/** Strictly increasing per conversation even when the clock repeats or goes backwards. */
export function nextEventId(conversation: Conversation, now: number): number {
  return Math.max(Math.floor(now), conversation.lastEventId + 1);
}

function isCanceled(integration: Integration): boolean {
  return integration.statusId === IntegrationStatus.Canceled;
}

function isBusiness(integration: Integration): boolean {
  return integration.integrationTypeId === 'Agent' || integration.integrationTypeId === 'Bot';
}

/**
 * The opaque business-side tokenId `<guid>.<integrationId>` (hubster-wire §2.1). Derived from the
 * conversation and the integration so it stays the same for every activity of that participant.
 */
export function businessTokenId(conversation: Conversation, integrationId: string): string {
  const hex = hash('sha256', `${conversation.conversationId}:${integrationId}`, 'hex');
  const opened = Date.parse(conversation.openedDateTime);
  const tail = (Number.isFinite(opened) ? opened : 0).toString(16).padStart(12, '0').slice(-12);
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${tail}`;
  return `${guid}.${integrationId}`;
}

function sourceOf(integration: Integration, tokenId: string): Source {
  return {
    integrationId: integration.integrationId,
    integrationType: integration.integrationTypeId,
    channelType: integration.channelId,
    tokenId,
  };
}

/** The conversation's customer integration; a conversation whose integration is gone is terminated. */
function customerIntegration(ctx: RoutingContext): Integration {
  const { conversation } = ctx;
  if (conversation.closedDateTime !== undefined)
    throw HooksterError.of('ConversationClosed', 'Conversation is closed.');
  const customer = ctx.integrations.find((i) => i.integrationId === conversation.integrationId);
  if (!customer || isCanceled(customer)) throw HooksterError.of('ConversationClosed');
  return customer;
}

/** The agent/bot submitting on the business route: a Direct Agent/Bot integration of this hub. */
function businessSender(ctx: RoutingContext, inbound: InboundActivity): Integration {
  const id = inbound.sender?.integrationId;
  if (id === undefined) {
    throw HooksterError.invalid([
      errorItem(
        'ActivityMissingProperty',
        "Property 'sender.integrationId' is required on the business route.",
      ),
    ]);
  }
  const sender = ctx.integrations.find((i) => i.integrationId === id);
  // Integrations of other hubs are not in the context: they are reported as unknown, never as foreign.
  if (!sender)
    throw HooksterError.of('EngineIntegrationNotFound', `Integration '${id}' does not exist in this hub.`);
  if (sender.channelId !== 'Direct' || !isBusiness(sender)) {
    throw HooksterError.of(
      'SenderNotAllowed',
      `Integration '${id}' is not an Agent or Bot Direct integration.`,
    );
  }
  if (isCanceled(sender)) throw HooksterError.of('SenderNotAllowed', `Integration '${id}' is canceled.`);
  return sender;
}

/** The current business integration, else the hub's first active Bot, else its first active Agent. */
export function businessRecipient(ctx: RoutingContext): Integration | undefined {
  const currentId = ctx.conversation.businessIntegrationId;
  if (currentId !== undefined) {
    const current = ctx.integrations.find((i) => i.integrationId === currentId);
    if (current && isBusiness(current) && !isCanceled(current)) return current;
  }
  const active = (type: 'Bot' | 'Agent') =>
    ctx.integrations.find((i) => i.integrationTypeId === type && i.statusId === IntegrationStatus.Active);
  return active('Bot') ?? active('Agent');
}

function transportOf(integration: Integration): PlannedDelivery['transport'] {
  return typeof integration.configuration.webhookUrl === 'string' &&
    integration.configuration.webhookUrl !== ''
    ? 'webhook'
    : 'websocket';
}

/**
 * Serialises with the wire's key order: type, eventTrigger, eventId, externalId?, isEcho,
 * interactionId?, flowProcess, sender, recipient, message|event. Echo bodies are derived by turning
 * the first `"isEcho":false` into true, so isEcho must come before any user-supplied text; externalId
 * precedes it but is a JSON string, whose quotes are escaped, so it can never contain that sequence.
 */
export function serializeActivity(activity: Activity): string {
  // Hand-assembled: this runs once per submitted activity and is several times faster than
  // stringifying an ordered copy. Nested values go through JSON.stringify unchanged.
  let json = '{"type":' + JSON.stringify(activity.type);
  json += ',"eventTrigger":' + JSON.stringify(activity.eventTrigger);
  json += ',"eventId":' + JSON.stringify(activity.eventId);
  if (activity.externalId !== undefined) json += ',"externalId":' + JSON.stringify(activity.externalId);
  json += ',"isEcho":' + (activity.isEcho ? 'true' : 'false');
  if (activity.interactionId !== undefined)
    json += ',"interactionId":' + JSON.stringify(activity.interactionId);
  if (activity.flowProcess !== undefined) json += ',"flowProcess":' + JSON.stringify(activity.flowProcess);
  if (activity.sender !== undefined) json += ',"sender":' + JSON.stringify(activity.sender);
  if (activity.recipient !== undefined) json += ',"recipient":' + JSON.stringify(activity.recipient);
  if (activity.message !== undefined) json += ',"message":' + JSON.stringify(activity.message);
  if (activity.event !== undefined) json += ',"event":' + JSON.stringify(activity.event);
  return json + '}';
}

/**
 * Enriches and routes one validated activity (DESIGN §2.2). Throws HooksterError for a sender that may
 * not submit. Paused receivers are planned like active ones: the store holds their deliveries.
 */
export function planActivity(
  ctx: RoutingContext,
  inbound: InboundActivity,
  side: SubmitSide,
  ids: PlanIds,
): ActivityPlan {
  const customer = customerIntegration(ctx);
  let sender: Integration;
  let senderSource: Source;
  let recipient: Integration | undefined;
  let recipientSource: Source | undefined;
  let businessIntegrationId: string | undefined;

  if (side === 'customer') {
    const claimed = inbound.sender?.integrationId;
    if (claimed !== undefined && claimed !== customer.integrationId) {
      throw HooksterError.of(
        'SenderNotAllowed',
        `Integration '${claimed}' is not this conversation's customer integration.`,
      );
    }
    sender = customer;
    senderSource = sourceOf(customer, ctx.conversation.tokenId);
    recipient = businessRecipient(ctx);
    if (recipient)
      recipientSource = sourceOf(recipient, businessTokenId(ctx.conversation, recipient.integrationId));
  } else {
    sender = businessSender(ctx, inbound);
    senderSource = sourceOf(sender, businessTokenId(ctx.conversation, sender.integrationId));
    recipient = customer;
    recipientSource = sourceOf(customer, ctx.conversation.tokenId);
    businessIntegrationId = sender.integrationId;
  }

  const eventId = nextEventId(ctx.conversation, ctx.now);
  const eventTrigger = `${inbound.type}:${sender.integrationTypeId.toLowerCase()}`;
  // Members are added in wire order and only when present (no deletes: they slow the object down).
  const activity: Activity = { type: inbound.type, eventTrigger, eventId } as Activity;
  if (inbound.externalId !== undefined) activity.externalId = inbound.externalId;
  activity.isEcho = false;
  if (inbound.type === 'message') activity.interactionId = ids.interactionId(eventId);
  activity.flowProcess = 'Default';
  activity.sender = senderSource;
  if (recipientSource) activity.recipient = recipientSource;
  if (inbound.type === 'message') activity.message = inbound.message;
  else activity.event = inbound.event;

  const deliveries: PlannedDelivery[] = [];
  // Only Direct/BYOI recipients are delivered (DESIGN §2.2 point 3).
  if (recipient && recipient.channelId === 'Direct' && !isCanceled(recipient)) {
    deliveries.push({
      integrationId: recipient.integrationId,
      echo: false,
      transport: transportOf(recipient),
    });
  }
  if (sender.channelId === 'Direct' && sender.configuration.echo === true) {
    deliveries.push({ integrationId: sender.integrationId, echo: true, transport: transportOf(sender) });
  }
  for (const integration of ctx.integrations) {
    if (integration.channelId !== 'System' || isCanceled(integration)) continue;
    if (typeof integration.configuration.webhookUrl !== 'string') continue;
    if (!matchesFilters(integration.configuration.events, activity.type, eventTrigger)) continue;
    deliveries.push({ integrationId: integration.integrationId, echo: false, transport: 'webhook' });
  }

  const plan: ActivityPlan = { activity, activityJson: serializeActivity(activity), deliveries };
  if (businessIntegrationId !== undefined) plan.businessIntegrationId = businessIntegrationId;
  return plan;
}
