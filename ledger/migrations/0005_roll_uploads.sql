-- Keys added to a roll that is still loading: one row per committed upload (the first part given at
-- creation included). The election view reports the keys loaded so far as the sum of these few rows;
-- counting the roll itself would cost a scan of millions of keys on a public route. Uploads only insert
-- here, so concurrent uploads never wait on each other. finalize freezes the true size into elections.
CREATE TABLE roll_uploads (
  id          bigserial PRIMARY KEY,
  election_id text NOT NULL REFERENCES elections(election_id),
  added       bigint NOT NULL CHECK (added >= 0),
  uploaded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX roll_uploads_election ON roll_uploads (election_id);
GRANT SELECT, INSERT ON roll_uploads TO tallyproof_app;
GRANT USAGE ON SEQUENCE roll_uploads_id_seq TO tallyproof_app;

-- Rolls already loading when this migration runs: what they hold so far.
INSERT INTO roll_uploads (election_id, added)
  SELECT c.election_id, count(*) FROM credentials c JOIN elections e USING (election_id)
  WHERE e.roll_root IS NULL GROUP BY c.election_id;
