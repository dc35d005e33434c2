# Sourced by the ensure_* scripts: install Debian packages once per run, or say which tests skip.
have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  if ! have apt-get; then
    echo "ensure: cannot install $* (no apt-get); the tests that need it will skip." >&2
    return 0
  fi
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || echo "ensure: installing $* failed; the tests that need it will skip." >&2
}
