#!/usr/bin/env bash
# Prints whether the test PostgreSQL cluster answers; exits 1 when not.
source "$(dirname "$0")/env.sh"

if pg_ready 2>/dev/null; then
	say "$PG_HOST:$PG_PORT: running"
else
	say "$PG_HOST:$PG_PORT: stopped"
	exit 1
fi
