-- The role the application connects as: only the grants it needs. No UPDATE or DELETE on ballots, no
-- DELETE anywhere, no TRUNCATE, no DDL. The role is created by the migrator (roles are cluster-wide).
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tallyproof_app;
GRANT SELECT, INSERT ON ballots, rejected_attempts, credentials TO tallyproof_app;
GRANT SELECT, INSERT, UPDATE ON elections, election_heads, windows TO tallyproof_app;
GRANT USAGE ON SEQUENCE rejected_attempts_id_seq TO tallyproof_app;
GRANT SELECT ON schema_migrations TO tallyproof_app;
