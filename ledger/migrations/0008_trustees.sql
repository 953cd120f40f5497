-- Encrypted elections (docs/protocol.md section 12): the trustees' bulletin board and the homomorphic
-- tally. Everything here is append-only or write-once for every role (triggers bind the owner too), like
-- the ballots: what the board accepted, what it refused and why, the outcome of the key ceremony, the
-- aggregate published at the close and the decrypted result.

-- Accepted trustee messages, in the order posted (position 0, 1, … per election, assigned under the
-- election row's lock): the public transcript of 12.7. The envelope is kept as its exact JCS text.
CREATE TABLE trustee_messages (
  election_id text NOT NULL REFERENCES elections(election_id),
  position    integer NOT NULL CHECK (position >= 0),
  trustee     text NOT NULL CHECK (trustee ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  kind        text NOT NULL CHECK (kind IN ('keygen-commit', 'keygen-shares', 'keygen-confirm', 'decrypt')),
  envelope    text NOT NULL,                  -- JCS of {"message","signature"}, byte-exact
  received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (election_id, position),
  UNIQUE (election_id, trustee, kind)         -- one message of each kind per trustee (12.3)
);

-- Refused posts of messages signed by one of the election's trustees: public (12.7), so that a wrong
-- partial decryption is named. A post not signed by a trustee is only counted (rejected_attempt_counts).
CREATE TABLE trustee_refusals (
  id          bigserial PRIMARY KEY,
  election_id text NOT NULL REFERENCES elections(election_id),
  trustee     text NOT NULL CHECK (trustee ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  kind        text NOT NULL CHECK (kind IN ('keygen-commit', 'keygen-shares', 'keygen-confirm', 'decrypt')),
  code        text NOT NULL,                  -- an error code of docs/protocol.md
  message     text NOT NULL CHECK (length(message) <= 1000),
  received_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX trustee_refusals_election ON trustee_refusals (election_id, id);

-- The key ceremony's outcome, written once by the post that completes it: the election key H, which the
-- election record exposes (ballots are taken only once it is here), and the trustees' verification keys.
CREATE TABLE election_keys (
  election_id       text PRIMARY KEY REFERENCES elections(election_id),
  public_key        bytea NOT NULL CHECK (length(public_key) = 32),
  verification_keys text NOT NULL,            -- JCS of {trustee id: X_j}
  completed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The aggregate of 12.5 (per choice, the sum of every ballot's ciphertext), written once at the close.
CREATE TABLE aggregates (
  election_id    text PRIMARY KEY REFERENCES elections(election_id),
  aggregate      text NOT NULL,               -- JCS of the aggregate, byte-exact
  aggregate_hash bytea NOT NULL CHECK (length(aggregate_hash) = 32),
  total_ballots  bigint NOT NULL CHECK (total_ballots >= 0),
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The decrypted result of 12.5, written once when the threshold of valid partial decryptions is reached
-- (at once for an election without ballots).
CREATE TABLE decryptions (
  election_id text PRIMARY KEY REFERENCES elections(election_id),
  result      text NOT NULL,                  -- JCS of the result, byte-exact
  result_hash bytea NOT NULL CHECK (length(result_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TRIGGER trustee_messages_no_change BEFORE UPDATE OR DELETE ON trustee_messages
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER trustee_messages_no_truncate BEFORE TRUNCATE ON trustee_messages
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER trustee_refusals_no_change BEFORE UPDATE OR DELETE ON trustee_refusals
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER trustee_refusals_no_truncate BEFORE TRUNCATE ON trustee_refusals
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER election_keys_no_change BEFORE UPDATE OR DELETE ON election_keys
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER election_keys_no_truncate BEFORE TRUNCATE ON election_keys
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER aggregates_no_change BEFORE UPDATE OR DELETE ON aggregates
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER aggregates_no_truncate BEFORE TRUNCATE ON aggregates
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER decryptions_no_change BEFORE UPDATE OR DELETE ON decryptions
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER decryptions_no_truncate BEFORE TRUNCATE ON decryptions
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();

-- The application role inserts and reads, nothing more.
GRANT SELECT, INSERT ON trustee_messages, trustee_refusals, election_keys, aggregates, decryptions TO tallyproof_app;
GRANT USAGE ON SEQUENCE trustee_refusals_id_seq TO tallyproof_app;
