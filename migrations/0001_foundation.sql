-- Foundation: organisation (centres, departments), identities (users, sessions, API keys),
-- the append-only audit log, and the transactional outbox with consumer de-duplication.
-- Shipped migrations are never edited: the migrator refuses to start if a checksum changes.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- One deployment serves one hotline organisation with sub-centres (分中心), GB/T 44190 4.2.
CREATE TABLE centres (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text NOT NULL,
  parent_id   text REFERENCES centres(id),
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO centres (id, name) VALUES ('main', '12345政务服务便民热线');

-- 承办部门: a tree down to community/grid; partner units (water, power, …) are their own kind.
CREATE TABLE departments (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  parent_id   uuid REFERENCES departments(id),
  centre_id   text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  code        text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        text NOT NULL DEFAULT 'government' CHECK (kind IN ('government', 'partner')),
  level       text NOT NULL CHECK (level IN ('province', 'city', 'district', 'street', 'community')),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX departments_parent_idx ON departments (parent_id);

CREATE TABLE users (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username            text NOT NULL CHECK (username ~ '^[A-Za-z0-9._-]{3,64}$'),
  display_name        text NOT NULL,
  password_hash       text NOT NULL,
  role                text NOT NULL CHECK (role IN ('agent', 'supervisor', 'operator', 'dept_handler', 'admin')),
  department_id       uuid REFERENCES departments(id),
  centre_id           text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  active              boolean NOT NULL DEFAULT true,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- A department handler always belongs to exactly one department: that is its scope.
  CONSTRAINT users_dept_handler_scoped CHECK (role <> 'dept_handler' OR department_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- A JWT names its session, so sign-out and disabling a user take effect at once.
CREATE TABLE sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  ip          text,
  user_agent  text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Keys are random 256-bit secrets: a SHA-256 digest is enough (no dictionary to guess from).
CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix        text NOT NULL UNIQUE,
  key_hash      text NOT NULL,
  role          text NOT NULL CHECK (role IN ('integrator', 'dept_handler', 'operator')),
  department_id uuid REFERENCES departments(id),
  created_by    uuid REFERENCES users(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  CONSTRAINT api_keys_dept_handler_scoped CHECK (role <> 'dept_handler' OR department_id IS NOT NULL)
);

-- Who did what, when and from where: every write and every read of sensitive data.
CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor_type    text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
  actor_id      text,
  actor_name    text,
  actor_role    text,
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text,
  outcome       text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
  status_code   integer,
  ip            text,
  user_agent    text,
  request_id    text,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, at DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
  id            uuid PRIMARY KEY,
  seq           bigserial NOT NULL UNIQUE,
  subject       text NOT NULL,
  type          text NOT NULL,
  payload       jsonb NOT NULL,
  headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text
);
CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction with events commits (NOTIFY is delivered at commit).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Idempotent consumers: an event id is handled once per consumer name.
CREATE TABLE consumed_events (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  consumed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
