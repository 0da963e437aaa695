-- An audit row is written before every write is carried out (the attempt), then its outcome.
-- The attempt gets an outcome of its own instead of reading as a failure.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_outcome_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('attempt', 'success', 'denied', 'failed'));
