#!/usr/bin/env bash
# Install (Debian packages) and start a local PostgreSQL for the CRM tests; print the URL.
# The role's password is drawn anew on every run and never written to a file.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main" || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >&2 2>/dev/null || pg_ctlcluster "$version" main status >/dev/null
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
as_postgres() { su postgres -c "$1" >&2; }
if su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='keyaccounts'\"" | grep -q 1; then
  as_postgres "psql -qc \"ALTER ROLE keyaccounts LOGIN PASSWORD '$password'\""
else
  as_postgres "psql -qc \"CREATE ROLE keyaccounts LOGIN PASSWORD '$password'\""
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='keyaccounts_test'\"" | grep -q 1 \
  || as_postgres "createdb -O keyaccounts keyaccounts_test"
echo "postgresql+psycopg://keyaccounts:${password}@127.0.0.1:5432/keyaccounts_test"
