#!/usr/bin/env bash
# One process per service against RabbitMQ and PostgreSQL: the deployed shape, on this machine.
# AMQP_URI and PINGAN_DATABASE_URL (with {service}) come from the Makefile or the environment.
set -euo pipefail
BIN=${BIN:-.venv/bin}
export AMQP_URI=${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}
source "$(dirname "$0")/database-url.sh"
# Locally, keep a generated personal-data master key beside the data (deployed: a Secret).
if [ -z "${PINGAN_PERSONAL_DATA_KEY:-}" ]; then
  PINGAN_PERSONAL_DATA_KEY=$("$BIN/python" -c "from pathlib import Path; from shared.config import generated_secret; from shared.security.personal_data import generate_master_key; print(generated_secret(Path('data/personal-data.key'), generate_master_key))")
  export PINGAN_PERSONAL_DATA_KEY
fi
# Likewise the chain key each service MACs its events' chain links with (docs/security.md).
if [ -z "${PINGAN_CHAIN_KEY:-}" ]; then
  PINGAN_CHAIN_KEY=$("$BIN/python" -c "from pathlib import Path; from shared.config import generated_secret; from shared.security.links import generate_chain_key; print(generated_secret(Path('data/chain.key'), generate_chain_key))")
  export PINGAN_CHAIN_KEY
fi
services=$("$BIN/python" -c "from shared.registry import service_names; print(' '.join(service_names()))")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
port=8000
for service in $services; do
  database=$(service_database_url "$service")
  "$BIN/python" - "$database" <<'PY'
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
  "$BIN/pingan" migrate "$service"
  PINGAN_HTTP_ADDRESS=127.0.0.1:$port "$BIN/pingan" serve "$service" &
  pids+=($!)
  echo "started $service (pid $!), http://127.0.0.1:$port/metrics"
  port=$((port + 1))
done
echo "Seed the demo data with: AMQP_URI=$AMQP_URI $BIN/pingan seed"
echo "Call the services with:  AMQP_URI=$AMQP_URI $BIN/pingan shell"
wait
