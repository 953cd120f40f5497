#!/bin/bash
# Entry point of the replicated database's services (deploy/docker-compose.replicated.yml; docs/operations.md,
# "Replication and failover"), run as the postgres user:
#
#   pg-auto-failover.sh monitor            the pg_auto_failover monitor (service pg-monitor)
#   pg-auto-failover.sh node HOSTNAME      a PostgreSQL node (services postgres, postgres-b, postgres-c)
#
# On the first start of an empty volume it creates the monitor or the node: the first node to register is
# the primary, the next ones are standbys cloned from it (pg_basebackup). On the primary, at its creation
# only, the ledger's roles and database are made by init-roles.sh (the same script as the single-server
# stack) and the replication role gets its password. Then pg_autoctl runs in the foreground: it starts
# and supervises PostgreSQL and follows the monitor (failover, standbys re-joining).
#
# Passwords come from the environment, into ~/.pgpass (mode 0600) and into SQL as psql variables, never
# onto a command line:
#   PGAF_MONITOR_PASSWORD       role autoctl_node on the monitor (the nodes' keepers connect as it)
#   PGAF_REPLICATION_PASSWORD   role pgautofailover_replicator (base backups and streaming between nodes)
#   TALLYPROOF_OWNER_DB_PASSWORD, TALLYPROOF_APP_DB_PASSWORD (init-roles.sh)
# XDG_CONFIG_HOME and XDG_DATA_HOME point into the data volume: pg_autoctl's configuration and state
# survive the container.
set -euo pipefail

role=${1:?usage: pg-auto-failover.sh monitor | node HOSTNAME}
: "${PGDATA:?PGDATA must be set}"
for name in PGAF_MONITOR_PASSWORD PGAF_REPLICATION_PASSWORD; do
  value="${!name:-}"
  if [ -z "$value" ] || [[ "$value" == change-me* ]]; then
    echo "pg-auto-failover: $name is unset or still the placeholder of deploy/.env.example" >&2
    exit 1
  fi
done

umask 077
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
cat > "$HOME/.pgpass" <<PGPASS
*:*:pg_auto_failover:autoctl_node:${PGAF_MONITOR_PASSWORD}
*:*:*:pgautofailover_replicator:${PGAF_REPLICATION_PASSWORD}
PGPASS

# Runs stdin's SQL on the local server, started for that alone (no TCP), as the bootstrap superuser.
local_sql() {
  local db=$1
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
  psql --no-psqlrc --set ON_ERROR_STOP=1 --dbname "$db"
  pg_ctl -D "$PGDATA" -w stop >/dev/null
}

common=(--pgport 5432 --auth scram-sha-256 --ssl-self-signed --ssl-mode require)
case "$role" in
  monitor)
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      pg_autoctl create monitor --hostname "${2:-pg-monitor}" "${common[@]}"
      local_sql pg_auto_failover <<'SQL'
SET log_statement = 'none';
\getenv password PGAF_MONITOR_PASSWORD
ALTER ROLE autoctl_node PASSWORD :'password';
SQL
    fi
    ;;
  node)
    host=${2:?usage: pg-auto-failover.sh node HOSTNAME}
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      pg_autoctl create postgres --name "$host" --hostname "$host" --dbname postgres "${common[@]}" \
        --monitor "postgres://autoctl_node@${PGAF_MONITOR_HOST:-pg-monitor}:5432/pg_auto_failover?sslmode=require"
      # The application's roles, with a password, from this node's networks (pg_auto_failover opens only
      # its own roles), as the single-server stack has them. A standby's base backup has the line already.
      rule='host tallyproof tallyproof,tallyproof_app samenet scram-sha-256'
      grep -qxF "$rule" "$PGDATA/pg_hba.conf" || echo "$rule" >> "$PGDATA/pg_hba.conf"
      if [ ! -f "$PGDATA/standby.signal" ]; then
        # The first node, the primary: the ledger's roles and database, the replication role's password.
        pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
        POSTGRES_USER=postgres bash /docker-entrypoint-initdb.d/10-init-roles.sh
        psql --no-psqlrc --set ON_ERROR_STOP=1 --dbname postgres <<'SQL'
SET log_statement = 'none';
\getenv password PGAF_REPLICATION_PASSWORD
ALTER ROLE pgautofailover_replicator PASSWORD :'password';
SQL
        pg_ctl -D "$PGDATA" -w stop >/dev/null
      fi
    fi
    ;;
  *)
    echo "pg-auto-failover: unknown role $role (monitor or node)" >&2
    exit 2
    ;;
esac
exec pg_autoctl run
