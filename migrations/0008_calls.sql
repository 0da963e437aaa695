-- Calls: one row per call that reached the Stasis app, its timeline, the queue entries the ACD
-- matches, every offer to an agent, recordings, tickets bound to it, callback and missed-call
-- tasks, and the caller flags that shape routing (elderly/assisted priority, harassment policy).
-- The row is written at StasisStart before anything is done with the channel, so a restarted
-- service can reconcile it with what Asterisk still holds.

-- Flags an operator or supervisor keeps per caller number (the IVR reads them at arrival).
CREATE TABLE caller_profiles (
  phone               text PRIMARY KEY CHECK (phone ~ '^\+?[0-9]{3,20}$'),
  flags               text[] NOT NULL DEFAULT '{}'
                      CHECK (flags <@ ARRAY['elderly', 'assisted', 'harassment']::text[]),
  -- What a call from a caller flagged for harassment gets: a warning first, or the call ended.
  harassment_action   text NOT NULL DEFAULT 'warn' CHECK (harassment_action IN ('warn', 'disconnect')),
  note                text CHECK (length(note) <= 500),
  updated_by          uuid REFERENCES users(id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calls (
  id                  uuid PRIMARY KEY,
  -- The Asterisk node and the caller's channel there (Asterisk ids repeat across nodes).
  node_id             text NOT NULL,
  channel_id          text NOT NULL,
  centre_id           text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  direction           text NOT NULL CHECK (direction IN ('inbound', 'transfer_in')),
  caller_number       text NOT NULL DEFAULT '',
  caller_name         text NOT NULL DEFAULT '',
  dialed_number       text NOT NULL DEFAULT '',
  language            text NOT NULL DEFAULT 'zh',
  state               text NOT NULL CHECK (state IN ('arrived', 'ivr', 'queued', 'offering', 'connected', 'survey', 'voicemail', 'ended')),
  -- Caller flags at arrival (elderly, assisted, harassment, emergency_linkage, repeat_caller).
  flags               text[] NOT NULL DEFAULT '{}',
  priority            integer,
  queue_id            uuid REFERENCES queues(id),
  agent_id            uuid REFERENCES agents(user_id),
  agent_channel_id    text,
  holding_bridge_id   text,
  bridge_id           text,
  -- Hand-off data of a call transferred in from 110/119/120/122 or a utility (case id, type, …).
  transfer            jsonb,
  -- The IVR choices in order: [{ "node": "main", "digit": "1", "action": "progress_query", "at": … }].
  ivr_path            jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(ivr_path) = 'array'),
  arrived_at          timestamptz NOT NULL,
  answered_at         timestamptz,
  queued_at           timestamptz,
  connected_at        timestamptz,
  ended_at            timestamptz,
  disposition         text CHECK (disposition IN (
                        'answered', 'abandoned_ivr', 'abandoned_queue', 'abandoned_ringing', 'self_served',
                        'callback_requested', 'overflow_callback', 'voicemail', 'rejected', 'failed', 'lost')),
  hangup_by           text CHECK (hangup_by IN ('caller', 'agent', 'system')),
  hangup_cause        integer,
  hangup_cause_text   text,
  survey_result       text CHECK (survey_result IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
  version             integer NOT NULL DEFAULT 1,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT calls_ended CHECK ((state = 'ended') = (ended_at IS NOT NULL AND disposition IS NOT NULL))
);
-- A channel id names one live call per node; a re-entry (continueInDialplan) keeps the row.
CREATE UNIQUE INDEX calls_channel_key ON calls (node_id, channel_id);
CREATE INDEX calls_live_idx ON calls (node_id) WHERE state <> 'ended';
CREATE INDEX calls_arrived_idx ON calls (arrived_at DESC, id DESC);
CREATE INDEX calls_caller_idx ON calls (caller_number, arrived_at DESC);
CREATE INDEX calls_agent_idx ON calls (agent_id, arrived_at DESC) WHERE agent_id IS NOT NULL;
CREATE INDEX calls_queue_idx ON calls (queue_id, arrived_at DESC) WHERE queue_id IS NOT NULL;

-- The call's timeline, append-only: arrival, IVR choices, queued, offers, answer, holds,
-- transfers, survey, end.
CREATE TABLE call_events (
  id        bigserial PRIMARY KEY,
  call_id   uuid NOT NULL REFERENCES calls(id),
  at        timestamptz NOT NULL,
  type      text NOT NULL CHECK (type ~ '^[a-z_]{1,40}$'),
  data      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX call_events_call_idx ON call_events (call_id, id);

CREATE FUNCTION call_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'call_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER call_events_no_change BEFORE UPDATE OR DELETE ON call_events
  FOR EACH ROW EXECUTE FUNCTION call_events_append_only();

-- Callers waiting for an agent. `enqueued_at` is kept through no-answers and overflows, so a
-- caller never loses their place; the ACD orders by priority, then enqueued_at.
CREATE TABLE queue_entries (
  call_id       uuid PRIMARY KEY REFERENCES calls(id),
  queue_id      uuid NOT NULL REFERENCES queues(id),
  node_id       text NOT NULL,
  priority      integer NOT NULL,
  enqueued_at   timestamptz NOT NULL,
  state         text NOT NULL CHECK (state IN ('waiting', 'offered')),
  offer_id      uuid,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT queue_entries_offer CHECK ((state = 'offered') = (offer_id IS NOT NULL))
);
CREATE INDEX queue_entries_waiting_idx ON queue_entries (priority DESC, enqueued_at, call_id) WHERE state = 'waiting';
CREATE INDEX queue_entries_queue_idx ON queue_entries (queue_id, priority DESC, enqueued_at) WHERE state = 'waiting';

-- Every offer of a call to an agent, with its outcome.
CREATE TABLE call_offers (
  id                uuid PRIMARY KEY,
  call_id           uuid NOT NULL REFERENCES calls(id),
  agent_id          uuid NOT NULL REFERENCES agents(user_id),
  extension         text NOT NULL,
  node_id           text NOT NULL,
  -- Our id for the agent leg, given to Asterisk at originate.
  channel_id        text NOT NULL,
  queue_id          uuid NOT NULL REFERENCES queues(id),
  offered_at        timestamptz NOT NULL,
  originated_at     timestamptz,
  ended_at          timestamptz,
  outcome           text CHECK (outcome IN ('answered', 'no_answer', 'busy', 'rejected', 'failed', 'caller_abandoned', 'cancelled', 'lost')),
  cause             integer,
  tech_cause        text,
  CONSTRAINT call_offers_outcome CHECK ((outcome IS NULL) = (ended_at IS NULL))
);
-- The invariants, enforced by the database as well: an agent has at most one open offer, and a
-- call is offered to at most one agent at a time.
CREATE UNIQUE INDEX call_offers_one_per_agent ON call_offers (agent_id) WHERE outcome IS NULL;
CREATE UNIQUE INDEX call_offers_one_per_call ON call_offers (call_id) WHERE outcome IS NULL;
CREATE INDEX call_offers_call_idx ON call_offers (call_id, offered_at);
CREATE INDEX call_offers_open_idx ON call_offers (offered_at) WHERE outcome IS NULL;

CREATE TABLE call_recordings (
  name              text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,128}$'),
  call_id           uuid NOT NULL REFERENCES calls(id),
  node_id           text NOT NULL,
  format            text NOT NULL,
  started_at        timestamptz NOT NULL,
  ended_at          timestamptz,
  duration_seconds  integer,
  size_bytes        bigint,
  state             text NOT NULL DEFAULT 'recording' CHECK (state IN ('recording', 'done', 'failed'))
);
CREATE INDEX call_recordings_call_idx ON call_recordings (call_id, started_at);

-- Tickets a call produced or is about (several per call; several calls per ticket).
CREATE TABLE call_tickets (
  call_id     uuid NOT NULL REFERENCES calls(id),
  ticket_id   uuid NOT NULL REFERENCES tickets(id),
  bound_at    timestamptz NOT NULL DEFAULT now(),
  bound_by    text NOT NULL,
  PRIMARY KEY (call_id, ticket_id)
);
CREATE INDEX call_tickets_ticket_idx ON call_tickets (ticket_id);

-- Work for agents to call people back: callers who gave up waiting (missed), asked for a
-- callback, overflowed to a callback, or left a voicemail.
CREATE TABLE callback_tasks (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind              text NOT NULL CHECK (kind IN ('missed', 'requested', 'overflow', 'voicemail')),
  call_id           uuid NOT NULL REFERENCES calls(id),
  last_call_id      uuid NOT NULL REFERENCES calls(id),
  phone             text NOT NULL,
  queue_id          uuid REFERENCES queues(id),
  -- The caller's place: priority and the time they first queued.
  priority          integer,
  enqueued_at       timestamptz,
  waited_seconds    integer NOT NULL DEFAULT 0,
  recording_name    text,
  -- Missed calls of one number on one local day make one task.
  day               date NOT NULL,
  attempts          integer NOT NULL DEFAULT 1,
  status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dismissed')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX callback_tasks_missed_per_day ON callback_tasks (phone, day) WHERE kind = 'missed' AND status = 'open';
CREATE INDEX callback_tasks_open_idx ON callback_tasks (created_at) WHERE status = 'open';

-- Which instance holds each Asterisk node's ARI connection, with a heartbeat. The ACD serves
-- callers across nodes in one order, and yields an agent to a better caller on another node only
-- while that node's instance is alive.
CREATE TABLE telephony_nodes (
  node_id       text PRIMARY KEY,
  instance_id   text NOT NULL,
  connected     boolean NOT NULL,
  heartbeat_at  timestamptz NOT NULL
);
