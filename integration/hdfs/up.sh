#!/usr/bin/env bash
# Starts the test HDFS (NameNode hdfs://127.0.0.1:9000, two DataNodes,
# replication 2, snapshottable /strata-snap) or does nothing if it runs.
# Client configuration for HADOOP_CONF_DIR: $STRATA_IT_WORK/hdfs/conf
# (default integration/.work/hdfs/conf). Data survives down/up; remove
# $STRATA_IT_WORK/hdfs/formatted for a fresh file system.
source "$(dirname "$0")/env.sh"

ensure_build
mkdir -p "$HDFS_WORK" "$LOGS"
exec 8>"$HDFS_WORK/lock"
flock 8

if server_pid >/dev/null && [ -f "$HDFS_WORK/ready" ] && namenode_open; then
	exit 0
fi
t0=$SECONDS
if ! server_pid >/dev/null; then
	rm -f "$HDFS_WORK/ready"
	jpms=()
	for p in java.io java.lang java.lang.reflect java.math java.net java.nio java.text \
		java.util java.util.concurrent java.util.zip sun.nio.ch sun.security.util sun.security.x509; do
		jpms+=("--add-opens=java.base/$p=ALL-UNNAMED")
	done
	setsid nohup "$JAVA_HOME/bin/java" -Xms256m -Xmx768m \
		-XX:+UseG1GC -XX:ParallelGCThreads=1 -XX:ConcGCThreads=1 -XX:TieredStopAtLevel=1 \
		-XX:+IgnoreUnrecognizedVMOptions "${jpms[@]}" \
		-Djava.net.preferIPv4Stack=true \
		-Dlog4j.configuration="file://$HDFS_SRC/log4j.properties" \
		-Dhdfs.log.file="$LOGS/hdfs.log" \
		-cp "$CACHE/classes:$CACHE/lib/*" strata.MiniHdfs "$HDFS_WORK" \
		>"$LOGS/hdfs.out" 2>&1 </dev/null 8>&- &
	echo $! >"$PIDFILE"
fi

deadline=$((SECONDS + HDFS_START_TIMEOUT))
until [ -f "$HDFS_WORK/ready" ]; do
	if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		tail -n 40 "$LOGS/hdfs.out" "$LOGS/hdfs.log" >&2 2>/dev/null || true
		die "MiniHdfs exited during start-up (logs: $LOGS)"
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		tail -n 40 "$LOGS/hdfs.log" >&2 2>/dev/null || true
		die "not ready within ${HDFS_START_TIMEOUT}s (logs: $LOGS)"
	fi
	sleep 0.5
done
say "up on hdfs://127.0.0.1:9000 in $((SECONDS - t0))s (HADOOP_CONF_DIR=$HDFS_WORK/conf)"
