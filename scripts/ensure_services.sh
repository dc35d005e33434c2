#!/usr/bin/env bash
# Make sure what the dev server and the tests need is running on this machine, installing it from
# Debian's packages where it is missing. PostgreSQL itself is not installed here:
# config/database.py falls back to the embedded server of the `pgserver` package when none is
# configured or running. Test-only tools are scripts/ensure_test_tools.sh's (`make test`).
set -euo pipefail
source "$(dirname "$0")/apt.sh"

# Redis: the Celery broker and production cache.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  have redis-server || apt_install redis-server
  if have redis-server; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
fi
