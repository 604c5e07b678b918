#!/bin/sh
# Creates the two Temporal databases on PostgreSQL and brings their schemas to the server's
# version (idempotent: run it again after upgrading the server). The same script for the native
# cluster stack (src/devstack/temporal-cluster.ts) and the compose `temporal-schema` job.
#   SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD   where PostgreSQL listens, and as whom
#   TEMPORAL_SQL_TOOL                            the schema tool (default: temporal-sql-tool on PATH)
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
export SQL_PASSWORD="${SQL_PASSWORD:-temporal}"
for db in temporal temporal_visibility; do
  schema=temporal
  [ "$db" = temporal_visibility ] && schema=visibility
  run() { "$tool" --plugin postgres12 --ep "${SQL_HOST:-127.0.0.1}" -p "${SQL_PORT:-5432}" -u "${SQL_USER:-temporal}" --db "$db" "$@"; }
  run create-database 2> /dev/null || true # already there on a second run
  run setup-schema -v 0.0
  run update-schema --schema-name "postgresql/v12/$schema"
done
