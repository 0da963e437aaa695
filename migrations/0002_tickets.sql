-- Tickets (工单), GB/T 44189 6–8: department functions and jurisdictions, the item catalogue
-- (事项目录), citizens, tickets with their lifecycle state, assignments, callers, the transition
-- audit, attachments stored by content hash, and idempotency keys for intake.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- --- Departments: partner sub-kinds, functions (职能) and jurisdiction areas (管辖区域).
-- Partner units (water, power, gas, heat, telecom) name their utility; older partner rows may lack it.
ALTER TABLE departments ADD COLUMN partner_kind text
  CHECK (partner_kind IN ('water', 'power', 'gas', 'heat', 'telecom'));
ALTER TABLE departments ADD CONSTRAINT departments_partner_kind_only_partners
  CHECK (partner_kind IS NULL OR kind = 'partner');
ALTER TABLE departments ADD COLUMN description text CHECK (length(description) <= 2000);
CREATE INDEX departments_kind_idx ON departments (kind, partner_kind) WHERE active;

-- 事项目录: the operator-managed catalogue of matters tickets are classified under.
CREATE TABLE categories (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  parent_id     uuid REFERENCES categories(id),
  code          text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope_domain  text CHECK (scope_domain IN ('economic_regulation', 'market_supervision', 'social_management', 'public_service', 'eco_environment')),
  default_urgency text CHECK (default_urgency IN ('normal', 'urgent', 'very_urgent')),
  sort_order    integer NOT NULL DEFAULT 0,
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT categories_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id, sort_order, code);

-- What a department handles: free-named functions, optionally tied to a catalogue item so that
-- dispatch suggestions can match a ticket's category.
CREATE TABLE department_functions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  department_id uuid NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
  code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category_id   uuid REFERENCES categories(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (department_id, code)
);
CREATE INDEX department_functions_code_idx ON department_functions (code);
CREATE INDEX department_functions_category_idx ON department_functions (category_id) WHERE category_id IS NOT NULL;

-- Jurisdiction by administrative division code (GB/T 2260 + township + village: 6, 9 or 12
-- digits). A department covers an area when the area's code starts with one of its codes.
CREATE TABLE department_areas (
  department_id uuid NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
  area_code     text NOT NULL CHECK (area_code ~ '^[0-9]{2,12}$'),
  area_name     text NOT NULL CHECK (length(area_name) BETWEEN 1 AND 200),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (department_id, area_code)
);
CREATE INDEX department_areas_code_idx ON department_areas (area_code text_pattern_ops);

-- --- Citizens (诉求人). The phone is the identity; 保密 hides name, phone and address from departments.
CREATE TABLE citizens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  phone         text NOT NULL UNIQUE CHECK (phone ~ '^\+?[0-9]{3,20}$'),
  name          text CHECK (length(name) <= 100),
  address       text CHECK (length(address) <= 500),
  confidential  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Ticket numbers GD<yyyymmdd><6-digit daily sequence>, local date of the hotline.
CREATE TABLE ticket_number_counters (
  day   date PRIMARY KEY,
  last  integer NOT NULL
);

CREATE TABLE tickets (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  number              text NOT NULL UNIQUE CHECK (number ~ '^GD[0-9]{8}[0-9]{6,}$'),
  centre_id           text NOT NULL REFERENCES centres(id) DEFAULT 'main',
  channel             text NOT NULL CHECK (channel IN ('phone', 'sms', 'mailbox', 'website', 'mobile_app', 'mini_program', 'official_account')),
  channel_meta        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- A phone ticket is bound to the call it was taken on.
  call_id             text CHECK (length(call_id) <= 128),
  type                text NOT NULL CHECK (type IN ('consultation', 'help', 'complaint', 'report', 'suggestion', 'online_guidance', 'praise')),
  scope_domain        text CHECK (scope_domain IN ('economic_regulation', 'market_supervision', 'social_management', 'public_service', 'eco_environment')),
  category_id         uuid REFERENCES categories(id),
  urgency             text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent', 'very_urgent')),
  title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  content             text NOT NULL CHECK (length(content) BETWEEN 1 AND 10000),
  address             text CHECK (length(address) <= 500),
  area_code           text CHECK (area_code ~ '^[0-9]{2,12}$'),
  citizen_id          uuid REFERENCES citizens(id),
  confidential        boolean NOT NULL DEFAULT false,
  -- Lifecycle state (src/domain/tickets TicketState).
  status              text NOT NULL CHECK (status IN ('draft', 'accepted', 'dispatched', 'returned', 'in_progress', 'replied', 'closed', 'revisited', 'evaluated', 'not_accepted', 'merged', 'cancelled')),
  main_department_id  uuid REFERENCES departments(id),
  co_department_ids   uuid[] NOT NULL DEFAULT '{}',
  co_opinion_department_ids uuid[] NOT NULL DEFAULT '{}',
  dispatch_due_at     timestamptz,
  dispatch_warn_at    timestamptz,
  response_due_at     timestamptz,
  response_warn_at    timestamptz,
  due_at              timestamptz,
  due_warn_at         timestamptz,
  supervised          boolean NOT NULL DEFAULT false,
  warned              boolean NOT NULL DEFAULT false,
  overdue             boolean NOT NULL DEFAULT false,
  extension           jsonb,
  extension_count     integer NOT NULL DEFAULT 0,
  reminder_count      integer NOT NULL DEFAULT 0,
  reopen_count        integer NOT NULL DEFAULT 0,
  return_count        integer NOT NULL DEFAULT 0,
  revisit_attempts    integer NOT NULL DEFAULT 0,
  evaluation          text CHECK (evaluation IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
  not_accepted_reason text,
  not_accepted_reply  text,
  merged_into         uuid REFERENCES tickets(id),
  merged_ticket_ids   uuid[] NOT NULL DEFAULT '{}',
  version             integer NOT NULL DEFAULT 0,
  -- Self-query (7.1.3): a 6-digit code told to the caller once, kept only as a salted digest.
  verification_code_hash text,
  created_by_type     text NOT NULL CHECK (created_by_type IN ('user', 'api_key', 'system')),
  created_by_id       text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  closed_at           timestamptz,
  -- jieba tokens of title + content (src/domain/text searchDocument), parsed by the 'simple' config.
  search_vector       tsvector NOT NULL,
  search_text         text GENERATED ALWAYS AS (title || ' ' || content) STORED,
  CONSTRAINT tickets_phone_has_call CHECK (channel <> 'phone' OR call_id IS NOT NULL)
);
CREATE INDEX tickets_keyset_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_status_idx ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_type_idx ON tickets (type, created_at DESC, id DESC);
CREATE INDEX tickets_channel_idx ON tickets (channel, created_at DESC, id DESC);
CREATE INDEX tickets_main_department_idx ON tickets (main_department_id, created_at DESC, id DESC);
CREATE INDEX tickets_overdue_idx ON tickets (created_at DESC, id DESC) WHERE overdue;
CREATE INDEX tickets_citizen_idx ON tickets (citizen_id, created_at DESC);
CREATE INDEX tickets_category_idx ON tickets (category_id) WHERE category_id IS NOT NULL;
CREATE INDEX tickets_call_idx ON tickets (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX tickets_area_idx ON tickets (area_code text_pattern_ops) WHERE area_code IS NOT NULL;
CREATE INDEX tickets_search_idx ON tickets USING gin (search_vector);
CREATE INDEX tickets_trgm_idx ON tickets USING gin (search_text gin_trgm_ops);

-- Who handles a ticket: 主办 (main) and 协办 (co). Rows of withdrawn departments are released, not
-- deleted, so the history of who held the ticket stays; scoping reads only unreleased rows.
CREATE TABLE ticket_departments (
  ticket_id     uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  department_id uuid NOT NULL REFERENCES departments(id),
  role          text NOT NULL CHECK (role IN ('main', 'co')),
  assigned_at   timestamptz NOT NULL DEFAULT now(),
  released_at   timestamptz,
  PRIMARY KEY (ticket_id, department_id)
);
CREATE INDEX ticket_departments_dept_idx ON ticket_departments (department_id, ticket_id) WHERE released_at IS NULL;

-- Every caller linked to a ticket; a merge moves the duplicate's callers to the master and keeps them.
CREATE TABLE ticket_callers (
  ticket_id        uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  citizen_id       uuid NOT NULL REFERENCES citizens(id),
  role             text NOT NULL CHECK (role IN ('primary', 'merged')),
  source_ticket_id uuid REFERENCES tickets(id),
  linked_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket_id, citizen_id)
);
CREATE INDEX ticket_callers_citizen_idx ON ticket_callers (citizen_id);

-- The transition audit: one row per state-machine transition, never updated.
CREATE TABLE ticket_transitions (
  id                  bigserial PRIMARY KEY,
  ticket_id           uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  version             integer NOT NULL,
  action              text NOT NULL,
  from_status         text NOT NULL,
  to_status           text NOT NULL,
  actor_type          text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
  actor_id            text NOT NULL,
  actor_role          text NOT NULL,
  actor_department_id uuid,
  reason              text,
  data                jsonb NOT NULL DEFAULT '{}'::jsonb,
  at                  timestamptz NOT NULL,
  UNIQUE (ticket_id, version)
);

CREATE FUNCTION ticket_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ticket_transitions is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ticket_transitions_no_update BEFORE UPDATE ON ticket_transitions
  FOR EACH ROW EXECUTE FUNCTION ticket_transitions_append_only();

-- Attachments are stored once per content (DATA_DIR/attachments/<aa>/<sha256>).
CREATE TABLE attachments (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sha256        text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  kind          text NOT NULL CHECK (kind IN ('photo', 'document', 'audio', 'video')),
  mime          text NOT NULL,
  size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
  file_name     text CHECK (length(file_name) <= 255),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Who uploaded what: an unlinked attachment is visible to its uploaders (and hotline staff).
CREATE TABLE attachment_uploads (
  attachment_id uuid NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
  principal_id  text NOT NULL,
  uploaded_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (attachment_id, principal_id)
);

CREATE TABLE ticket_attachments (
  ticket_id     uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  attachment_id uuid NOT NULL REFERENCES attachments(id),
  -- Set when the attachment came with a reply or co-handler opinion.
  transition_id bigint REFERENCES ticket_transitions(id),
  linked_by     text NOT NULL,
  linked_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket_id, attachment_id)
);
CREATE INDEX ticket_attachments_attachment_idx ON ticket_attachments (attachment_id);

-- Idempotent intake: the first request under (principal, key) stores its response; retries get
-- it back. Concurrent retries serialise on a transaction-scoped advisory lock of the key.
CREATE TABLE idempotency_keys (
  principal_id    text NOT NULL,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  scope           text NOT NULL,
  request_hash    text NOT NULL,
  response_status integer NOT NULL,
  response_body   jsonb NOT NULL,
  resource_id     uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
