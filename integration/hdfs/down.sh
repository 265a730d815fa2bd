#!/usr/bin/env bash
# Stops the test HDFS and waits for its process to exit; data is kept.
source "$(dirname "$0")/env.sh"

pid="$(server_pid)" || { rm -f "$PIDFILE" "$HDFS_WORK/ready"; exit 0; }
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 120); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
kill -9 "$pid" 2>/dev/null || true
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
rm -f "$PIDFILE" "$HDFS_WORK/ready"
say "stopped"
