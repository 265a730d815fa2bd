#!/usr/bin/env bash
# Prints whether the test MariaDB server answers; exits 0 when it
# runs, 3 when it does not (the query worked: servers.sh status exits 0
# either way), 1 when it cannot ask.
source "$(dirname "$0")/env.sh"

command -v mariadb-admin >/dev/null || die "cannot query: mariadb-admin not found (run integration/install-deps.sh)"
if my_ready >/dev/null 2>&1; then
	say "$MY_HOST:$MY_PORT: running"
else
	say "$MY_HOST:$MY_PORT: stopped"
	exit 3
fi
