-- Time limits (时限), GB/T 44189: the working-day calendar operators load per year (statutory
-- holidays and make-up working days, 调休), the working hours, versioned SLA policies, the
-- deadline each open ticket currently runs against, and a log of fired timers. The timers
-- themselves are graphile-worker jobs (schema graphile_worker, installed by the SLA module at
-- start-up) keyed `sla:<ticket>:warning` and `sla:<ticket>:overdue`.

-- One row per loaded year, as published in the State Council's annual notice.
CREATE TABLE sla_calendar_years (
  year        integer PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
  -- [{ "date": "YYYY-MM-DD", "name": "春节" }]: statutory holidays (放假).
  holidays    jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(holidays) = 'array'),
  -- Make-up working days (调休上班) on weekends.
  workdays    jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(workdays) = 'array'),
  updated_by  text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The hotline's working hours, for limits in working hours (one row; absent = the built-in default).
CREATE TABLE sla_working_hours (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  periods     jsonb NOT NULL CHECK (jsonb_typeof(periods) = 'array'),
  updated_by  text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Append-only: a ticket is measured by the version in force when it was accepted, so a change
-- applies to tickets accepted afterwards. No row = the built-in default (version 0).
CREATE TABLE sla_policy_versions (
  version        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  policy         jsonb NOT NULL CHECK (jsonb_typeof(policy) = 'object'),
  note           text CHECK (length(note) <= 500),
  created_by     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  effective_from timestamptz NOT NULL
);
CREATE INDEX sla_policy_versions_effective_idx ON sla_policy_versions (effective_from DESC, version DESC);

-- The deadline an open ticket runs against (runningDeadline of the ticket state) and when its
-- warning falls. No foreign key: timers follow tickets through the tickets module's hook.
CREATE TABLE sla_ticket_timers (
  ticket_id      uuid PRIMARY KEY,
  stage          text NOT NULL CHECK (stage IN ('dispatch', 'response', 'completion')),
  started_at     timestamptz NOT NULL,
  due_at         timestamptz NOT NULL,
  warn_at        timestamptz NOT NULL,
  policy_version integer NOT NULL CHECK (policy_version >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sla_ticket_timers_due_idx ON sla_ticket_timers (due_at);

-- Every timer that fired and what it did: applied actions, or why it did nothing.
CREATE TABLE sla_timer_firings (
  id         bigserial PRIMARY KEY,
  ticket_id  uuid NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('warning', 'overdue')),
  stage      text NOT NULL CHECK (stage IN ('dispatch', 'response', 'completion')),
  due_at     timestamptz NOT NULL,
  outcome    text NOT NULL CHECK (outcome IN ('applied', 'stale', 'not_applicable', 'early')),
  actions    text[] NOT NULL DEFAULT '{}',
  job_id     text,
  instance   text NOT NULL,
  fired_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sla_timer_firings_ticket_idx ON sla_timer_firings (ticket_id, fired_at);

-- Configuration changes wake every instance's cache (NOTIFY is delivered at commit).
CREATE FUNCTION sla_config_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sla_config', TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER sla_calendar_years_changed AFTER INSERT OR UPDATE OR DELETE ON sla_calendar_years
  FOR EACH STATEMENT EXECUTE FUNCTION sla_config_notify();
CREATE TRIGGER sla_working_hours_changed AFTER INSERT OR UPDATE OR DELETE ON sla_working_hours
  FOR EACH STATEMENT EXECUTE FUNCTION sla_config_notify();
CREATE TRIGGER sla_policy_versions_changed AFTER INSERT OR UPDATE OR DELETE ON sla_policy_versions
  FOR EACH STATEMENT EXECUTE FUNCTION sla_config_notify();
