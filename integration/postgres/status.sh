#!/usr/bin/env bash
# Prints whether the test PostgreSQL cluster answers; exits 0 when it
# runs, 3 when it does not (the query worked: servers.sh status exits 0
# either way), 1 when it cannot ask.
source "$(dirname "$0")/env.sh"

command -v pg_isready >/dev/null || die "cannot query: pg_isready not found (run integration/install-deps.sh)"
if pg_ready 2>/dev/null; then
	say "$PG_HOST:$PG_PORT: running"
else
	say "$PG_HOST:$PG_PORT: stopped"
	exit 3
fi
