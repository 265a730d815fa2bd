#!/usr/bin/env bash
# Stops the test PostgreSQL cluster (fast shutdown); data is kept.
source "$(dirname "$0")/env.sh"

if [ -f "$PG_DATA/postmaster.pid" ] && [ -x "$(pg_bindir)/pg_ctl" ]; then
	as_pg "$(pg_bindir)/pg_ctl" -D "$(readlink -f "$PG_DATA")" -m fast -w stop >/dev/null 2>&1 || true
fi
stop_pid "$PG_PIDFILE" 20
say "stopped"
