-- Department webhooks (GB/T 44189 9: departments receive their events): registrations with an
-- encrypted signing secret, one delivery row per (webhook, event), and the log of every attempt.

CREATE TABLE webhooks (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  department_id     uuid NOT NULL REFERENCES departments(id),
  url               text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
  -- Event type patterns, NATS-style: 'ticket.*', 'ticket.dispatched', 'ticket.>', '>'.
  events            text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
  description       text CHECK (length(description) <= 500),
  -- AES-256-GCM of the signing secret (iv | tag | ciphertext, base64); the service must sign with
  -- the secret itself, so a one-way digest will not do. key_id names the key it was sealed with.
  secret_ciphertext text NOT NULL,
  secret_key_id     text NOT NULL,
  secret_hint       text NOT NULL,
  active            boolean NOT NULL DEFAULT true,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_department_idx ON webhooks (department_id, created_at, id);

-- One row per event per webhook; the unique key makes enqueueing idempotent.
CREATE TABLE webhook_deliveries (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id         uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  department_id      uuid NOT NULL REFERENCES departments(id),
  event_id           uuid NOT NULL,
  event_type         text NOT NULL,
  -- The JSON body sent on every attempt (fixed at enqueue, so a redelivery sends the same data).
  body               jsonb NOT NULL,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
  attempts           integer NOT NULL DEFAULT 0,
  max_attempts       integer NOT NULL CHECK (max_attempts >= 1),
  next_attempt_at    timestamptz NOT NULL,
  -- A claimed row belongs to one deliverer until then; after it, a crashed claim is retried.
  locked_until       timestamptz,
  last_response_code integer,
  last_latency_ms    integer,
  last_error         text,
  redeliveries       integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  completed_at       timestamptz,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_completed_idx ON webhook_deliveries (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE webhook_delivery_attempts (
  id             bigserial PRIMARY KEY,
  delivery_id    uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt        integer NOT NULL,
  at             timestamptz NOT NULL,
  response_code  integer,
  latency_ms     integer NOT NULL,
  error          text,
  response_body  text CHECK (length(response_body) <= 2000),
  UNIQUE (delivery_id, attempt)
);

-- Wake the deliverers of every instance when new work commits.
CREATE FUNCTION webhook_deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('webhook_deliveries', '');
  RETURN NULL;
END $$;
CREATE TRIGGER webhook_deliveries_inserted AFTER INSERT OR UPDATE OF next_attempt_at ON webhook_deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION webhook_deliveries_notify();
