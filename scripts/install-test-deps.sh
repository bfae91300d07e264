#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: the clients people chat
# with (nc, telnet, irssi, WeeChat's curses interface), tmux to run and read them
# (test/e2e/real-clients), PostgreSQL and Redis (the harness runs its own throwaway
# server of each: test/helpers/postgres.ts, redis.ts) and Chromium (browser tests).
# Called by .ci/run before `npm ci`; safe to run again.
set -euo pipefail
need=()
command -v nc >/dev/null || need+=(netcat-openbsd)
command -v telnet >/dev/null || need+=(inetutils-telnet)
command -v tmux >/dev/null || need+=(tmux)
command -v irssi >/dev/null || need+=(irssi)
# weechat-headless has no screen to read back: the tests run `weechat` (curses) in tmux.
command -v weechat >/dev/null || need+=(weechat-curses)
command -v openssl >/dev/null || need+=(openssl)
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "install-test-deps: please install: ${need[*]}" >&2
    exit 1
  fi
fi
