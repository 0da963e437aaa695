-- Call control from the agent desktop: hold, blind transfers (to a queue, a department number
-- or a partner line), consultations and three-way calls, auto-answer phones, and supervisors'
-- monitor / whisper / barge. Each transfer and each monitoring session is a row of its own.

ALTER TABLE calls DROP CONSTRAINT calls_state_check;
ALTER TABLE calls ADD CONSTRAINT calls_state_check
  CHECK (state IN ('arrived', 'ivr', 'queued', 'offering', 'connected', 'transferring', 'transferred', 'survey', 'voicemail', 'ended'));
-- The caller waits in the holding bridge while the agent holds the call.
ALTER TABLE calls ADD COLUMN held boolean NOT NULL DEFAULT false;
-- The consultation in progress: { "channelId", "state": dialing|talking|conference, "target" }.
ALTER TABLE calls ADD COLUMN consult jsonb CHECK (consult IS NULL OR jsonb_typeof(consult) = 'object');

-- Phones that answer by themselves when told to (SIP Call-Info answer-after=0): the offer
-- shows on the desktop and the phone is called when the agent presses answer.
ALTER TABLE agents ADD COLUMN auto_answer boolean NOT NULL DEFAULT false;

CREATE TABLE call_transfers (
  id            uuid PRIMARY KEY,
  call_id       uuid NOT NULL REFERENCES calls(id),
  kind          text NOT NULL CHECK (kind IN ('queue', 'number', 'agent')),
  -- Queue id, number dialled, or agent extension.
  target        text NOT NULL,
  label         text,
  mode          text NOT NULL CHECK (mode IN ('blind', 'consult')),
  -- The outbound or consult leg (our id); null for a transfer to a queue.
  channel_id    text,
  requested_by  uuid REFERENCES users(id),
  requested_at  timestamptz NOT NULL,
  answered_at   timestamptz,
  ended_at      timestamptz,
  outcome       text CHECK (outcome IN ('queued', 'connected', 'failed', 'cancelled', 'conferenced', 'completed')),
  cause         integer,
  -- Hand-off data sent with it (case id, type, origin centre as SIP headers).
  hand_off      jsonb
);
CREATE INDEX call_transfers_call_idx ON call_transfers (call_id, requested_at);

CREATE TABLE call_monitors (
  id                     uuid PRIMARY KEY,
  call_id                uuid NOT NULL REFERENCES calls(id),
  supervisor_id          uuid NOT NULL REFERENCES users(id),
  mode                   text NOT NULL CHECK (mode IN ('monitor', 'whisper', 'barge')),
  snoop_channel_id       text,
  supervisor_channel_id  text NOT NULL,
  started_at             timestamptz NOT NULL,
  ended_at               timestamptz
);
CREATE INDEX call_monitors_call_idx ON call_monitors (call_id);
CREATE UNIQUE INDEX call_monitors_one_live ON call_monitors (supervisor_id) WHERE ended_at IS NULL;
