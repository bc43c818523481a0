// The Store contract: the only way anything above src/store reads or writes data. Every backend
// (sqlite/, postgres/) implements it and passes the conformance suite in store/conformance/.
// All methods are async so a networked backend fits; no SQL or driver type leaks out of a backend.

import { isDeepStrictEqual } from 'node:util';
import type {
  Activity,
  ClientRecord,
  Conversation,
  Delivery,
  EpochMs,
  Guid,
  Hub,
  Integration,
  Notification,
  Page,
  PageRequest,
  Tenant,
  TokenRecord,
} from '../domain/types.js';
import type { BodyEnvelopeFields } from '../domain/body.js';

/** What the pure routing function sees, loaded by the store inside the submit transaction. */
export interface RoutingContext {
  conversation: Conversation;
  hub: Hub;
  tenant: Tenant;
  /** Every integration of the hub (any status), oldest first. */
  integrations: Integration[];
  now: EpochMs;
}

export interface PlannedDelivery {
  integrationId: Guid;
  /** True for the echo copy sent back to the submitting integration (isEcho: true on the wire). */
  echo: boolean;
  /** webhook: queued for the dispatcher. websocket: fire-and-forget push, outcome recorded by the gateway. */
  transport: 'webhook' | 'websocket';
}

/** The result of routing one submitted activity; produced by domain code, written by the store. */
export interface ActivityPlan {
  activity: Activity;
  /** The activity serialised once (isEcho false); bodies are built from these exact bytes. */
  activityJson: string;
  deliveries: PlannedDelivery[];
  /** When an agent/bot spoke: the conversation's new current business integration. */
  businessIntegrationId?: Guid;
}

export interface SubmitResult {
  plan: ActivityPlan;
  conversation: Conversation;
  /** Ids of the deliveries written, in plan order. */
  deliveryIds: Guid[];
  /**
   * Optional, in plan order: true for a delivery written as held (its integration or hub is paused).
   * The websocket gateway does not push held deliveries. Absent = none held.
   */
  held?: boolean[];
}

/** An e-mail owed about a stored notification (createNotification's `owedMail`). */
export interface OwedMail {
  notification: Notification;
  mail: string;
}

/** Envelope fields of a delivery body (DESIGN §3), handed to the body builder at first dispatch. */
export type BodyEnvelope = BodyEnvelopeFields;

export interface ClaimRequest {
  /** Identifies the claiming process (for leases and diagnostics). */
  owner: string;
  now: EpochMs;
  /** Lease length; must exceed the attempt timeout so a live attempt is never taken over. */
  leaseMs: number;
  /**
   * Lease length of a delivery whose integration sets its own attempt timeout
   * (`configuration.deliveryTimeout`, as stored); `leaseMs` when absent.
   */
  leaseMsFor?: (deliveryTimeout: string) => number;
  /** Most deliveries to claim in this call. */
  limit: number;
  /** Most deliveries in flight per integration, counting `inFlight` (fairness between endpoints). */
  perIntegrationLimit: number;
  /** Deliveries this process already has in flight, by integration. */
  inFlight: ReadonlyMap<Guid, number>;
  /** System batching cap at first dispatch (DESIGN §3: 100 activities / 256 KiB). */
  batchMaxActivities: number;
  batchMaxBytes: number;
  /**
   * Pure: builds the body bytes from the envelope and the activities' JSON, in eventId order. A store may
   * call it again at a later attempt instead of keeping the bytes (SQLite does for a body of one
   * activity), so its output for given inputs must never change: a new body format must come with a
   * store migration that keeps the bytes of deliveries already dispatched.
   */
  buildBody: (envelope: BodyEnvelope, activitiesJson: string[]) => string;
}

export interface ClaimedDelivery {
  deliveryId: Guid;
  /** Fencing token: increases with every claim; a result carrying an older fence is ignored. */
  fence: number;
  /** 1-based number of the attempt about to be made. */
  attemptNumber: number;
  integrationId: Guid;
  hubId: Guid;
  tenantId: Guid;
  conversationId: Guid;
  webhookUrl: string;
  publicSigningKey: string;
  privateSigningKey: string;
  /** Per-integration overrides (configuration extensions), unparsed. */
  retrySchedule?: string;
  deliveryTimeout?: string;
  /** Exact bytes to POST; fixed at first dispatch (stored, or rebuilt from unchanging inputs) so every
   * retry is byte-identical. */
  body: string;
  activityCount: number;
  createdAt: EpochMs;
}

export type AttemptNext =
  { status: 'delivered' } | { status: 'pending'; nextAttemptAt: EpochMs } | { status: 'failed' };

export interface AttemptRecord {
  deliveryId: Guid;
  fence: number;
  attemptNumber: number;
  startedAt: EpochMs;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseExcerpt?: string;
  next: AttemptNext;
  /**
   * With a final `failed` outcome: the exhaustion notification (and the e-mail it owes, see
   * createNotification), stored in the same transaction as the outcome — only if the record applies —
   * so a crash cannot leave a failed delivery without its notification.
   */
  notify?: { notification: Notification; owedMail?: string };
}

export interface EstablishRequest {
  integrationId: Guid;
  binding: string;
  properties?: Conversation['properties'];
}

/** A websocket delivery written held (paused integration or hub), taken for its push after a resume. */
export interface HeldWebsocketDelivery {
  deliveryId: Guid;
  integrationId: Guid;
  conversationId: Guid;
  eventId: number;
  echo: boolean;
  /** The activity as submitted (isEcho false). */
  activityJson: string;
}

export interface ListActivitiesQuery {
  fromEventId: number;
  /** Only activities whose sender or recipient has this integration type. */
  integrationType?: string;
  /** At most this many activities (default ACTIVITIES_PER_ANSWER.count). */
  maxCount?: number;
  /** Stop once the activities' JSON reaches this many characters; at least one is returned. */
  maxChars?: number;
}

/**
 * The most one listing of a conversation's activities returns: a conversation has no end, and reading
 * it whole put hundreds of MB in memory per request. The caller asks again from the last eventId + 1.
 */
export const ACTIVITIES_PER_ANSWER = { count: 1000, chars: 8 * 1024 * 1024 };

/** Keeps rows (in order) while within the query's bounds; the first row always. */
export function withinActivityBounds(query: ListActivitiesQuery): (json: string) => boolean {
  const maxCount = query.maxCount ?? ACTIVITIES_PER_ANSWER.count;
  const maxChars = query.maxChars ?? ACTIVITIES_PER_ANSWER.chars;
  let count = 0;
  let chars = 0;
  return (json) => {
    if (count >= maxCount || (count > 0 && chars + json.length > maxChars)) return false;
    count++;
    chars += json.length;
    return true;
  };
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending numbered migrations under a lock and records them in the ledger. */
  migrate(): Promise<void>;
  /** Throws when the store can no longer keep what it commits (readiness; e.g. its file was removed). */
  check?(): Promise<void>;
  close(): Promise<void>;

  // tenants, clients, tokens
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: Guid): Promise<Tenant | undefined>;
  /** Replaces the tenant's name, e-mail and modified time; throws HooksterError NotFound if it is gone. */
  updateTenant(tenant: Tenant): Promise<void>;
  createClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  /** The tenant's clients, oldest first. */
  listClients(tenantId: Guid): Promise<ClientRecord[]>;
  /**
   * Revokes a client: deletes it and every token issued to it, in one transaction. Returns how many
   * tokens went with it; undefined when the tenant has no such client.
   */
  deleteClient(tenantId: Guid, clientId: string): Promise<number | undefined>;
  /**
   * Stores an issued token, unless its client was revoked or given a new secret since it was read:
   * false then (checked in the same transaction as the insert, so a revocation cannot miss it).
   */
  createToken(token: TokenRecord, clientSecretHash: string): Promise<boolean>;
  getToken(tokenHash: string): Promise<TokenRecord | undefined>;

  // hubs (tenantId undefined = admin: every tenant)
  /** Throws HooksterError HubNameExists when the name is taken in the tenant. */
  createHub(hub: Hub): Promise<void>;
  getHub(hubId: Guid): Promise<Hub | undefined>;
  /** Oldest first. */
  listHubs(tenantId: Guid | undefined, page: PageRequest): Promise<Page<Hub>>;
  /**
   * Replaces the hub's name, description, closeDormantConversation, status and modified time. Pausing
   * (2002) holds the hub's pending deliveries; resuming releases them. With `expected` (the hub as
   * read, from which the new one was computed) it writes only if the stored hub still equals it in
   * those fields, checked in the write's own transaction; otherwise it changes nothing and returns
   * false (as updateIntegration). Throws HooksterError HubNotFound when the hub is gone.
   */
  updateHub(hub: Hub, expected?: Hub): Promise<boolean>;
  /** Deletes the hub and its integrations, cancelling their pending deliveries. */
  deleteHub(hubId: Guid): Promise<void>;

  // integrations
  /** Throws HooksterError IntegrationNameExists when the name is taken in the hub. */
  createIntegration(integration: Integration): Promise<void>;
  getIntegration(integrationId: Guid): Promise<Integration | undefined>;
  /** Oldest first. */
  listIntegrations(filter: { tenantId?: Guid; hubId?: Guid }, page: PageRequest): Promise<Page<Integration>>;
  /**
   * Replaces the integration; a status change to/from 3002 holds/releases its pending deliveries.
   * With `expected` (the integration as read, from which the new one was computed) it writes only if
   * the stored integration still equals it in every field an update may change (name, statusId,
   * configuration, types, modified), checked in the write's own transaction; otherwise it changes
   * nothing and returns false (another update was written since: read again and recompute). Comparing
   * the whole value rather than a timestamp cannot miss an update written in the same millisecond; a
   * state changed and changed back to equal values is the same state, so writing over it is still
   * what one update after the other gives. Without `expected` it writes unconditionally. Throws
   * HooksterError IntegrationNotFound when the integration is gone.
   */
  updateIntegration(integration: Integration, expected?: Integration): Promise<boolean>;
  /** Deletes the integration and cancels its pending deliveries. */
  deleteIntegration(integrationId: Guid): Promise<void>;

  // conversations
  /** Idempotent on (integrationId, binding): returns the existing conversation with isNew false. */
  establishConversation(
    request: EstablishRequest,
    create: () => Conversation,
  ): Promise<{ conversation: Conversation; isNew: boolean }>;
  getConversation(conversationId: Guid): Promise<Conversation | undefined>;

  // activities
  /**
   * Loads the routing context, calls `plan` (pure, synchronous, may throw HooksterError) and commits
   * the activity, its deliveries and the conversation's new state in one transaction, then signals
   * work. Resolves only once that transaction is durable. Throws ConversationNotFound when unknown.
   * `plan` must give `activity.eventId` > `conversation.lastEventId`.
   */
  submitActivity(conversationId: Guid, plan: (ctx: RoutingContext) => ActivityPlan): Promise<SubmitResult>;
  listActivities(conversationId: Guid, query: ListActivitiesQuery): Promise<Activity[]>;

  // deliveries (dispatcher side)
  /**
   * Leases due deliveries: only the head of each (integration, conversation) lane (FIFO by eventId),
   * never one whose integration or hub is paused, never one under a live lease. A head dispatched for
   * the first time absorbs (System only) the waiting deliveries of its lane up to the batch cap and has
   * its body fixed. Each claim increments the delivery's fence.
   */
  claimDeliveries(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Records attempts and applies their outcome in one transaction. A record whose fence is not the
   * delivery's current fence is ignored (a stale lease). Returns the ids that were applied.
   * A final outcome (delivered/failed) lets the next delivery of the lane become its head.
   */
  recordAttempts(records: AttemptRecord[]): Promise<Guid[]>;
  /** Earliest time something becomes claimable (next attempt or lease expiry), if anything waits. */
  nextDueAt(): Promise<EpochMs | undefined>;
  /** Called after every commit that may have made work claimable (in-process or cross-process). */
  onWork(listener: () => void): () => void;

  // delivery log
  /** Newest first; `status` is a public status ("held" = pending of a paused integration or hub). */
  listDeliveries(integrationId: Guid, status: string | undefined, page: PageRequest): Promise<Page<Delivery>>;
  /** One delivery with its attempts. */
  getDelivery(deliveryId: Guid): Promise<Delivery | undefined>;
  /** Manual resend: a failed/delivered delivery goes back to pending now with a fresh attempt budget. */
  retryDelivery(deliveryId: Guid, now: EpochMs): Promise<boolean>;
  /** Resends every failed delivery of the integration created at or after `since`; returns the count. */
  recoverDeliveries(integrationId: Guid, since: EpochMs, now: EpochMs): Promise<number>;

  // websocket outcomes (fire-and-forget deliveries)
  recordWebsocketOutcomes(
    outcomes: { deliveryId: Guid; delivered: boolean; error?: string }[],
  ): Promise<void>;

  /**
   * Websocket deliveries still pending — neither held nor answered — since before `before` (counted from
   * their commit, or from their release after a pause): a process stopped between the commit and the
   * push, or before recording its outcome. Each is marked failed with one attempt carrying `error`
   * (fire-and-forget: nothing is pushed late). At most `limit`, oldest first; returns how many.
   */
  failStaleWebsocketDeliveries(before: EpochMs, error: string, limit: number): Promise<number>;

  /**
   * Takes the held websocket deliveries of these integrations (or of every integration of the hub)
   * whose integration and hub are both active now, oldest first (eventId order in a conversation).
   * Each is taken once: it stays pending, no longer held, until recordWebsocketOutcomes. Deliveries
   * of an integration or hub still paused are left held. `limit`: take at most this many (the oldest);
   * default all.
   */
  takeHeldWebsocketDeliveries(
    scope: { integrationIds: Guid[] } | { hubId: Guid },
    limit?: number,
  ): Promise<HeldWebsocketDelivery[]>;

  // notifications
  /**
   * Stores a notification. With `owedMail` (the notifier's own text) it also records that an e-mail
   * about it is owed: kept until clearOwedMail, so a digest survives a restart of the process that
   * would have sent it.
   */
  createNotification(notification: Notification, owedMail?: string): Promise<void>;
  /** The e-mails owed for an integration, oldest first, at most `limit`. */
  listOwedMail(integrationId: Guid, limit: number): Promise<OwedMail[]>;
  /** Records that the e-mails owed for these notifications went out (or will never go out). */
  clearOwedMail(notificationIds: Guid[]): Promise<void>;
  /** Integrations some e-mail is owed for (any process may send it once its window allows). */
  integrationsOwedMail(): Promise<Guid[]>;
  /**
   * Takes the integration's exhaustion e-mail window: true (and `now` recorded as the last e-mail) when
   * no e-mail went out for it in the `windowMs` before `now`, from any process; else false, with when the
   * last one went out. Atomic across processes.
   */
  reserveEmailWindow(
    integrationId: Guid,
    now: EpochMs,
    windowMs: number,
  ): Promise<{ reserved: boolean; lastSentAt: EpochMs }>;
  /**
   * Gives back the window reserveEmailWindow took at `reservedAt` when no e-mail went out in it, so the
   * next try (of any process) may take it at once. Nothing changes when another reservation followed.
   */
  releaseEmailWindow(integrationId: Guid, reservedAt: EpochMs, windowMs: number): Promise<void>;
  /**
   * Removes the e-mail windows of deleted integrations whose last e-mail went out at or before `before`
   * (a window that has passed is as good as none); returns how many.
   */
  pruneEmailWindows(before: EpochMs): Promise<number>;
  /** Newest first. */
  listNotifications(tenantId: Guid | undefined, page: PageRequest): Promise<Page<Notification>>;
}

/** When the lease a claim takes on a delivery ends: `leaseMs`, or longer for an integration's own timeout. */
export function leaseUntilOf(request: ClaimRequest, deliveryTimeout: unknown): EpochMs {
  const ms =
    typeof deliveryTimeout === 'string' && request.leaseMsFor !== undefined
      ? request.leaseMsFor(deliveryTimeout)
      : request.leaseMs;
  return request.now + ms;
}

/** Whether a stored hub is still the one an update was computed from (updateHub's `expected`). */
export function isUnchangedHub(stored: Hub, expected: Hub): boolean {
  return (
    stored.name === expected.name &&
    stored.description === expected.description &&
    (stored.closeDormantConversation ?? null) === (expected.closeDormantConversation ?? null) &&
    stored.statusId === expected.statusId &&
    stored.modified === expected.modified
  );
}

/**
 * Whether a stored integration is still the one an update was computed from (updateIntegration's
 * `expected`): every field an update may change is compared, the configuration by value.
 */
export function isUnchangedIntegration(stored: Integration, expected: Integration): boolean {
  return (
    stored.name === expected.name &&
    stored.statusId === expected.statusId &&
    stored.integrationTypeId === expected.integrationTypeId &&
    stored.channelId === expected.channelId &&
    stored.modified === expected.modified &&
    isDeepStrictEqual(stored.configuration, expected.configuration)
  );
}
