#!/usr/bin/env bash
# Bring up what the integration and end-to-end tests need, bound to loopback:
# PostgreSQL on 127.0.0.1:5432 with a "pingan" role that may create databases,
# RabbitMQ on 127.0.0.1:5672 with its management API on 127.0.0.1:15672 (nameko's
# test fixtures make a throwaway vhost per test through it).
# Installs them with apt when missing (Debian/Ubuntu, as root); otherwise says what to start.
set -euo pipefail

say() { printf 'ensure-services: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
mgmt_up() { curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1; }
wait_for() { # wait_for SECONDS CHECK
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_ready=""
apt_install() {
  if [ -z "$apt_ready" ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_ready=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL ---------------------------------------------------------------
if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null; then
    can_install || die "PostgreSQL is not running on 127.0.0.1:5432 and I cannot install it (need root and apt). Start PostgreSQL 15 bound to 127.0.0.1, then re-run."
    say "installing PostgreSQL"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -n | tail -1)
  conf="/etc/postgresql/$version/main/postgresql.conf"
  grep -q "^listen_addresses = '127.0.0.1'" "$conf" 2>/dev/null || echo "listen_addresses = '127.0.0.1'" >> "$conf"
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for 60 pg_up || die "PostgreSQL did not answer on 127.0.0.1:5432 within 60 s"
fi
psql_admin() {
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"
  else
    psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
  fi
}
if ! psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='pingan'" | grep -q 1; then
  say "creating role pingan"
  psql_admin -c "CREATE ROLE pingan LOGIN CREATEDB PASSWORD 'pingan'"
fi

# --- RabbitMQ -----------------------------------------------------------------
if ! rabbit_up; then
  if ! command -v rabbitmq-server >/dev/null; then
    can_install || die "RabbitMQ is not running on 127.0.0.1:5672 and I cannot install it (need root and apt). Start RabbitMQ bound to 127.0.0.1 with the management plugin on 127.0.0.1:15672, then re-run."
    say "installing RabbitMQ"
    apt_install rabbitmq-server
  fi
  mkdir -p /etc/rabbitmq
  grep -qs "^listeners.tcp" /etc/rabbitmq/rabbitmq.conf || echo "listeners.tcp.local = 127.0.0.1:5672" >> /etc/rabbitmq/rabbitmq.conf
  grep -qs "^management.tcp.ip" /etc/rabbitmq/rabbitmq.conf || echo "management.tcp.ip = 127.0.0.1" >> /etc/rabbitmq/rabbitmq.conf
  grep -qs "^ERL_EPMD_ADDRESS" /etc/rabbitmq/rabbitmq-env.conf || echo "ERL_EPMD_ADDRESS=127.0.0.1" >> /etc/rabbitmq/rabbitmq-env.conf
  say "starting RabbitMQ"
  rabbitmq-server -detached
  wait_for 90 rabbit_up || die "RabbitMQ did not answer on 127.0.0.1:5672 within 90 s"
fi
if ! mgmt_up; then
  say "enabling the RabbitMQ management plugin on 127.0.0.1:15672"
  grep -qs "^management.tcp.ip" /etc/rabbitmq/rabbitmq.conf || echo "management.tcp.ip = 127.0.0.1" >> /etc/rabbitmq/rabbitmq.conf
  # The running node has read its config already: bind the listener to loopback before the plugin starts.
  rabbitmqctl -q eval 'application:set_env(rabbitmq_management, tcp_config, [{ip, "127.0.0.1"}, {port, 15672}]).' >/dev/null
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  wait_for 60 mgmt_up || die "RabbitMQ management API did not answer on 127.0.0.1:15672 within 60 s"
fi
say "PostgreSQL and RabbitMQ are up on loopback"
