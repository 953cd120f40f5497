#!/bin/bash
# Creates the ledger's database roles. Mounted into /docker-entrypoint-initdb.d/ of the postgres service
# (deploy/docker-compose.yml): the image runs it once, as the superuser "postgres", when the data
# directory is created — never again on later starts (docs/operations.md, "Database roles").
#
#   tallyproof       owns the database "tallyproof" and its public schema; runs the migrations (the
#                    one-shot "migrate" service). No superuser, cannot create databases or roles.
#   tallyproof_app   what the API replicas and the worker connect as; the migrations grant it append-only
#                    access to the ledger tables. NOINHERIT: it gets nothing through role membership.
#
# This is the only place the passwords are set. They travel as psql variables read from this process's
# environment (\getenv), never on a command line, and logging of the session's statements is off before
# any statement carries one: a failed statement is logged with its text unless log_min_error_statement
# says otherwise.
set -euo pipefail

for name in TALLYPROOF_OWNER_DB_PASSWORD TALLYPROOF_APP_DB_PASSWORD; do
  value="${!name:-}"
  if [ -z "$value" ] || [[ "$value" == change-me* ]]; then
    echo "init-roles: $name is unset or still the placeholder of deploy/.env.example" >&2
    exit 1
  fi
done

psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET log_min_duration_statement = -1;
\getenv owner_password TALLYPROOF_OWNER_DB_PASSWORD
\getenv app_password TALLYPROOF_APP_DB_PASSWORD
CREATE ROLE tallyproof LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
CREATE ROLE tallyproof_app LOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
\unset owner_password
\unset app_password
CREATE DATABASE tallyproof OWNER tallyproof;
\connect tallyproof
SET log_statement = 'none';
ALTER SCHEMA public OWNER TO tallyproof;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
