#!/usr/bin/env bash
# Prints one line per FerretDB instance; exits 0 when all run, 3 when one
# does not (the query worked: servers.sh status exits 0 either way).
source "$(dirname "$0")/env.sh"

rc=0
for inst in "${FDB_INSTANCES[@]}"; do
	if [ -x "$FDB_BIN" ] && fdb_ping "$inst" >/dev/null 2>&1; then
		say "$inst on $(fdb_addr "$inst"): running"
	else
		say "$inst on $(fdb_addr "$inst"): stopped"
		rc=3
	fi
done
exit "$rc"
