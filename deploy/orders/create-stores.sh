#!/bin/sh
# One-shot of docker-compose.yml (`orders-stores`): for each service in ORDERS_STORES, a role of
# its own (LOGIN, password ORDERS_STORE_PASSWORD) and a database of the same name that it owns
# and nobody else may connect to. The workers create their tables on first use. Safe to run at
# every `docker compose up`: what exists is kept (the password is set again).
# Connection to the server: the libpq variables (PGHOST, PGUSER, PGPASSWORD, PGDATABASE).
set -eu
: "${ORDERS_STORES:?the services to create a store database for}"
: "${ORDERS_STORE_PASSWORD:?the password of the services' roles}"

for service in $ORDERS_STORES; do
  case "$service" in
    *[!a-z0-9_]* | [!a-z_]*)
      echo "ORDERS_STORES: $service is not a store name (lower-case letters, digits, _)" >&2
      exit 2 ;;
  esac
done

for service in $ORDERS_STORES; do
  psql --quiet -v ON_ERROR_STOP=1 -v service="$service" -v password="$ORDERS_STORE_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'service')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'service', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'service', :'service')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'service') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'service') \gexec
SQL
  echo "store database $service: ready"
done
