#!/usr/bin/env bash
# Stops the test MariaDB server; data is kept.
source "$(dirname "$0")/env.sh"

if my_sock_ready >/dev/null 2>&1; then
	mariadb-admin --no-defaults --protocol=socket -S "$MY_SOCK" -u root shutdown >/dev/null 2>&1 || true
fi
stop_pid "$MY_PIDFILE" 30
say "stopped"
