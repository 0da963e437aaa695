-- Agent desktops over WebSocket (src/modules/desktop): a per-user, append-only message log that
-- a reconnecting desktop resumes from, the per-user sequence counter, and the desktops open on
-- each instance.

-- The last sequence number given to each user's desktop messages. The next number is taken by
-- updating this row, so a second writer for the same user waits until the first commits: the
-- numbers have no gaps and commit in order (a desktop that has seen 7 has seen 1 to 6).
CREATE TABLE desktop_cursors (
  agent_id             uuid PRIMARY KEY REFERENCES users(id),
  last_seq             bigint NOT NULL CHECK (last_seq >= 0),
  -- The newest agent-state version recorded: an older agent.state_changed event consumed late
  -- is not sent after a newer one.
  agent_state_version  integer NOT NULL DEFAULT 0
);

CREATE TABLE desktop_messages (
  agent_id  uuid NOT NULL REFERENCES desktop_cursors(agent_id),
  seq       bigint NOT NULL CHECK (seq >= 1),
  at        timestamptz NOT NULL,
  -- Dotted like event types (agent.state, call.offer …); control messages are never stored.
  type      text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$' AND length(type) <= 64),
  payload   jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  PRIMARY KEY (agent_id, seq)
);
-- Retention: the sweep deletes the oldest rows in bounded batches.
CREATE INDEX desktop_messages_at_idx ON desktop_messages (at);

-- Append-only: rows are only ever inserted, and deleted by the retention sweep.
CREATE FUNCTION desktop_messages_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'desktop_messages is append-only (UPDATE refused)' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER desktop_messages_no_update BEFORE UPDATE ON desktop_messages
  FOR EACH ROW EXECUTE FUNCTION desktop_messages_no_update();

-- Open desktops (WebSocket connections) of every instance, for "how many desktops are open":
-- each instance refreshes seen_at of its own rows at every heartbeat; rows of a dead instance
-- go stale and are swept.
CREATE TABLE desktop_connections (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES users(id),
  instance_id   text NOT NULL,
  connected_at  timestamptz NOT NULL,
  seen_at       timestamptz NOT NULL
);
CREATE INDEX desktop_connections_user_idx ON desktop_connections (user_id, seen_at);
CREATE INDEX desktop_connections_instance_idx ON desktop_connections (instance_id);
