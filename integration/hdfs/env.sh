# Shared settings for the HDFS scripts; sourced, not run.
#
# The server is src/main/java/strata/MiniHdfs.java (MiniDFSCluster: a
# NameNode on 127.0.0.1:9000, two DataNodes, snapshottable /strata-snap).
# Its jars come from Maven Central through pom.xml, and its class is built
# with javac, both once, into a cache directory keyed by the pom's and the
# source's hash.

set -euo pipefail

HADOOP_VERSION=3.4.1
IT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HDFS_SRC="$IT_DIR/hdfs"
WORK="${STRATA_IT_WORK:-$IT_DIR/.work}"
HDFS_WORK="$WORK/hdfs"
LOGS="$HDFS_WORK/logs"
PIDFILE="$HDFS_WORK/pid"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
HDFS_START_TIMEOUT="${HDFS_START_TIMEOUT:-180}"
SRC_HASH="$(cat "$HDFS_SRC/pom.xml" "$HDFS_SRC/src/main/java/strata/MiniHdfs.java" | sha256sum | cut -c1-12)"
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}/hdfs-$HADOOP_VERSION-$SRC_HASH"

say() { echo "hdfs: $*"; }
die() { echo "hdfs: $*" >&2; exit 1; }

# ensure_build fetches the jars (mvn) and compiles MiniHdfs (javac) into
# $CACHE once, under a lock; later calls find the marker and return.
ensure_build() {
	[ -f "$CACHE/complete" ] && return 0
	mkdir -p "$(dirname "$CACHE")"
	(
		flock 9
		build
	) 9>"$CACHE.lock"
}

build() {
	[ -f "$CACHE/complete" ] && return 0
	mkdir -p "$CACHE" "$LOGS"
	rm -rf "$CACHE/lib" "$CACHE/classes"
	say "fetching hadoop-minicluster $HADOOP_VERSION jars into $CACHE/lib (mvn)"
	if ! mvn -q -B -f "$HDFS_SRC/pom.xml" -Dhadoop.version="$HADOOP_VERSION" \
		dependency:copy-dependencies -DoutputDirectory="$CACHE/lib" \
		-DincludeScope=runtime >"$LOGS/mvn.log" 2>&1; then
		tail -n 40 "$LOGS/mvn.log" >&2
		die "mvn dependency:copy-dependencies failed (log: $LOGS/mvn.log)"
	fi
	say "compiling MiniHdfs"
	if ! "$JAVA_HOME/bin/javac" -nowarn --release 17 -d "$CACHE/classes" -cp "$CACHE/lib/*" \
		"$HDFS_SRC/src/main/java/strata/MiniHdfs.java" >"$LOGS/javac.log" 2>&1; then
		cat "$LOGS/javac.log" >&2
		die "javac MiniHdfs failed"
	fi
	touch "$CACHE/complete"
}

# server_pid prints the pid of the running MiniHdfs, or fails.
server_pid() {
	local pid
	[ -s "$PIDFILE" ] || return 1
	pid="$(cat "$PIDFILE")"
	kill -0 "$pid" 2>/dev/null || return 1
	grep -qa strata.MiniHdfs "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

namenode_open() { (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null; }
