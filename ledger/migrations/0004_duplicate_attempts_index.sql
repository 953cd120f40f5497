-- The ingest transaction reads a credential's running duplicate count (max(attempt_count)) while it holds
-- the election's head lock. Through rejected_attempts_credential that read visits every refused attempt of
-- the credential, a number the voter controls (100,000 attempts: 20 ms under the lock); this index answers
-- it with one entry.
CREATE INDEX rejected_attempts_duplicates ON rejected_attempts (election_id, credential, attempt_count) WHERE reason = 'duplicate';
