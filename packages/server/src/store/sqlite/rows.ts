// Row shapes of the SQLite tables and their mapping to domain entities (one place for column names).

import type {
  Attempt,
  ClientRecord,
  Conversation,
  Delivery,
  DeliveryStatus,
  Hub,
  Integration,
  Notification,
  Tenant,
  TokenRecord,
} from '../../domain/types.js';

export interface TenantRow {
  tenant_id: string;
  name: string;
  account_holder_email: string;
  status_id: number;
  created: string;
  modified: string;
}

export interface ClientRow {
  client_id: string;
  tenant_id: string;
  secret_hash: string;
  scope: string;
  created: string;
}

export interface TokenRow {
  token_hash: string;
  tenant_id: string;
  client_id: string;
  scope: string;
  expires_at: number;
}

export interface HubRow {
  hub_id: string;
  tenant_id: string;
  name: string;
  description: string;
  close_dormant_conversation: number | null;
  status_id: number;
  created: string;
  modified: string;
  version: number;
}

export interface IntegrationRow {
  seq: number;
  integration_id: string;
  hub_id: string;
  tenant_id: string;
  integration_type_id: string;
  channel_id: string;
  name: string;
  status_id: number;
  configuration: string;
  created: string;
  modified: string;
}

export interface ConversationRow {
  seq: number;
  conversation_id: string;
  tenant_id: string;
  hub_id: string;
  integration_id: string;
  binding: string;
  token_id: string;
  properties: string;
  opened_date_time: string;
  closed_date_time: string | null;
  business_integration_id: string | null;
  last_event_id: number;
}

export interface DeliveryRow {
  seq: number;
  integration_ref: number;
  conversation_ref: number;
  integration_id: string;
  conversation_id: string;
  hub_id: string;
  tenant_id: string;
  transport: string;
  echo: number;
  activity_seq: number;
  activity_count: number;
  status: string;
  held: number;
  is_head: number;
  due_at: number | null;
  next_attempt_at: number | null;
  attempt_count: number;
  budget_base: number;
  lease_owner: string | null;
  lease_until: number | null;
  fence: number;
  created_at: number;
}

export interface AttemptRow {
  attempt_number: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export interface NotificationRow {
  notification_id: string;
  tenant_id: string;
  hub_id: string;
  integration_id: string;
  delivery_id: string | null;
  code: number;
  caption: string;
  details: string;
  created_at: string;
}

export function toTenant(row: TenantRow): Tenant {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    accountHolderEmail: row.account_holder_email,
    statusId: row.status_id,
    created: row.created,
    modified: row.modified,
  };
}

export function toClient(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    tenantId: row.tenant_id,
    secretHash: row.secret_hash,
    scope: row.scope,
    created: row.created,
  };
}

export function toToken(row: TokenRow): TokenRecord {
  return {
    tokenHash: row.token_hash,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    scope: row.scope,
    expiresAt: row.expires_at,
  };
}

export function toHub(row: HubRow): Hub {
  const hub: Hub = {
    hubId: row.hub_id,
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    statusId: row.status_id,
    created: row.created,
    modified: row.modified,
  };
  if (row.close_dormant_conversation !== null) hub.closeDormantConversation = row.close_dormant_conversation;
  return hub;
}

export function toIntegration(row: IntegrationRow): Integration {
  return {
    integrationId: row.integration_id,
    hubId: row.hub_id,
    tenantId: row.tenant_id,
    integrationTypeId: row.integration_type_id as Integration['integrationTypeId'],
    channelId: row.channel_id as Integration['channelId'],
    name: row.name,
    statusId: row.status_id,
    configuration: JSON.parse(row.configuration) as Integration['configuration'],
    created: row.created,
    modified: row.modified,
  };
}

export function toConversation(row: ConversationRow): Conversation {
  const conversation: Conversation = {
    conversationId: row.conversation_id,
    tenantId: row.tenant_id,
    hubId: row.hub_id,
    integrationId: row.integration_id,
    binding: row.binding,
    tokenId: row.token_id,
    properties: JSON.parse(row.properties) as Conversation['properties'],
    openedDateTime: row.opened_date_time,
    lastEventId: row.last_event_id,
  };
  if (row.closed_date_time !== null) conversation.closedDateTime = row.closed_date_time;
  if (row.business_integration_id !== null) conversation.businessIntegrationId = row.business_integration_id;
  return conversation;
}

/** The status the log shows: a pending delivery of a paused integration or hub is "held". */
export function publicStatus(row: Pick<DeliveryRow, 'status' | 'held'>): DeliveryStatus {
  if (row.status === 'pending' && row.held === 1) return 'held';
  return row.status as DeliveryStatus;
}

export function toDelivery(row: DeliveryRow, deliveryId: string): Delivery {
  const delivery: Delivery = {
    deliveryId,
    integrationId: row.integration_id,
    conversationId: row.conversation_id,
    hubId: row.hub_id,
    tenantId: row.tenant_id,
    status: publicStatus(row),
    activityCount: row.activity_count,
    createdAt: new Date(row.created_at).toISOString(),
    attemptCount: row.attempt_count,
  };
  if (row.status === 'pending' && row.next_attempt_at !== null) {
    delivery.nextAttemptAt = new Date(row.next_attempt_at).toISOString();
  }
  return delivery;
}

export function toAttempt(row: AttemptRow): Attempt {
  const attempt: Attempt = {
    attemptNumber: row.attempt_number,
    startedAt: new Date(row.started_at).toISOString(),
    durationMs: row.duration_ms,
  };
  if (row.status_code !== null) attempt.statusCode = row.status_code;
  if (row.error !== null) attempt.error = row.error;
  if (row.response_excerpt !== null) attempt.responseExcerpt = row.response_excerpt;
  return attempt;
}

export function toNotification(row: NotificationRow): Notification {
  const notification: Notification = {
    notificationId: row.notification_id,
    tenantId: row.tenant_id,
    hubId: row.hub_id,
    integrationId: row.integration_id,
    code: row.code,
    caption: row.caption,
    details: row.details,
    createdAt: row.created_at,
  };
  if (row.delivery_id !== null) notification.deliveryId = row.delivery_id;
  return notification;
}
