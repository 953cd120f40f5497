-- Refused submissions are counted, not stored one row per request: no unauthenticated client can grow the
-- database without bound. One row per key (election, credential or client address, reason) with the count
-- and the first and last time; the ingest path upserts it.
--
-- Keys, and the bound they give (docs/operations.md, "Rate limits and audit rows"):
-- - credential-keyed (client NULL): refusals of a credential that is on the election's roll (duplicate,
--   election-closed), at most 2 rows per (election, credential) pair of the roll (the foreign key holds it);
-- - client-keyed (credential NULL): every other refusal, under the client's address (an IPv6 client's /64)
--   and the election only when it exists (NULL otherwise): at most (elections + 1) × reasons rows per address;
-- - both NULL: refusals recorded before this migration, or by a caller that gives no address.
CREATE TABLE rejected_attempt_counts (
  election_id      text REFERENCES elections(election_id),   -- NULL: the submission named no existing election
  credential       bytea CHECK (length(credential) = 32),
  client           text CHECK (length(client) <= 64),         -- the client's address (IPv6: its /64)
  reason           text NOT NULL,                            -- an error code of docs/protocol.md
  count            bigint NOT NULL CHECK (count >= 1),       -- for duplicates: the credential's running attempt count
  first_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_detail      text,
  last_ballot_hash bytea CHECK (length(last_ballot_hash) = 32),
  CHECK (credential IS NULL OR (client IS NULL AND election_id IS NOT NULL)),
  CHECK (last_at >= first_at),
  FOREIGN KEY (election_id, credential) REFERENCES credentials (election_id, credential),
  CONSTRAINT rejected_attempt_counts_key UNIQUE NULLS NOT DISTINCT (election_id, credential, client, reason)
);
CREATE INDEX rejected_attempt_counts_last_at ON rejected_attempt_counts (last_at);

-- Monotonic for every role: the key never changes, count only grows, first_at never changes, last_at never
-- goes back. Rows are deleted only by the owner's retention command (the app role has no DELETE grant).
CREATE FUNCTION tallyproof_refusal_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.credential IS DISTINCT FROM OLD.credential
     OR NEW.client IS DISTINCT FROM OLD.client OR NEW.reason IS DISTINCT FROM OLD.reason
     OR NEW.count < OLD.count OR NEW.first_at IS DISTINCT FROM OLD.first_at OR NEW.last_at < OLD.last_at THEN
    RAISE EXCEPTION 'tallyproof: refusal count %/% can only grow', OLD.election_id, OLD.reason
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER rejected_attempt_counts_monotonic BEFORE UPDATE ON rejected_attempt_counts
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refusal_count_update();
CREATE TRIGGER rejected_attempt_counts_no_truncate BEFORE TRUNCATE ON rejected_attempt_counts
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
GRANT SELECT, INSERT, UPDATE ON rejected_attempt_counts TO tallyproof_app;

-- The rows of the old per-request table, aggregated under the same keys with no client (their address was
-- not recorded). A credential's duplicates keep their running attempt count (max(attempt_count), what the
-- ingest path read until now), so the next duplicate's attemptCount continues where it was.
INSERT INTO rejected_attempt_counts
  (election_id, credential, client, reason, count, first_at, last_at, last_detail, last_ballot_hash)
SELECT el.election_id, CASE WHEN ra.reason = 'duplicate' THEN ra.credential END, NULL, ra.reason,
       CASE WHEN ra.reason = 'duplicate' THEN coalesce(max(ra.attempt_count), count(*)) ELSE count(*) END,
       min(ra.created_at), max(ra.created_at),
       (array_agg(ra.detail ORDER BY ra.id DESC))[1], (array_agg(ra.ballot_hash ORDER BY ra.id DESC))[1]
FROM rejected_attempts ra
LEFT JOIN elections el ON el.election_id = ra.election_id
GROUP BY el.election_id, CASE WHEN ra.reason = 'duplicate' THEN ra.credential END, ra.reason;

-- The old table stays as history, read-only for the app role: no new rows, never updated. The owner's
-- retention command may delete its old rows (so DELETE is no longer refused for the owner).
REVOKE INSERT ON rejected_attempts FROM tallyproof_app;
REVOKE USAGE ON SEQUENCE rejected_attempts_id_seq FROM tallyproof_app;
DROP TRIGGER rejected_no_change ON rejected_attempts;
CREATE TRIGGER rejected_no_update BEFORE UPDATE ON rejected_attempts FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
