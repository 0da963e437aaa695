-- The draft ticket a call carries from the moment it is offered (one at a time per call); the
-- agent fills it in and accepts it, or it is cancelled when the call ends unused.
CREATE UNIQUE INDEX tickets_call_draft_key ON tickets (call_id) WHERE status = 'draft' AND channel = 'phone';
