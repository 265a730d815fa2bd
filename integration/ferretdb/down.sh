#!/usr/bin/env bash
# Stops both FerretDB instances; their SQLite data is kept.
source "$(dirname "$0")/env.sh"

for inst in "${FDB_INSTANCES[@]}"; do
	stop_pid "$(fdb_pidfile "$inst")" 10
	say "$inst stopped"
done
