// Migration 0001: the whole data model. SQL lives in a TypeScript string so the built dist carries it.

export const migration0001 = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE tenants (
  seq bigserial NOT NULL,
  tenant_id text PRIMARY KEY,
  name text NOT NULL,
  account_holder_email text NOT NULL,
  status_id integer NOT NULL,
  created text NOT NULL,
  modified text NOT NULL
);

CREATE TABLE clients (
  client_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  secret_hash text NOT NULL,
  scope text NOT NULL,
  created text NOT NULL
);

CREATE TABLE tokens (
  token_hash text PRIMARY KEY,
  tenant_id text NOT NULL,
  client_id text NOT NULL,
  scope text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE hubs (
  seq bigserial NOT NULL,
  hub_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  close_dormant_conversation integer,
  status_id integer NOT NULL,
  created text NOT NULL,
  modified text NOT NULL
);
CREATE UNIQUE INDEX hubs_tenant_name ON hubs (tenant_id, name);
CREATE INDEX hubs_seq ON hubs (seq);

CREATE TABLE integrations (
  seq bigserial NOT NULL,
  integration_id text PRIMARY KEY,
  hub_id text NOT NULL,
  tenant_id text NOT NULL,
  integration_type_id text NOT NULL,
  channel_id text NOT NULL,
  name text NOT NULL,
  status_id integer NOT NULL,
  configuration text NOT NULL,
  created text NOT NULL,
  modified text NOT NULL
);
CREATE UNIQUE INDEX integrations_hub_name ON integrations (hub_id, name);
CREATE INDEX integrations_tenant_seq ON integrations (tenant_id, seq);
CREATE INDEX integrations_hub_seq ON integrations (hub_id, seq);

CREATE TABLE conversations (
  conversation_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  hub_id text NOT NULL,
  integration_id text NOT NULL,
  binding text NOT NULL,
  token_id text NOT NULL,
  properties text NOT NULL,
  opened_date_time text NOT NULL,
  closed_date_time text,
  business_integration_id text,
  last_event_id bigint NOT NULL DEFAULT 0,
  UNIQUE (integration_id, binding)
);

CREATE TABLE activities (
  conversation_id text NOT NULL,
  event_id bigint NOT NULL,
  sender_type text,
  recipient_type text,
  activity_json text NOT NULL,
  PRIMARY KEY (conversation_id, event_id)
);

-- One row per delivery. Webhook deliveries of one (integration, conversation) form a lane, served
-- FIFO by (event_id, seq); websocket deliveries are fire-and-forget and never join a lane.
CREATE TABLE deliveries (
  seq bigserial NOT NULL,
  delivery_id text PRIMARY KEY,
  integration_id text NOT NULL,
  conversation_id text NOT NULL,
  hub_id text NOT NULL,
  tenant_id text NOT NULL,
  transport text NOT NULL,
  echo boolean NOT NULL,
  event_id bigint NOT NULL,
  -- the activities this delivery carries, in eventId order (more than one once a System head batched)
  event_ids bigint[] NOT NULL,
  status text NOT NULL,
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  attempt_count integer NOT NULL DEFAULT 0,
  -- attempts made before the last manual resend: the attempt budget restarts above it
  attempt_base integer NOT NULL DEFAULT 0,
  fence bigint NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until bigint,
  -- fixed at first dispatch, so every retry sends these exact bytes
  body text
);
CREATE INDEX deliveries_lane_pending ON deliveries (integration_id, conversation_id, event_id, seq)
  WHERE status = 'pending' AND transport = 'webhook';
CREATE INDEX deliveries_integration_seq ON deliveries (integration_id, seq);
CREATE INDEX deliveries_integration_failed ON deliveries (integration_id, created_at) WHERE status = 'failed';

-- One row per (integration, conversation) lane that has ever held a webhook delivery. head_id is the
-- one delivery of the lane the dispatcher may take; due_at is when: the head's next attempt time, or
-- its lease expiry while it is in flight. Both are NULL when the lane is empty. Claims lock lane rows
-- (FOR UPDATE SKIP LOCKED), so one lane is never claimed by two processes at once.
CREATE TABLE lanes (
  integration_id text NOT NULL,
  conversation_id text NOT NULL,
  head_id text,
  due_at bigint,
  PRIMARY KEY (integration_id, conversation_id)
);
CREATE INDEX lanes_due ON lanes (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE attempts (
  seq bigserial PRIMARY KEY,
  delivery_id text NOT NULL,
  attempt_number integer NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error text,
  response_excerpt text
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, seq);

CREATE TABLE notifications (
  seq bigserial NOT NULL,
  notification_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  hub_id text NOT NULL,
  integration_id text NOT NULL,
  delivery_id text,
  code integer NOT NULL,
  caption text NOT NULL,
  details text NOT NULL,
  created_at text NOT NULL
);
CREATE INDEX notifications_tenant_seq ON notifications (tenant_id, seq);
`,
};
