#!/usr/bin/env bash
# Starts both FerretDB instances (source 127.0.0.1:27017, restore
# 127.0.0.1:27018), building strata-ferretdb first if needed. An instance
# that already answers a ping is reused. See env.sh.
source "$(dirname "$0")/env.sh"

start_instance() {
	local inst=$1 addr pidfile
	addr="$(fdb_addr "$inst")"
	pidfile="$(fdb_pidfile "$inst")"
	if fdb_ping "$inst" >/dev/null 2>&1; then
		say "$inst on $addr already running"
		return 0
	fi
	if port_open 127.0.0.1 "$(fdb_port "$inst")"; then
		die "$addr is taken by something that does not answer a MongoDB ping"
	fi
	stop_pid "$pidfile" 5
	mkdir -p "$SRV_DIR/$inst"
	daemon "$pidfile" "$LOG_DIR/$inst.out" \
		"$FDB_BIN" -listen "$addr" -sqlite-dir "$SRV_DIR/$inst" -log-file "$LOG_DIR/$inst.log"
	wait_daemon "$pidfile" "$FDB_START_TIMEOUT" "ferretdb $inst on $addr" fdb_ping "$inst"
	say "$inst on $addr started (pid $(cat "$pidfile"))"
}

fdb_build
for inst in "${FDB_INSTANCES[@]}"; do
	start_instance "$inst"
done
