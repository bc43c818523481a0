// Row ↔ entity mapping for the PostgreSQL backend: the only place that knows column names.

import type {
  Attempt,
  ClientRecord,
  Conversation,
  Delivery,
  DeliveryStatus,
  Hub,
  Integration,
  IntegrationType,
  ChannelType,
  Notification,
  Tenant,
  TokenRecord,
} from '../../domain/types.js';

export type Row = Record<string, unknown>;

function str(row: Row, key: string): string {
  return row[key] as string;
}
function optStr(row: Row, key: string): string | undefined {
  const v = row[key];
  return v === null || v === undefined ? undefined : (v as string);
}
function num(row: Row, key: string): number {
  return Number(row[key]);
}
function optNum(row: Row, key: string): number | undefined {
  const v = row[key];
  return v === null || v === undefined ? undefined : Number(v);
}

export function toTenant(row: Row): Tenant {
  return {
    tenantId: str(row, 'tenant_id'),
    name: str(row, 'name'),
    accountHolderEmail: str(row, 'account_holder_email'),
    statusId: num(row, 'status_id'),
    created: str(row, 'created'),
    modified: str(row, 'modified'),
  };
}

export function toClient(row: Row): ClientRecord {
  return {
    clientId: str(row, 'client_id'),
    tenantId: str(row, 'tenant_id'),
    secretHash: str(row, 'secret_hash'),
    scope: str(row, 'scope'),
    created: str(row, 'created'),
  };
}

export function toToken(row: Row): TokenRecord {
  return {
    tokenHash: str(row, 'token_hash'),
    tenantId: str(row, 'tenant_id'),
    clientId: str(row, 'client_id'),
    scope: str(row, 'scope'),
    expiresAt: num(row, 'expires_at'),
  };
}

export function toHub(row: Row): Hub {
  const hub: Hub = {
    hubId: str(row, 'hub_id'),
    tenantId: str(row, 'tenant_id'),
    name: str(row, 'name'),
    description: str(row, 'description'),
    statusId: num(row, 'status_id'),
    created: str(row, 'created'),
    modified: str(row, 'modified'),
  };
  const dormant = optNum(row, 'close_dormant_conversation');
  if (dormant !== undefined) hub.closeDormantConversation = dormant;
  return hub;
}

export function toIntegration(row: Row): Integration {
  return {
    integrationId: str(row, 'integration_id'),
    hubId: str(row, 'hub_id'),
    tenantId: str(row, 'tenant_id'),
    integrationTypeId: str(row, 'integration_type_id') as IntegrationType,
    channelId: str(row, 'channel_id') as ChannelType,
    name: str(row, 'name'),
    statusId: num(row, 'status_id'),
    configuration: JSON.parse(str(row, 'configuration')) as Integration['configuration'],
    created: str(row, 'created'),
    modified: str(row, 'modified'),
  };
}

export function toConversation(row: Row): Conversation {
  const conversation: Conversation = {
    conversationId: str(row, 'conversation_id'),
    tenantId: str(row, 'tenant_id'),
    hubId: str(row, 'hub_id'),
    integrationId: str(row, 'integration_id'),
    binding: str(row, 'binding'),
    tokenId: str(row, 'token_id'),
    properties: JSON.parse(str(row, 'properties')) as Conversation['properties'],
    openedDateTime: str(row, 'opened_date_time'),
    lastEventId: num(row, 'last_event_id'),
  };
  const closed = optStr(row, 'closed_date_time');
  if (closed !== undefined) conversation.closedDateTime = closed;
  const business = optStr(row, 'business_integration_id');
  if (business !== undefined) conversation.businessIntegrationId = business;
  return conversation;
}

/** Columns a delivery view needs; `paused` is computed by the query (integration or hub paused). */
export const DELIVERY_VIEW_SQL = `
  SELECT d.*, COALESCE(i.status_id = 3002 OR h.status_id = 2002, false) AS paused
  FROM deliveries d
  LEFT JOIN integrations i ON i.integration_id = d.integration_id
  LEFT JOIN hubs h ON h.hub_id = i.hub_id`;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A pending delivery of a paused integration or hub is reported as held (its lane is not claimed). */
export function toDelivery(row: Row, attempts?: Row[]): Delivery {
  const stored = str(row, 'status') as DeliveryStatus;
  const status: DeliveryStatus = stored === 'pending' && row['paused'] === true ? 'held' : stored;
  const delivery: Delivery = {
    deliveryId: str(row, 'delivery_id'),
    integrationId: str(row, 'integration_id'),
    conversationId: str(row, 'conversation_id'),
    hubId: str(row, 'hub_id'),
    tenantId: str(row, 'tenant_id'),
    status,
    activityCount: (row['event_ids'] as unknown[]).length,
    createdAt: iso(num(row, 'created_at')),
    attemptCount: num(row, 'attempt_count'),
  };
  if (stored === 'pending') delivery.nextAttemptAt = iso(num(row, 'next_attempt_at'));
  if (attempts !== undefined) delivery.attempts = attempts.map(toAttempt);
  return delivery;
}

export function toAttempt(row: Row): Attempt {
  const attempt: Attempt = {
    attemptNumber: num(row, 'attempt_number'),
    startedAt: iso(num(row, 'started_at')),
    durationMs: num(row, 'duration_ms'),
  };
  const statusCode = optNum(row, 'status_code');
  if (statusCode !== undefined) attempt.statusCode = statusCode;
  const error = optStr(row, 'error');
  if (error !== undefined) attempt.error = error;
  const excerpt = optStr(row, 'response_excerpt');
  if (excerpt !== undefined) attempt.responseExcerpt = excerpt;
  return attempt;
}

export function toNotification(row: Row): Notification {
  const notification: Notification = {
    notificationId: str(row, 'notification_id'),
    tenantId: str(row, 'tenant_id'),
    hubId: str(row, 'hub_id'),
    integrationId: str(row, 'integration_id'),
    code: num(row, 'code'),
    caption: str(row, 'caption'),
    details: str(row, 'details'),
    createdAt: str(row, 'created_at'),
  };
  const deliveryId = optStr(row, 'delivery_id');
  if (deliveryId !== undefined) notification.deliveryId = deliveryId;
  return notification;
}
