-- Tiles (docs/protocol.md section 14): a sealed window's RFC 6962 tree as C2SP tlog-tiles hash tiles, written
-- in the sealing transaction (before the head lock is taken, so ingest is not held up by the insert) and
-- never changed: a window's tiles exist exactly when its row does, and every API replica serves the same bytes.
-- Entry bundles are not stored: they are the window's ballot hashes, read from `ballots` (append-only too).
CREATE TABLE window_tiles (
  election_id  text NOT NULL,
  shard        integer NOT NULL CHECK (shard >= 0),
  window_index integer NOT NULL CHECK (window_index >= 0),
  level        smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
  tile_index   bigint NOT NULL CHECK (tile_index >= 0),
  width        smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  data         bytea NOT NULL CHECK (length(data) = 32 * width),
  -- Not served: the complete subtrees inside the tile (up to 255 hashes), so a proof picks its siblings
  -- instead of hashing them (ledger/src/protocol/tiles.ts tileNodes).
  nodes        bytea NOT NULL CHECK (length(nodes) % 32 = 0 AND length(nodes) < 32 * width),
  PRIMARY KEY (election_id, shard, window_index, level, tile_index)
);
-- Hashes do not compress: skip the attempt.
ALTER TABLE window_tiles ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE window_tiles ALTER COLUMN nodes SET STORAGE EXTERNAL;
CREATE TRIGGER window_tiles_no_change BEFORE UPDATE OR DELETE ON window_tiles
  FOR EACH ROW EXECUTE FUNCTION tallyproof_refuse();
CREATE TRIGGER window_tiles_no_truncate BEFORE TRUNCATE ON window_tiles
  FOR EACH STATEMENT EXECUTE FUNCTION tallyproof_refuse();
GRANT SELECT, INSERT ON window_tiles TO tallyproof_app;
