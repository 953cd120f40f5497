-- Shards (docs/protocol.md section 13): an election's ledger may be split into `shards` independent
-- sequences, a ballot's shard being a function of its credential. Each shard has its own head (gap-free
-- seq from 0), ballots and windows, on whichever cluster holds the shard; an election of one shard is
-- shard 0 and stays what it was. Sharded elections anchor one interval per anchor pass: the root of a tree
-- over the shard windows sealed since the previous interval (one transaction for all shards). Intervals
-- and their records live with the election (its home cluster), so they can name windows of any cluster.

ALTER TABLE elections ADD COLUMN shards integer NOT NULL DEFAULT 1 CHECK (shards BETWEEN 1 AND 1024);

ALTER TABLE election_heads ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE election_heads DROP CONSTRAINT election_heads_pkey;
ALTER TABLE election_heads ADD PRIMARY KEY (election_id, shard);

ALTER TABLE ballots ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE ballots DROP CONSTRAINT ballots_pkey;
ALTER TABLE ballots ADD PRIMARY KEY (election_id, shard, seq);

ALTER TABLE windows ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE windows DROP CONSTRAINT windows_pkey;
ALTER TABLE windows DROP CONSTRAINT windows_election_id_first_seq_key;
ALTER TABLE windows ADD PRIMARY KEY (election_id, shard, window_index);
ALTER TABLE windows ADD CONSTRAINT windows_shard_first_seq UNIQUE (election_id, shard, first_seq);

-- One anchor interval of a sharded election: the RFC 6962 root over its windows' records (section 13.4).
CREATE TABLE anchor_intervals (
  election_id    text NOT NULL REFERENCES elections(election_id),
  interval_index integer NOT NULL CHECK (interval_index >= 0),
  window_count   integer NOT NULL CHECK (window_count >= 1),
  ballot_count   bigint NOT NULL CHECK (ballot_count >= 1),
  root           bytea NOT NULL CHECK (length(root) = 32),
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  anchor_tx      text,
  anchor_block   bigint,
  anchored_at    timestamptz,
  PRIMARY KEY (election_id, interval_index)
);
-- An interval's records: the shard windows it anchors, each window in exactly one interval (the primary
-- key), a shard's windows entering intervals in order (formInterval). Insert-only.
CREATE TABLE interval_windows (
  election_id    text NOT NULL,
  interval_index integer NOT NULL,
  shard          integer NOT NULL CHECK (shard >= 0),
  window_index   integer NOT NULL CHECK (window_index >= 0),
  first_seq      bigint NOT NULL CHECK (first_seq >= 0),
  count          bigint NOT NULL CHECK (count >= 1),
  root           bytea NOT NULL CHECK (length(root) = 32),
  PRIMARY KEY (election_id, shard, window_index),
  FOREIGN KEY (election_id, interval_index) REFERENCES anchor_intervals (election_id, interval_index)
);
CREATE INDEX interval_windows_interval ON interval_windows (election_id, interval_index);
CREATE TRIGGER interval_windows_no_change BEFORE UPDATE OR DELETE ON interval_windows
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER interval_windows_no_truncate BEFORE TRUNCATE ON interval_windows
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
-- Windows whose anchor is not recorded yet: what sealing leaves for the anchor worker, a few per shard.
CREATE INDEX windows_unanchored ON windows (election_id, shard, window_index) WHERE anchor_tx IS NULL;

-- A sealed window: 0002's rule, with its shard fixed too.
CREATE OR REPLACE FUNCTION tallyproof_window_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.window_index IS DISTINCT FROM OLD.window_index
     OR NEW.shard IS DISTINCT FROM OLD.shard
     OR NEW.first_seq IS DISTINCT FROM OLD.first_seq OR NEW.count IS DISTINCT FROM OLD.count
     OR NEW.root IS DISTINCT FROM OLD.root OR NEW.sealed_at IS DISTINCT FROM OLD.sealed_at
     OR (OLD.anchor_tx IS NOT NULL AND NEW.anchor_tx IS DISTINCT FROM OLD.anchor_tx)
     OR (OLD.anchor_block IS NOT NULL AND NEW.anchor_block IS DISTINCT FROM OLD.anchor_block)
     OR (OLD.anchored_at IS NOT NULL AND NEW.anchored_at IS DISTINCT FROM OLD.anchored_at) THEN
    RAISE EXCEPTION 'tallyproof: window %/%/% is sealed and cannot be changed', OLD.election_id, OLD.shard,
      OLD.window_index USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

-- An interval: its records and root are fixed; its anchor columns go from null to a value once.
CREATE FUNCTION tallyproof_interval_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.interval_index IS DISTINCT FROM OLD.interval_index
     OR NEW.window_count IS DISTINCT FROM OLD.window_count OR NEW.ballot_count IS DISTINCT FROM OLD.ballot_count
     OR NEW.root IS DISTINCT FROM OLD.root OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR (OLD.anchor_tx IS NOT NULL AND NEW.anchor_tx IS DISTINCT FROM OLD.anchor_tx)
     OR (OLD.anchor_block IS NOT NULL AND NEW.anchor_block IS DISTINCT FROM OLD.anchor_block)
     OR (OLD.anchored_at IS NOT NULL AND NEW.anchored_at IS DISTINCT FROM OLD.anchored_at) THEN
    RAISE EXCEPTION 'tallyproof: interval %/% is fixed', OLD.election_id, OLD.interval_index
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER anchor_intervals_fixed BEFORE UPDATE ON anchor_intervals
  FOR EACH ROW EXECUTE FUNCTION tallyproof_interval_update();
CREATE TRIGGER anchor_intervals_no_delete BEFORE DELETE ON anchor_intervals
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER anchor_intervals_no_truncate BEFORE TRUNCATE ON anchor_intervals
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();

-- A head stays with its election and shard.
CREATE OR REPLACE FUNCTION tallyproof_head_shard_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.shard IS DISTINCT FROM OLD.shard THEN
    RAISE EXCEPTION 'tallyproof: the head of %/% cannot move to another shard', OLD.election_id, OLD.shard
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER election_heads_shard_fixed BEFORE UPDATE ON election_heads
  FOR EACH ROW EXECUTE FUNCTION tallyproof_head_shard_fixed();

-- The shard count is part of the manifest: fixed like it.
CREATE FUNCTION tallyproof_election_shards_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.shards IS DISTINCT FROM OLD.shards THEN
    RAISE EXCEPTION 'tallyproof: the shard count of % cannot change', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER elections_shards_fixed BEFORE UPDATE ON elections
  FOR EACH ROW EXECUTE FUNCTION tallyproof_election_shards_fixed();

GRANT SELECT, INSERT, UPDATE ON anchor_intervals TO tallyproof_app;
GRANT SELECT, INSERT ON interval_windows TO tallyproof_app;
