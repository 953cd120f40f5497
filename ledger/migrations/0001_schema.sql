-- Tallyproof ledger schema v1. Byte fields are bytea; signed objects are kept as their exact JCS text.

CREATE TABLE elections (
  election_id      text PRIMARY KEY CHECK (election_id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  manifest         text NOT NULL,              -- JCS of the stored manifest, byte-exact
  manifest_hash    bytea NOT NULL CHECK (length(manifest_hash) = 32),
  opens_at         timestamptz NOT NULL,
  closes_at        timestamptz NOT NULL,
  window_seconds   integer NOT NULL CHECK (window_seconds >= 1),
  roll_root        bytea CHECK (length(roll_root) = 32),   -- null while the roll is still being loaded
  roll_size        bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- chain bookkeeping, filled in once by the anchor worker
  registration_tx    text,
  registration_block bigint,
  close_requested_at timestamptz,
  result_hash        bytea CHECK (length(result_hash) = 32),
  total_ballots      bigint,
  close_tx           text,
  close_block        bigint
);

-- The credential roll: Ed25519 public keys, no identity.
CREATE TABLE credentials (
  election_id text NOT NULL REFERENCES elections(election_id),
  credential  bytea NOT NULL CHECK (length(credential) = 32),
  PRIMARY KEY (election_id, credential)
);

-- One row per election, locked by every committing ingest transaction: seq is assigned from it, so it is
-- gap-free across processes without a coordinator. Three named numbers: next_seq (ballots committed),
-- sealed_through (first seq not yet in a window), and anchored window count lives in windows.
CREATE TABLE election_heads (
  election_id       text PRIMARY KEY REFERENCES elections(election_id),
  next_seq          bigint NOT NULL DEFAULT 0 CHECK (next_seq >= 0),
  sealed_through    bigint NOT NULL DEFAULT 0 CHECK (sealed_through >= 0 AND sealed_through <= next_seq),
  next_window_index integer NOT NULL DEFAULT 0 CHECK (next_window_index >= 0),
  closed            boolean NOT NULL DEFAULT false
);

CREATE TABLE ballots (
  election_id text NOT NULL REFERENCES elections(election_id),
  seq         bigint NOT NULL CHECK (seq >= 0),
  ballot_hash bytea NOT NULL CHECK (length(ballot_hash) = 32),
  credential  bytea NOT NULL CHECK (length(credential) = 32),
  ballot      text NOT NULL,                    -- JCS of the ballot, byte-exact
  signature   bytea NOT NULL CHECK (length(signature) = 64),
  received_at timestamptz NOT NULL,
  PRIMARY KEY (election_id, seq),
  UNIQUE (election_id, credential),
  UNIQUE (ballot_hash)
);

-- Every refused submission: duplicates (with the credential's running attempt count) and invalid ones.
CREATE TABLE rejected_attempts (
  id            bigserial PRIMARY KEY,
  election_id   text,                           -- as given in the URL; may name no election
  credential    bytea,
  ballot_hash   bytea,
  reason        text NOT NULL,                  -- an error code of docs/protocol.md
  detail        text,
  attempt_count integer,                        -- for duplicates: refused attempts of that credential so far
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rejected_attempts_credential ON rejected_attempts (election_id, credential) WHERE credential IS NOT NULL;

-- Sealed windows: contiguous seq ranges and their RFC 6962 roots. Anchor columns are filled in once.
CREATE TABLE windows (
  election_id  text NOT NULL REFERENCES elections(election_id),
  window_index integer NOT NULL CHECK (window_index >= 0),
  first_seq    bigint NOT NULL CHECK (first_seq >= 0),
  count        bigint NOT NULL CHECK (count >= 1),
  root         bytea NOT NULL CHECK (length(root) = 32),
  sealed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  anchor_tx    text,
  anchor_block bigint,
  anchored_at  timestamptz,
  PRIMARY KEY (election_id, window_index),
  UNIQUE (election_id, first_seq)
);
