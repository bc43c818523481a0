// Entity shapes shared by every layer. Names are Hubster's wire names (DESIGN §2).

import type { ChannelType, IntegrationType } from '@hookster/sdk';

export type Guid = string;
/** Epoch milliseconds. */
export type EpochMs = number;

export const TenantStatus = { Active: 1000, Canceled: 1001, Disabled: 1002 } as const;
export const HubStatus = { Active: 2000, Canceled: 2001, Paused: 2002 } as const;
export const IntegrationStatus = { Active: 3000, Canceled: 3001, Paused: 3002 } as const;

// The wire's own unions have one definition, in the SDK (a type-only import: nothing at run time).
export type { ChannelType, IntegrationType };

export interface Tenant {
  tenantId: Guid;
  name: string;
  accountHolderEmail: string;
  statusId: number;
  created: string;
  modified: string;
}

/** API client credentials of a tenant; the secret is only ever stored hashed. */
export interface ClientRecord {
  clientId: string;
  tenantId: Guid;
  secretHash: string;
  scope: string;
  created: string;
}

/** An issued bearer token, stored by the hash of its value. */
export interface TokenRecord {
  tokenHash: string;
  tenantId: Guid;
  clientId: string;
  scope: string;
  expiresAt: EpochMs;
}

export interface Hub {
  hubId: Guid;
  tenantId: Guid;
  name: string;
  description: string;
  closeDormantConversation?: number;
  statusId: number;
  created: string;
  modified: string;
}

/**
 * Integration configuration, camelCase keys (input is accepted in any case and normalised).
 * System: webhookUrl + events. Direct: integrationType, echo?, webhookUrl?, start?.
 * Keys live here, as in Hubster's responses. retrySchedule / deliveryTimeout are Hookster extensions.
 */
export interface IntegrationConfiguration {
  webhookUrl?: string;
  events?: string[];
  integrationType?: 'Customer' | 'Agent' | 'Bot';
  echo?: boolean;
  start?: unknown[];
  publicSigningKey?: string;
  privateSigningKey?: string;
  /** Hookster extension: waits before attempts 2..N, e.g. "100ms,200ms" (overrides the deployment's). */
  retrySchedule?: string;
  /** Hookster extension: per-attempt timeout, e.g. "2s". */
  deliveryTimeout?: string;
  [key: string]: unknown;
}

export interface Integration {
  integrationId: Guid;
  hubId: Guid;
  /** Denormalised from the hub so tenant checks need no join. */
  tenantId: Guid;
  integrationTypeId: IntegrationType;
  channelId: ChannelType;
  name: string;
  statusId: number;
  configuration: IntegrationConfiguration;
  created: string;
  modified: string;
}

export interface ConversationProperties {
  profile: Record<string, string>;
  additional: Record<string, string>;
}

export interface Conversation {
  conversationId: Guid;
  tenantId: Guid;
  hubId: Guid;
  /** The customer-side integration that established it. */
  integrationId: Guid;
  binding: string;
  tokenId: string;
  properties: ConversationProperties;
  openedDateTime: string;
  closedDateTime?: string;
  /** The agent/bot that spoke last (DESIGN §2.2 point 3); undefined until one does. */
  businessIntegrationId?: Guid;
  /** Highest eventId issued in this conversation, 0 when none. */
  lastEventId: number;
}

export interface Source {
  integrationId?: Guid;
  integrationType?: IntegrationType;
  channelType?: ChannelType;
  tokenId?: string;
}

/** A fully enriched activity as it goes on the wire (hubster-wire §2.1). */
export interface Activity {
  type: 'message' | 'event';
  eventTrigger: string;
  eventId: number;
  externalId?: string;
  isEcho: boolean;
  interactionId?: Guid;
  flowProcess?: 'Default' | 'AutoReplay' | 'Ignore' | 'LogOnly';
  sender?: Source;
  recipient?: Source;
  message?: Record<string, unknown>;
  event?: Record<string, unknown>;
}

/** What a Direct integration posts (hubster-wire §2.2), after validation. */
export interface InboundActivity {
  type: 'message' | 'event';
  externalId?: string;
  sender?: { integrationId?: Guid };
  message?: Record<string, unknown>;
  event?: Record<string, unknown>;
}

export type DeliveryStatus = 'pending' | 'held' | 'delivered' | 'failed' | 'cancelled';

export interface Attempt {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseExcerpt?: string;
}

export interface Delivery {
  deliveryId: Guid;
  integrationId: Guid;
  conversationId: Guid;
  hubId: Guid;
  tenantId: Guid;
  status: DeliveryStatus;
  activityCount: number;
  createdAt: string;
  nextAttemptAt?: string;
  attemptCount: number;
  attempts?: Attempt[];
}

export interface Notification {
  notificationId: Guid;
  tenantId: Guid;
  hubId: Guid;
  integrationId: Guid;
  deliveryId?: Guid;
  /** Integer code (Hubster style, e.g. 7512 for ENG007512). */
  code: number;
  caption: string;
  details: string;
  createdAt: string;
}

export interface Page<T> {
  pageNumber: number;
  pageSize: number;
  total: number;
  results: T[];
}

export interface PageRequest {
  pageNumber: number;
  pageSize: number;
}
