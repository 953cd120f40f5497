-- Every piece of ledger state is append-only or monotonic, for every role (triggers bind the table owner
-- too). 0002 covered ballots, windows, credentials, the manifest and the refusals; this covers the rest:
-- the election heads, whose numbers only grow and whose close is final, and the write-once columns of
-- elections (chain bookkeeping and the result).

CREATE FUNCTION tallyproof_head_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id THEN
    RAISE EXCEPTION 'tallyproof: the head of % cannot move to another election', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.next_seq < OLD.next_seq OR NEW.sealed_through < OLD.sealed_through
     OR NEW.next_window_index < OLD.next_window_index THEN
    RAISE EXCEPTION 'tallyproof: the head of % only moves forward (next_seq %→%, sealed_through %→%, next_window_index %→%)',
      OLD.election_id, OLD.next_seq, NEW.next_seq, OLD.sealed_through, NEW.sealed_through,
      OLD.next_window_index, NEW.next_window_index
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.closed AND NOT NEW.closed THEN
    RAISE EXCEPTION 'tallyproof: election % is closed for good', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- A closed head takes no more ballots: next_seq is frozen once closed.
  IF OLD.closed AND NEW.next_seq <> OLD.next_seq THEN
    RAISE EXCEPTION 'tallyproof: election % is closed: no ballot can be added', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER election_heads_monotonic BEFORE UPDATE ON election_heads
  FOR EACH ROW EXECUTE FUNCTION tallyproof_head_update();
CREATE TRIGGER election_heads_no_delete BEFORE DELETE ON election_heads
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER election_heads_no_truncate BEFORE TRUNCATE ON election_heads
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();

-- Elections: 0002's rules, plus every chain and close column write-once (null → value, then fixed), and
-- the roll size frozen with its root.
CREATE OR REPLACE FUNCTION tallyproof_election_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.manifest IS DISTINCT FROM OLD.manifest
     OR NEW.manifest_hash IS DISTINCT FROM OLD.manifest_hash OR NEW.opens_at IS DISTINCT FROM OLD.opens_at
     OR NEW.closes_at IS DISTINCT FROM OLD.closes_at OR NEW.window_seconds IS DISTINCT FROM OLD.window_seconds
     OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR (OLD.roll_root IS NOT NULL AND (NEW.roll_root IS DISTINCT FROM OLD.roll_root OR NEW.roll_size IS DISTINCT FROM OLD.roll_size))
     OR (OLD.registration_tx IS NOT NULL AND NEW.registration_tx IS DISTINCT FROM OLD.registration_tx)
     OR (OLD.registration_block IS NOT NULL AND NEW.registration_block IS DISTINCT FROM OLD.registration_block)
     OR (OLD.close_requested_at IS NOT NULL AND NEW.close_requested_at IS DISTINCT FROM OLD.close_requested_at)
     OR (OLD.result_hash IS NOT NULL AND NEW.result_hash IS DISTINCT FROM OLD.result_hash)
     OR (OLD.total_ballots IS NOT NULL AND NEW.total_ballots IS DISTINCT FROM OLD.total_ballots)
     OR (OLD.close_tx IS NOT NULL AND NEW.close_tx IS DISTINCT FROM OLD.close_tx)
     OR (OLD.close_block IS NOT NULL AND NEW.close_block IS DISTINCT FROM OLD.close_block) THEN
    RAISE EXCEPTION 'tallyproof: election % cannot be changed that way', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

-- Roll uploads are a log: never changed or removed.
CREATE TRIGGER roll_uploads_no_change BEFORE UPDATE OR DELETE ON roll_uploads
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER roll_uploads_no_truncate BEFORE TRUNCATE ON roll_uploads
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER rejected_no_truncate BEFORE TRUNCATE ON rejected_attempts
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();

-- The application role never needed UPDATE on the roll-upload log or more than SELECT on migrations.
REVOKE UPDATE, DELETE, TRUNCATE ON roll_uploads FROM tallyproof_app;
