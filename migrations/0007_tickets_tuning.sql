-- Tickets tuning: ticket numbers from one SEQUENCE per day (no row lock shared by every intake),
-- SLA timer jobs added in batches by a scheduler, an audit trail that can be neither updated nor
-- deleted, with tickets never hard-deleted, and small GIN pending lists.

-- --- Ticket numbers GD<yyyymmdd><6+ digit daily sequence>.
-- nextval() takes no lock that lasts until commit, so concurrent intakes never queue on the
-- number; a rolled-back intake leaves a gap, which numbering allows. The service prepares the
-- day's sequence (and the next day's) outside any intake transaction and drops old ones.
CREATE SCHEMA ticket_numbers;

COMMENT ON TABLE ticket_number_counters IS 'Until 0007: daily counters; read once when a day''s sequence is created.';

-- Creates the day's sequence unless it exists, starting after every number already issued that
-- day (by tickets or the old counter row). Concurrent callers: one creates, the others find it.
CREATE FUNCTION ticket_number_prepare(for_day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  d text := to_char(for_day, 'YYYYMMDD');
  issued bigint;
BEGIN
  IF to_regclass(format('ticket_numbers.%I', 'd' || d)) IS NOT NULL THEN
    RETURN;
  END IF;
  SELECT greatest(
      coalesce((SELECT max(substring(t.number FROM 11)::bigint) FROM tickets t WHERE t.number >= 'GD' || d AND t.number < 'GD' || d || 'Z'), 0),
      coalesce((SELECT c.last FROM ticket_number_counters c WHERE c.day = for_day), 0))
    INTO issued;
  BEGIN
    EXECUTE format('CREATE SEQUENCE ticket_numbers.%I AS bigint START WITH %s', 'd' || d, issued + 1);
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    NULL; -- another instance created it meanwhile
  END;
END $$;

-- The next number of the day; fails (undefined_table) when the day was not prepared.
CREATE FUNCTION ticket_number_next(for_day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text := to_char(for_day, 'YYYYMMDD');
  n bigint := nextval(format('ticket_numbers.%I', 'd' || d)::regclass);
BEGIN
  RETURN 'GD' || d || CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END;
END $$;

-- Drops the sequences of days before `before` (their numbers stay on the tickets).
CREATE FUNCTION ticket_number_prune(before date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  s record;
  n integer := 0;
BEGIN
  FOR s IN SELECT c.relname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
            WHERE ns.nspname = 'ticket_numbers' AND c.relkind = 'S' AND c.relname ~ '^d[0-9]{8}$'
              AND to_date(substring(c.relname FROM 2), 'YYYYMMDD') < before LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS ticket_numbers.%I', s.relname);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- --- The audit trail is append-only: no UPDATE (0002), no DELETE, no TRUNCATE.
CREATE TRIGGER ticket_transitions_no_delete BEFORE DELETE ON ticket_transitions
  FOR EACH ROW EXECUTE FUNCTION ticket_transitions_append_only();
CREATE TRIGGER ticket_transitions_no_truncate BEFORE TRUNCATE ON ticket_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION ticket_transitions_append_only();

-- Tickets end in a final status (not_accepted, merged, cancelled) or closed; they are never deleted,
-- so nothing cascades away from them (transitions, callers, attachments, assignments).
CREATE FUNCTION tickets_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tickets are never deleted (% refused); cancel or close them instead', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER tickets_no_delete BEFORE DELETE ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_no_delete();
CREATE TRIGGER tickets_no_truncate BEFORE TRUNCATE ON tickets
  FOR EACH STATEMENT EXECUTE FUNCTION tickets_no_delete();

-- --- SLA timers: a transition records its running deadline (pending) in its own transaction; the
-- scheduler (src/modules/sla/sla.scheduler.ts) adds the graphile-worker jobs in batches, one
-- add_jobs call and one NOTIFY per batch. The flags say which jobs the deadline still needs
-- (no warning once warned or overdue, no overdue once overdue). Rows from before are scheduled.
ALTER TABLE sla_ticket_timers
  ADD COLUMN warning_job boolean NOT NULL DEFAULT true,
  ADD COLUMN overdue_job boolean NOT NULL DEFAULT true,
  ADD COLUMN scheduled boolean NOT NULL DEFAULT true;
CREATE INDEX sla_ticket_timers_pending_idx ON sla_ticket_timers (updated_at) WHERE NOT scheduled;

-- --- GIN pending lists stay small: an index scan reads the whole pending list, so with the 4 MB
-- default (thousands of new tickets) duplicate analysis and search fall back to reading rows;
-- a small list is merged often and cheaply by the inserting backend.
ALTER INDEX tickets_search_idx SET (gin_pending_list_limit = 256);
ALTER INDEX tickets_trgm_idx SET (gin_pending_list_limit = 256);
