#!/usr/bin/env bash
# Make sure what the tests and the dev server need is on this machine, installing it from Debian's
# packages where it is missing. PostgreSQL itself is not installed here: config/database.py falls back
# to the embedded server of the `pgserver` package when none is configured or running.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  if ! have apt-get; then
    echo "ensure_services: cannot install $* (no apt-get); the tests that need it will skip." >&2
    return 0
  fi
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || echo "ensure_services: installing $* failed; the tests that need it will skip." >&2
}

# Redis: the Celery broker and production cache.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  have redis-server || apt_install redis-server
  if have redis-server; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
fi

# Headless Chromium for the admin's browser tests.
[ -x /usr/bin/chromium ] || apt_install chromium

# docker-compose (v1, from Debian) only validates the compose files; no engine is needed.
have docker-compose || apt_install docker-compose

# PgBouncer: the pooling tests start one (transaction mode) in front of the test database.
[ -x /usr/sbin/pgbouncer ] || have pgbouncer || apt_install pgbouncer
