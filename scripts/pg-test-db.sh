#!/usr/bin/env sh
# Prepares the PostgreSQL the tests use (127.0.0.1:5432, user postgres, trust auth, database `test`):
# checks the server answers, creates the database if missing, and drops schemas left by interrupted
# test runs (every test schema is named hk_*) — so never while tests run. Usage:
#   scripts/pg-test-db.sh [--keep-schemas]
set -eu
URL_BASE="${HOOKSTER_TEST_POSTGRES_BASE:-postgres://postgres@127.0.0.1:5432}"

if ! psql "$URL_BASE/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL is not reachable at $URL_BASE (start it, e.g. pg_ctlcluster 15 main start)" >&2
  exit 1
fi
if [ "$(psql "$URL_BASE/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != "1" ]; then
  psql "$URL_BASE/postgres" -qc 'CREATE DATABASE test'
  echo "created database test"
fi
if [ "${1:-}" != "--keep-schemas" ]; then
  psql "$URL_BASE/test" -Atqc "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'hk\_%'" | while read -r schema; do
    psql "$URL_BASE/test" -qc "DROP SCHEMA IF EXISTS \"$schema\" CASCADE"
    echo "dropped leftover schema $schema"
  done
fi
echo "PostgreSQL ready: $URL_BASE/test"
