-- Append-only: ballots can never be updated, deleted or truncated; sealed windows keep their range and
-- root, and their anchor columns can be set once; the roll is frozen once its root is computed; an
-- election's manifest never changes. These triggers bind every role, the table owner included.

CREATE FUNCTION tallyproof_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tallyproof: % on % is not allowed (append-only ledger)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ballots_no_update BEFORE UPDATE OR DELETE ON ballots FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER ballots_no_truncate BEFORE TRUNCATE ON ballots FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER windows_no_delete BEFORE DELETE ON windows FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER windows_no_truncate BEFORE TRUNCATE ON windows FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER credentials_no_change BEFORE UPDATE OR DELETE ON credentials FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER credentials_no_truncate BEFORE TRUNCATE ON credentials FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER elections_no_delete BEFORE DELETE ON elections FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER elections_no_truncate BEFORE TRUNCATE ON elections FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER rejected_no_change BEFORE UPDATE OR DELETE ON rejected_attempts FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();

-- A sealed window: range and root are fixed; anchor columns go from null to a value once.
CREATE FUNCTION tallyproof_window_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.window_index IS DISTINCT FROM OLD.window_index
     OR NEW.first_seq IS DISTINCT FROM OLD.first_seq OR NEW.count IS DISTINCT FROM OLD.count
     OR NEW.root IS DISTINCT FROM OLD.root OR NEW.sealed_at IS DISTINCT FROM OLD.sealed_at
     OR (OLD.anchor_tx IS NOT NULL AND NEW.anchor_tx IS DISTINCT FROM OLD.anchor_tx)
     OR (OLD.anchor_block IS NOT NULL AND NEW.anchor_block IS DISTINCT FROM OLD.anchor_block)
     OR (OLD.anchored_at IS NOT NULL AND NEW.anchored_at IS DISTINCT FROM OLD.anchored_at) THEN
    RAISE EXCEPTION 'tallyproof: window %/% is sealed and cannot be changed', OLD.election_id, OLD.window_index
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER windows_sealed BEFORE UPDATE ON windows FOR EACH ROW EXECUTE FUNCTION tallyproof_window_update();

-- An election: the manifest and its hash never change; the roll root is set once; chain and close
-- columns are set once.
CREATE FUNCTION tallyproof_election_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.election_id IS DISTINCT FROM OLD.election_id OR NEW.manifest IS DISTINCT FROM OLD.manifest
     OR NEW.manifest_hash IS DISTINCT FROM OLD.manifest_hash OR NEW.opens_at IS DISTINCT FROM OLD.opens_at
     OR NEW.closes_at IS DISTINCT FROM OLD.closes_at OR NEW.window_seconds IS DISTINCT FROM OLD.window_seconds
     OR (OLD.roll_root IS NOT NULL AND (NEW.roll_root IS DISTINCT FROM OLD.roll_root OR NEW.roll_size IS DISTINCT FROM OLD.roll_size))
     OR (OLD.registration_tx IS NOT NULL AND NEW.registration_tx IS DISTINCT FROM OLD.registration_tx)
     OR (OLD.result_hash IS NOT NULL AND NEW.result_hash IS DISTINCT FROM OLD.result_hash)
     OR (OLD.close_tx IS NOT NULL AND NEW.close_tx IS DISTINCT FROM OLD.close_tx) THEN
    RAISE EXCEPTION 'tallyproof: election % cannot be changed that way', OLD.election_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER elections_guarded BEFORE UPDATE ON elections FOR EACH ROW EXECUTE FUNCTION tallyproof_election_update();

-- The roll is frozen once its root is computed.
CREATE FUNCTION tallyproof_roll_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM elections WHERE election_id = NEW.election_id AND roll_root IS NOT NULL) THEN
    RAISE EXCEPTION 'tallyproof: the roll of % is frozen', NEW.election_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER credentials_frozen BEFORE INSERT ON credentials FOR EACH ROW EXECUTE FUNCTION tallyproof_roll_insert();
