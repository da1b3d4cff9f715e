#!/bin/sh
# One-shot (temporalio/admin-tools): create or upgrade Temporal's two PostgreSQL databases.
# Safe to run again on every `docker compose up`: existing databases are kept, and
# update-schema applies only the versions not applied yet.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"
}

for db in temporal temporal_visibility; do
    case "$db" in
        temporal) versions="$SCHEMA/temporal/versioned" ;;
        *) versions="$SCHEMA/visibility/versioned" ;;
    esac
    # `create` fails when the database exists (the PostgreSQL image creates `temporal` itself,
    # named after POSTGRES_USER); a real connection problem fails setup-schema next.
    sql_tool --db "$db" create 2>/dev/null || echo "database $db exists"
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "$versions"
done
echo "PostgreSQL schemas are up to date"
