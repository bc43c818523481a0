// Request and response shapes of the Hookster HTTP API (DESIGN §5), as the client sends and receives them.
import type {
  Activity,
  ChannelType,
  ConversationProperties,
  InboundActivity,
  IntegrationType,
  Message,
} from '../payload/types.js';

export type { InboundActivity };

/** `{ pageNumber, pageSize, total, results }`. */
export interface Page<T> {
  pageNumber: number;
  pageSize: number;
  total: number;
  results: T[];
}

export interface PageQuery {
  pageNumber?: number;
  pageSize?: number;
}

/** Hubster's error body: `{ status, errors: [{ code, description }] }`. */
export interface ApiErrorBody {
  status: number;
  errors: { code: number; description: string }[];
}

export interface Tenant {
  tenantId: string;
  name: string;
  accountHolderEmail: string;
  statusId: number;
  created?: string;
  modified?: string;
}
export interface CreateTenant {
  name: string;
  accountHolderEmail: string;
}
/** `PUT /api/v1/tenants/{id}` (admin): the members given replace the tenant's. */
export type UpdateTenant = Partial<CreateTenant>;
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  scope: string;
}

export interface Hub {
  hubId: string;
  tenantId: string;
  name: string;
  description: string;
  closeDormantConversation?: number;
  statusId: number;
  created?: string;
  modified?: string;
}
export interface CreateHub {
  name: string;
  description: string;
  /** Required when the admin token creates a hub. */
  tenantId?: string;
  closeDormantConversation?: number;
  statusId?: 2000 | 2002;
}
export type UpdateHub = Partial<Omit<CreateHub, 'tenantId'>>;

export type SystemEventFilter = 'message' | 'message:customer' | 'message:agent' | 'message:bot';

export interface SystemConfiguration {
  webhookUrl: string;
  events: SystemEventFilter[];
  regenerateKeys?: boolean;
  /** Hookster extension: waits before attempts 2..N, e.g. "1s,5s". */
  retrySchedule?: string;
  /** Hookster extension: per-attempt timeout, e.g. "2s". */
  deliveryTimeout?: string;
}
export interface DirectConfiguration {
  integrationType: 'Customer' | 'Agent' | 'Bot';
  echo?: boolean;
  /** Absent: deliveries go over the websocket gateway. */
  webhookUrl?: string;
  start?: Message[];
  regenerateKeys?: boolean;
  retrySchedule?: string;
  deliveryTimeout?: string;
}
export type CreateIntegration =
  | { channelId: 'System'; name: string; statusId?: 3000 | 3002; configuration: SystemConfiguration }
  | { channelId: 'Direct'; name: string; statusId?: 3000 | 3002; configuration: DirectConfiguration };
export type UpdateIntegration = Partial<CreateIntegration>;

export interface Integration {
  integrationId: string;
  hubId: string;
  integrationTypeId: IntegrationType;
  channelId: ChannelType;
  name: string;
  statusId: number;
  configuration: Record<string, unknown> & {
    publicSigningKey?: string;
    privateSigningKey?: string;
    webhookUrl?: string;
  };
  created?: string;
  modified?: string;
}

export interface EstablishConversation {
  integrationId: string;
  binding: string;
  channelType?: 'Direct';
  properties?: Partial<ConversationProperties>;
}
export interface Conversation {
  tenantId?: string;
  hubId?: string;
  integrationId: string;
  conversationId: string;
  tokenId?: string;
  openedDateTime?: string;
  closedDateTime?: string;
  isNew?: boolean;
  properties: ConversationProperties;
}

export interface SubmitResponse {
  status: 200;
  eventId: number;
  externalId?: string;
  hubId: string;
  conversationId: string;
  integrationId: string;
  interactionId?: string;
}

export interface ActivityQuery {
  type?: 'Customer' | 'Agent' | 'Bot';
  /** Event id to list from (epoch ms). */
  leid?: number;
}

export type DeliveryStatus = 'pending' | 'held' | 'delivered' | 'failed' | 'cancelled';
export interface DeliveryAttempt {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseExcerpt?: string;
}
export interface DeliveryRecord {
  deliveryId: string;
  integrationId: string;
  conversationId: string;
  status: DeliveryStatus;
  activityCount: number;
  createdAt: string;
  nextAttemptAt?: string;
  /** Present in the single-delivery view. */
  attempts?: DeliveryAttempt[];
}

export interface RecoverResponse {
  status: 200;
  /** How many failed deliveries were queued again. */
  recovered: number;
}

export interface Notification {
  notificationId: string;
  tenantId: string;
  hubId: string;
  integrationId: string;
  deliveryId?: string;
  code: string;
  caption: string;
  details: string;
  createdAt: string;
}

export type { Activity };
