#!/usr/bin/env bash
# Stops both FerretDB instances (in parallel: each waits a few seconds for
# its connections to close); their SQLite data is kept.
source "$(dirname "$0")/env.sh"

for inst in "${FDB_INSTANCES[@]}"; do
	stop_pid "$(fdb_pidfile "$inst")" 10 &
done
wait
say "source and restore stopped"
