#!/bin/sh
# Creates the login role Temporal uses for its own databases (temporal and
# temporal_visibility, created and migrated by setup-schema.sh). Noor's data lives in the
# database the image creates from POSTGRES_DB; each side has its own role and databases.
#
# docker-compose.yml mounts this file into the PostgreSQL container's
# /docker-entrypoint-initdb.d/, so it runs once, when the data volume is initialised.
# For a volume that existed before (or after changing TEMPORAL_DB_PASSWORD), run it by
# hand; it only creates what is missing and resets the password:
#
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-temporal-role.sh
#
# No `set -u`: the image's entrypoint sources *.sh files that are not executable.
set -e

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set (see .env.example)}"
: "${POSTGRES_USER:?POSTGRES_USER is not set}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
  --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  -v role="${TEMPORAL_DB_USER:-temporal}" -v pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
-- CREATEDB: temporal-sql-tool creates Temporal's two databases itself.
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'pw')
\gexec
SQL
echo "temporal-role: role ${TEMPORAL_DB_USER:-temporal} is ready"
