#!/usr/bin/env bash
# What only the test suite needs (`make test`), never the dev server: a headless browser, a
# compose tool, and the npm packages of the generated TypeScript client (from its lockfile).
set -euo pipefail
source "$(dirname "$0")/apt.sh"

# Headless Chromium for the admin's and the cross-origin browser tests.
[ -x /usr/bin/chromium ] || apt_install chromium

# docker-compose (v1, from Debian) only validates the compose files; no engine is needed.
have docker-compose || apt_install docker-compose

# Node.js and npm for the TypeScript client (clients/typescript), then exactly its lockfile.
have npm || apt_install nodejs npm
client="$(dirname "$0")/../clients/typescript"
if have npm; then
  lock="$client/package-lock.json"
  stamp="$client/node_modules/.package-lock.json"
  # npm ci wipes and reinstalls: only when the lockfile changed since the last install.
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    (cd "$client" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) \
      || echo "ensure: npm ci failed in clients/typescript; the client test will skip." >&2
  fi
fi

# PgBouncer: the pooling tests start one (transaction mode) in front of the test database.
[ -x /usr/sbin/pgbouncer ] || have pgbouncer || apt_install pgbouncer
