-- Duplicate and repeat requests (GB/T 44189 7.1.3): suggested merges with their scores, the
-- analysis of each accepted ticket (repeat flag: 一人多次), and clusters of concentrated
-- requests (一事多人: many callers, one issue, one area, one period) with their counts.

CREATE TABLE request_clusters (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  area_code      text NOT NULL CHECK (area_code ~ '^[0-9]{2,12}$'),
  -- The subject of the first request; later requests join when their text is similar to it.
  title          text NOT NULL,
  sample_text    text NOT NULL CHECK (length(sample_text) <= 1000),
  keywords       text[] NOT NULL DEFAULT '{}',
  ticket_count   integer NOT NULL CHECK (ticket_count >= 1),
  caller_count   integer NOT NULL CHECK (caller_count >= 1),
  first_seen_at  timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX request_clusters_area_idx ON request_clusters (area_code, last_seen_at DESC);
CREATE INDEX request_clusters_recent_idx ON request_clusters (last_seen_at DESC, id DESC);

-- A ticket belongs to at most one cluster.
CREATE TABLE request_cluster_members (
  cluster_id  uuid NOT NULL REFERENCES request_clusters(id) ON DELETE CASCADE,
  ticket_id   uuid NOT NULL UNIQUE REFERENCES tickets(id) ON DELETE CASCADE,
  citizen_id  uuid REFERENCES citizens(id),
  added_at    timestamptz NOT NULL,
  PRIMARY KEY (cluster_id, ticket_id)
);

-- One row per analysed ticket: whether it repeats an earlier request of the same caller.
CREATE TABLE duplicate_analyses (
  ticket_id     uuid PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
  is_repeat     boolean NOT NULL,
  repeat_of     uuid REFERENCES tickets(id) ON DELETE SET NULL,
  repeat_count  integer NOT NULL DEFAULT 0,
  cluster_id    uuid REFERENCES request_clusters(id) ON DELETE SET NULL,
  analyzed_at   timestamptz NOT NULL
);
CREATE INDEX duplicate_analyses_repeat_idx ON duplicate_analyses (analyzed_at DESC, ticket_id DESC) WHERE is_repeat;

-- Suggested merges: the agent decides (the merge itself is the tickets lifecycle `merge` action).
CREATE TABLE duplicate_suggestions (
  ticket_id          uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  candidate_id       uuid NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  score              real NOT NULL,
  content_similarity real NOT NULL,
  address_similarity real,
  same_caller        boolean NOT NULL,
  reasons            text[] NOT NULL,
  status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'merged', 'dismissed')),
  created_at         timestamptz NOT NULL,
  resolved_at        timestamptz,
  resolved_by        text,
  PRIMARY KEY (ticket_id, candidate_id),
  CHECK (ticket_id <> candidate_id)
);
CREATE INDEX duplicate_suggestions_candidate_idx ON duplicate_suggestions (candidate_id);
