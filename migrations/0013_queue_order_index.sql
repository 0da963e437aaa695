-- The ACD takes the best waiting caller of each queue an agent serves by walking this index in
-- the order callers are served (call_id breaks ties), so the search stops at the first row
-- instead of sorting every waiting caller, whatever the table's statistics say.
CREATE INDEX queue_entries_queue_order_idx ON queue_entries (queue_id, priority DESC, enqueued_at, call_id) WHERE state = 'waiting';
DROP INDEX queue_entries_queue_idx;
