#!/usr/bin/env bash
# Logical backup of one service's event store and read models (docs/deploy.md, "Backup and restore").
#   scripts/backup-service-db.sh <service> <dump file>
# PINGAN_DATABASE_URL: the SQLAlchemy URL ({service} allowed) of a role that can read every
# table of the service's database (the owner, or the audit role). Custom format (pg_dump -Fc):
# compressed, restorable table by table, with the append-only trigger and grants.
set -euo pipefail
service=${1:?usage: $0 <service> <dump file>}
dump=${2:?usage: $0 <service> <dump file>}
source "$(dirname "$0")/database-url.sh"
url=$(service_database_url "$service")
pg_dump --format=custom --no-password --file="$dump" "${url/+psycopg2/}"
echo "backed up $service to $dump"
