#!/bin/sh
# Creates Temporal's two databases (temporal, temporal_visibility) if they are missing and
# brings their schemas to the version the pinned server release needs, with the
# temporal-sql-tool that ships in the matching temporalio/admin-tools image.
#
# docker-compose.yml runs it (service temporal-schema) before every start of the Temporal
# server; each step is idempotent (create skips an existing database, setup-schema keeps a
# newer version, update-schema applies only what is missing), so a second run only checks.
# After raising the Temporal version in docker-compose.yml, this is what upgrades the schema.
#
# Environment (set by docker-compose.yml): POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER,
# SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is not set}"
: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${SQL_PASSWORD:?SQL_PASSWORD (the Temporal role's password) is not set}"
PORT="${DB_PORT:-5432}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

say() { printf '[temporal-schema] %s\n' "$*"; }

sqltool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

say "waiting for PostgreSQL at $POSTGRES_SEEDS:$PORT"
n=0
until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do
  n=$((n + 1))
  if [ "$n" -ge 60 ]; then
    say "PostgreSQL did not answer; giving up"
    exit 1
  fi
  sleep 2
done

# database:schema-subdirectory
for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  dir="$SCHEMA_DIR/${pair#*:}/versioned"
  # An existing database is not an error for the tool; anything else (say a role without
  # CREATEDB) is reported here and surfaces again, loudly, in the next step.
  sqltool --db "$db" create || say "could not create database $db (see above); continuing with the existing one"
  sqltool --db "$db" setup-schema -v 0.0
  sqltool --db "$db" update-schema -d "$dir"
  say "database $db is at the schema this server needs"
done
