// Migration 0001: the initial schema. Embedded as a string module so it ships inside dist/ with tsc
// (no copy step); append-only — a later change is a new numbered file, never an edit of this one.

export const sql = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE tenants (
  tenant_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  account_holder_email TEXT NOT NULL,
  status_id INTEGER NOT NULL,
  created TEXT NOT NULL,
  modified TEXT NOT NULL
);

CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scope TEXT NOT NULL,
  created TEXT NOT NULL
);

CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- seq gives listings their creation order; version bumps on any change to the hub or its
-- integrations so a cached routing view is revalidated with one primary-key read.
CREATE TABLE hubs (
  seq INTEGER PRIMARY KEY,
  hub_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  close_dormant_conversation INTEGER,
  status_id INTEGER NOT NULL,
  created TEXT NOT NULL,
  modified TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tenant_id, name)
);

-- seq doubles as the integration's compact reference in delivery indexes; AUTOINCREMENT so a
-- deleted integration's reference is never reused (its cancelled deliveries stay in the log).
CREATE TABLE integrations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  integration_id TEXT NOT NULL UNIQUE,
  hub_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  integration_type_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status_id INTEGER NOT NULL,
  configuration TEXT NOT NULL,
  created TEXT NOT NULL,
  modified TEXT NOT NULL,
  UNIQUE (hub_id, name)
);
CREATE INDEX integrations_tenant ON integrations (tenant_id, seq);
-- Every integration reference ever issued, kept after the integration is deleted so its cancelled
-- deliveries still name their integration, hub and tenant (delivery rows carry only the references).
CREATE TABLE integration_refs (
  seq INTEGER PRIMARY KEY,
  integration_id TEXT NOT NULL,
  hub_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL
);

CREATE TABLE conversations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  hub_id TEXT NOT NULL,
  integration_id TEXT NOT NULL,
  binding TEXT NOT NULL,
  token_id TEXT NOT NULL,
  properties TEXT NOT NULL,
  opened_date_time TEXT NOT NULL,
  closed_date_time TEXT,
  business_integration_id TEXT,
  UNIQUE (integration_id, binding)
);
-- No last_event_id column: it is MAX(event_id) of the conversation's activities (one index seek),
-- so a submit does not rewrite the conversation row (one random page less per commit).

CREATE TABLE activities (
  seq INTEGER PRIMARY KEY,
  conversation_ref INTEGER NOT NULL,
  event_id INTEGER NOT NULL,
  sender_type TEXT,
  recipient_type TEXT,
  json TEXT NOT NULL,
  UNIQUE (conversation_ref, event_id)
);

-- One row per (activity, receiving integration). seq is the lane order (a conversation's submits are
-- serialised by the single writer, so seq order is eventId order inside a lane) and encodes the public
-- delivery id (see delivery-id.ts), so no separate unique index on a GUID column is needed.
-- status: pending | delivered | failed | cancelled; "held" is pending with held = 1.
-- is_head: the one delivery of its (integration, conversation) webhook lane the dispatcher may take.
-- due_at: when a head becomes claimable (creation, next attempt, or lease expiry while leased).
-- Indexes use integration_ref / conversation_ref (integrations.seq, conversations.seq), not the GUIDs:
-- small integer keys keep one conversation's lanes on one leaf page, so a submit of an activity for
-- ten integrations dirties one page of the lane index instead of several (WAL bytes per commit are
-- what bounds group-commit throughput).
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY,
  integration_ref INTEGER NOT NULL,
  conversation_ref INTEGER NOT NULL,
  transport TEXT NOT NULL,
  echo INTEGER NOT NULL,
  activity_seq INTEGER NOT NULL,
  activity_count INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL,
  held INTEGER NOT NULL DEFAULT 0,
  is_head INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  next_attempt_at INTEGER,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  budget_base INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  fence INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
-- The exact bytes fixed at first dispatch, apart from the small fixed-size delivery rows: a body
-- written into a row in the middle of the deliveries table would grow it and split its page.
CREATE TABLE delivery_bodies (
  seq INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
-- The delivery log and cancellation by integration.
CREATE INDEX deliveries_integration ON deliveries (integration_ref, seq);
-- Lanes: only non-final webhook rows, so finding "is the lane empty" or "the next one" never walks
-- a lane's delivered history. Conversation first: the deliveries of one activity (one conversation,
-- many integrations) land next to each other.
CREATE INDEX deliveries_lane ON deliveries (conversation_ref, integration_ref, seq)
  WHERE status = 'pending' AND transport = 'webhook';
-- Claimable heads per integration: fair claims, and nextDueAt as the minimum over integrations (one
-- seek each; no global due_at index, which every lease and outcome would have to rewrite). A blocked
-- lane contributes one entry, whatever its backlog.
CREATE INDEX deliveries_ready ON deliveries (integration_ref, due_at) WHERE is_head = 1 AND held = 0;
-- Held heads, so resuming finds them without walking the lanes.
CREATE INDEX deliveries_held ON deliveries (integration_ref) WHERE is_head = 1 AND held = 1;

CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  delivery_seq INTEGER NOT NULL,
  attempt_number INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_excerpt TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_seq, id);

CREATE TABLE notifications (
  seq INTEGER PRIMARY KEY,
  notification_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  hub_id TEXT NOT NULL,
  integration_id TEXT NOT NULL,
  delivery_id TEXT,
  code INTEGER NOT NULL,
  caption TEXT NOT NULL,
  details TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX notifications_tenant ON notifications (tenant_id, seq);
`;
