#!/usr/bin/env bash
# One process per service against RabbitMQ and PostgreSQL: the deployed shape, on this machine.
# AMQP_URI and PINGAN_DATABASE_URL (with {service}) come from the Makefile or the environment.
# As in the chart: `pingan migrate --runtime-role` runs as the database owner (PINGAN_DATABASE_URL)
# and makes event rows append-only for PINGAN_RUNTIME_ROLE; the services log in as that role.
set -euo pipefail
BIN=${BIN:-.venv/bin}
export AMQP_URI=${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}
source "$(dirname "$0")/database-url.sh"
RUNTIME_ROLE=${PINGAN_RUNTIME_ROLE:-pingan_runtime}
RUNTIME_PASSWORD=${PINGAN_RUNTIME_PASSWORD:-pingan_runtime}
# Creating a login role needs a role with CREATEROLE (the owner login usually lacks it).
PG_ADMIN_DSN=${PINGAN_PG_ADMIN_DSN:-host=127.0.0.1 port=5432 user=postgres dbname=postgres}
# Locally, keep generated keys beside the data (deployed: Secrets): the personal-data master key,
# the token issuer's key (for `pingan shell`/`seed`, never given to a service) and each service's
# event-signing key (given only to that service).
if [ -z "${PINGAN_PERSONAL_DATA_KEY:-}" ]; then
  PINGAN_PERSONAL_DATA_KEY=$("$BIN/python" -c "from pathlib import Path; from shared.config import generated_secret; from shared.security.personal_data import generate_master_key; print(generated_secret(Path('data/personal-data.key'), generate_master_key))")
  export PINGAN_PERSONAL_DATA_KEY
fi
# Likewise the chain key each service MACs its events' chain links with (docs/security.md).
if [ -z "${PINGAN_CHAIN_KEY:-}" ]; then
  PINGAN_CHAIN_KEY=$("$BIN/python" -c "from pathlib import Path; from shared.config import generated_secret; from shared.security.links import generate_chain_key; print(generated_secret(Path('data/chain.key'), generate_chain_key))")
  export PINGAN_CHAIN_KEY
fi
# PINGAN_SERVICES (default: all) and PINGAN_FIRST_HTTP_PORT (default 8000) let a test run a few.
services=${PINGAN_SERVICES:-$("$BIN/python" -c "from shared.registry import service_names; print(' '.join(service_names()))")}
# shellcheck disable=SC2046
eval "$("$BIN/python" - $services <<'PY'
import shlex, sys
from pathlib import Path
from shared.security.keys import local_public_env
for name, value in local_public_env(Path("data"), sys.argv[1:]).items():
    print(f"export {name}={shlex.quote(value)}")
PY
)"
"$BIN/python" - "$PG_ADMIN_DSN" "$RUNTIME_ROLE" "$RUNTIME_PASSWORD" <<'PY'
import sys
import psycopg2
from psycopg2 import sql
dsn, role, password = sys.argv[1:]
admin = psycopg2.connect(dsn)
admin.autocommit = True
cursor = admin.cursor()
cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
if cursor.fetchone() is None:
    cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
PY
ensure_database() {  # as the owner (PINGAN_DATABASE_URL)
  "$BIN/python" - "$1" <<'PY'
import sys
from sqlalchemy.engine import make_url
import psycopg2
url = make_url(sys.argv[1])
admin = psycopg2.connect(dbname="postgres", user=url.username, password=url.password, host=url.host, port=url.port or 5432)
admin.autocommit = True
cursor = admin.cursor()
cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
if cursor.fetchone() is None:
    cursor.execute(f'CREATE DATABASE "{url.database}"')
PY
}
# The services' URL: the runtime role's, {service} kept, so each finds its own database and
# the integration client registry's (`clients`, written only by `pingan clients`; docs/integration.md).
runtime_database=$("$BIN/python" - "$PINGAN_DATABASE_URL" "$RUNTIME_ROLE" "$RUNTIME_PASSWORD" <<'PY'
import sys
from sqlalchemy.engine import make_url
print(make_url(sys.argv[1]).set(username=sys.argv[2], password=sys.argv[3]).render_as_string(hide_password=False))
PY
)
ensure_database "$(service_database_url clients)"
"$BIN/pingan" migrate clients --runtime-role "$RUNTIME_ROLE"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
port=${PINGAN_FIRST_HTTP_PORT:-8000}
for service in $services; do
  ensure_database "$(service_database_url "$service")"
  "$BIN/pingan" migrate "$service" --runtime-role "$RUNTIME_ROLE"
  signing_key=$("$BIN/python" -c "import sys; from pathlib import Path; from shared.security.keys import local_signing_env; print(next(iter(local_signing_env(Path('data'), sys.argv[1]).values())))" "$service")
  env "PINGAN_EVENT_SIGNING_KEY_${service^^}=$signing_key" PINGAN_DATABASE_URL="$runtime_database" \
    PINGAN_HTTP_ADDRESS=127.0.0.1:$port "$BIN/pingan" serve "$service" &
  pids+=($!)
  echo "started $service (pid $!) as role $RUNTIME_ROLE, http://127.0.0.1:$port/metrics"
  port=$((port + 1))
done
echo "Seed the demo data with: AMQP_URI=$AMQP_URI $BIN/pingan seed"
echo "Call the services with:  AMQP_URI=$AMQP_URI $BIN/pingan shell"
echo "Outside systems (docs/integration.md): PINGAN_DATABASE_URL=<as here> PINGAN_ACTIVE_TOKEN_KID=local PINGAN_TOKEN_ISSUER_KEY=\$(cat data/keys/token-issuer.key) $BIN/pingan clients register|token ..."
wait
