-- ACD configuration and agent states: skills, opening schedules, queues (required skills,
-- priority rules, limits, overflow), agents (extension, skills with levels, languages), the
-- versioned IVR menu, the current state of each agent and the append-only state log.
-- Validation of ranges and overflow chains is in src/domain/acd; the checks here are the floor.

-- 技能组: languages and dialects (普通话, 粤语, English) and subject seats (企业服务, 医保, 公积金 …).
CREATE TABLE skills (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code         text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  description  text CHECK (length(description) <= 500),
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Opening hours of specialist queues. 12345 itself runs 7×24: a queue without a schedule is always open.
CREATE TABLE schedules (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code                text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  utc_offset_minutes  integer NOT NULL DEFAULT 480 CHECK (utc_offset_minutes BETWEEN -720 AND 840),
  -- { "mon": [{ "start": "08:30", "end": "17:30" }], … }: days absent are closed.
  weekly              jsonb NOT NULL CHECK (jsonb_typeof(weekly) = 'object'),
  active              boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Holidays and special days: no periods = closed all day; periods replace the weekly hours.
CREATE TABLE schedule_exceptions (
  schedule_id  uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  date         date NOT NULL,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  periods      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(periods) = 'array'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, date)
);

CREATE TABLE queues (
  id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code                          text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name                          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  centre_id                     text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  -- Language the caller is served in (zh, yue, en …); null = any.
  language                      text,
  -- [{ "flag": "elderly", "boost": 50 }]: boosts within the fixed classes (src/domain/acd/priority.ts).
  priority_rules                jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(priority_rules) = 'array'),
  max_wait_seconds              integer NOT NULL CHECK (max_wait_seconds > 0),
  overflow_action               text NOT NULL DEFAULT 'none' CHECK (overflow_action IN ('none', 'queue', 'voicemail', 'callback')),
  overflow_queue_id             uuid REFERENCES queues(id),
  announcement_interval_seconds integer NOT NULL CHECK (announcement_interval_seconds >= 0),
  callback_offer_seconds        integer CHECK (callback_offer_seconds >= 0),
  wrap_up_seconds               integer NOT NULL CHECK (wrap_up_seconds >= 0),
  ring_timeout_seconds          integer NOT NULL CHECK (ring_timeout_seconds > 0),
  service_level_seconds         integer NOT NULL DEFAULT 15 CHECK (service_level_seconds > 0),
  schedule_id                   uuid REFERENCES schedules(id),
  active                        boolean NOT NULL DEFAULT true,
  version                       integer NOT NULL DEFAULT 1,
  created_at                    timestamptz NOT NULL DEFAULT now(),
  updated_at                    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT queues_overflow_target CHECK ((overflow_action = 'queue') = (overflow_queue_id IS NOT NULL)),
  CONSTRAINT queues_overflow_not_self CHECK (overflow_queue_id IS DISTINCT FROM id)
);
CREATE INDEX queues_overflow_idx ON queues (overflow_queue_id) WHERE overflow_queue_id IS NOT NULL;

CREATE TABLE queue_skills (
  queue_id   uuid NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
  skill_id   uuid NOT NULL REFERENCES skills(id),
  min_level  smallint NOT NULL CHECK (min_level BETWEEN 1 AND 5),
  PRIMARY KEY (queue_id, skill_id)
);

-- One row per user who takes calls (role agent, or a supervisor who also answers).
CREATE TABLE agents (
  user_id     uuid PRIMARY KEY REFERENCES users(id),
  extension   text NOT NULL UNIQUE CHECK (extension ~ '^1[0-9]{3}$'),
  centre_id   text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  languages   text[] NOT NULL DEFAULT '{zh}',
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_skills (
  agent_id  uuid NOT NULL REFERENCES agents(user_id) ON DELETE CASCADE,
  skill_id  uuid NOT NULL REFERENCES skills(id),
  level     smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  PRIMARY KEY (agent_id, skill_id)
);
CREATE INDEX agent_skills_skill_idx ON agent_skills (skill_id, level);

-- The current state: one row per agent, changed under a row lock; `version` for compare-and-set.
CREATE TABLE agent_states (
  agent_id        uuid PRIMARY KEY REFERENCES agents(user_id),
  state           text NOT NULL CHECK (state IN ('offline', 'ready', 'not_ready', 'ringing', 'on_call', 'wrap_up')),
  reason          text CHECK (reason IN ('break', 'meal', 'training', 'meeting', 'no_answer', 'after_call')),
  since           timestamptz NOT NULL,
  version         integer NOT NULL DEFAULT 1,
  -- The phone the agent logged in at (hot-desking); null while offline.
  extension       text CHECK (extension ~ '^1[0-9]{3}$'),
  -- When the agent last became available: longest-idle ranking (kept when an offer is withdrawn).
  idle_since      timestamptz,
  last_call_ended_at timestamptz,
  -- End of the queue's wrap-up time; the agents module returns the agent to ready then.
  wrap_up_until   timestamptz,
  -- The call offered to / handled by the agent while ringing, on call or in wrap-up.
  call_id         text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT agent_states_reason CHECK ((state = 'not_ready') = (reason IS NOT NULL)),
  CONSTRAINT agent_states_extension CHECK ((state = 'offline') = (extension IS NULL)),
  CONSTRAINT agent_states_idle CHECK (state <> 'ready' OR idle_since IS NOT NULL),
  CONSTRAINT agent_states_wrap_up CHECK (wrap_up_until IS NULL OR state = 'wrap_up')
);
CREATE INDEX agent_states_wrap_up_idx ON agent_states (wrap_up_until) WHERE wrap_up_until IS NOT NULL;
-- Two agents can never be logged in at the same phone.
CREATE UNIQUE INDEX agent_states_extension_key ON agent_states (extension) WHERE extension IS NOT NULL;
CREATE INDEX agent_states_ready_idx ON agent_states (idle_since) WHERE state = 'ready';

-- Every state change, for reporting (occupancy, not-ready time by reason, no-answer counts).
CREATE TABLE agent_state_log (
  id                 bigserial PRIMARY KEY,
  agent_id           uuid NOT NULL REFERENCES agents(user_id),
  from_state         text NOT NULL,
  from_reason        text,
  state              text NOT NULL,
  reason             text,
  at                 timestamptz NOT NULL,
  -- How long the agent had been in from_state (from its `since` to `at`).
  previous_duration_ms bigint NOT NULL CHECK (previous_duration_ms >= 0),
  actor_type         text NOT NULL CHECK (actor_type IN ('agent', 'supervisor', 'system')),
  actor_id           text,
  call_id            text,
  extension          text
);
CREATE INDEX agent_state_log_agent_idx ON agent_state_log (agent_id, at DESC);
CREATE INDEX agent_state_log_at_idx ON agent_state_log (at);

CREATE FUNCTION agent_state_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'agent_state_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER agent_state_log_no_update BEFORE UPDATE OR DELETE ON agent_state_log
  FOR EACH ROW EXECUTE FUNCTION agent_state_log_append_only();

-- The IVR menu as data: every published version is kept; the highest version is in force.
CREATE TABLE ivr_menus (
  version     integer PRIMARY KEY CHECK (version >= 1),
  document    jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
  note        text CHECK (length(note) <= 500),
  created_by  uuid REFERENCES users(id),
  created_at  timestamptz NOT NULL DEFAULT now()
);
