#!/usr/bin/env bash
# Restore one service's database from a pg_dump, prove it, rebuild its read models
# (docs/deploy.md, "Backup and restore").
#   scripts/restore-service-db.sh <service> <dump file>
# Environment, as for `pingan migrate` (the database OWNER's URL):
#   PINGAN_DATABASE_URL   SQLAlchemy URL, {service} allowed; its database must NOT exist yet
#                         (drop or rename the damaged one first: this never overwrites records)
#   PINGAN_CHECKPOINT_PUBLIC_KEY, PINGAN_CHECKPOINT_DIR   the audit checkpoints (required: verify
#                         fails closed when records are stored and no checkpoint is found)
#   PINGAN (optional)     the pingan command, default `pingan` on PATH
# Steps: 1. create the database and restore the dump in one transaction (tables, rows, the
# append-only trigger, grants); 2. `pingan audit verify`: every event row against the hash
# chain and the signed checkpoints — a failure stops here, exit 1 (2: no checkpoint found), and the
# restored database is left for inspection; 3. `pingan rebuild`: read models from the events.
set -euo pipefail
service=${1:?usage: $0 <service> <dump file>}
dump=${2:?usage: $0 <service> <dump file>}
pingan=${PINGAN:-pingan}
source "$(dirname "$0")/database-url.sh"
url=$(service_database_url "$service")
libpq_url=${url/+psycopg2/}
database=${libpq_url##*/}
database=${database%%\?*}
server=${libpq_url%/*}/postgres

if [ "$(psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" = "1" ]; then
  echo "database $database exists: drop or rename it first (restore never overwrites records)" >&2
  exit 2
fi
psql "$server" -qc "CREATE DATABASE \"$database\""
pg_restore --exit-on-error --single-transaction --no-password --dbname="$libpq_url" "$dump"
echo "restored $dump into $database"

"$pingan" audit verify "$service" --quiet
"$pingan" rebuild "$service"
echo "$service restored, verified and its read models rebuilt"
