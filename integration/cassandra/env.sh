# Shared settings and helpers for the Cassandra scripts; sourced, not run.
#
# Node numbers map to addresses and JMX ports the way ccm does it:
# node N listens on 127.0.0.N (storage 7000, CQL 9042) with JMX on 7N00.
# Nodes 1-3 form the cluster "strata-it" (seed: node 1); node 4 is the
# separate one-node cluster "strata-it-restore" that restore tests write to.

set -euo pipefail

CASSANDRA_VERSION=5.0.8
IT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASS_SRC="$IT_DIR/cassandra"
WORK="${STRATA_IT_WORK:-$IT_DIR/.work}"
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}/cassandra-$CASSANDRA_VERSION"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
CASS_START_TIMEOUT="${CASS_START_TIMEOUT:-180}"

say() { echo "cassandra: $*"; }
die() { echo "cassandra: $*" >&2; exit 1; }

node_ip() { echo "127.0.0.$1"; }
node_jmx() { echo "7${1}00"; }
node_cluster() { if [ "$1" = 4 ]; then echo strata-it-restore; else echo strata-it; fi; }
node_seed() { if [ "$1" = 4 ]; then echo 127.0.0.4; else echo 127.0.0.1; fi; }
# node_base N: the per-cluster directory holding node data and logs/, named
# like the harness's server names so harness.LogDir finds the logs.
node_base() { if [ "$1" = 4 ]; then echo "$WORK/cassandra-restore"; else echo "$WORK/cassandra"; fi; }
node_dir() { echo "$(node_base "$1")/node$1"; }
node_log() { echo "$(node_base "$1")/logs/node$1.log"; }
node_pidfile() { echo "$(node_dir "$1")/pid"; }

check_node() {
	case "$1" in 1 | 2 | 3 | 4) ;; *) die "node must be 1-4, got '$1'" ;; esac
}

# ensure_jars fetches cassandra-all and its runtime dependencies from Maven
# Central into $CACHE/lib once; later calls find the marker and return. A
# lock keeps concurrent callers (cassandra and cassandra-restore are
# started in parallel) from fetching into the same directory.
ensure_jars() {
	if [ -f "$CACHE/complete" ]; then return 0; fi
	mkdir -p "$(dirname "$CACHE")"
	(
		flock 9
		fetch_jars
	) 9>"$CACHE.lock"
}

fetch_jars() {
	if [ -f "$CACHE/complete" ]; then return 0; fi
	say "fetching cassandra-all $CASSANDRA_VERSION jars into $CACHE/lib (mvn)"
	mkdir -p "$CACHE" "$WORK/cassandra/logs"
	rm -rf "$CACHE/lib.tmp"
	if ! mvn -q -B -f "$CASS_SRC/pom.xml" -Dcassandra.version="$CASSANDRA_VERSION" \
		dependency:copy-dependencies -DoutputDirectory="$CACHE/lib.tmp" \
		-DincludeScope=runtime >"$WORK/cassandra/logs/mvn.log" 2>&1; then
		tail -n 40 "$WORK/cassandra/logs/mvn.log" >&2
		die "mvn dependency:copy-dependencies failed (log: $WORK/cassandra/logs/mvn.log)"
	fi
	rm -rf "$CACHE/lib"
	mv "$CACHE/lib.tmp" "$CACHE/lib"
	touch "$CACHE/complete"
}

classpath() { echo "$CACHE/lib/*"; }

# jvm_module_flags: the --add-exports/--add-opens of Cassandra's
# conf/jvm17-server.options, which it needs on Java 17.
jvm_module_flags() {
	local m
	for m in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
		java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql \
		java.base/java.lang.ref jdk.unsupported/sun.misc \
		jdk.compiler/com.sun.tools.javac.file jdk.attach/sun.tools.attach; do
		printf -- '--add-exports=%s=ALL-UNNAMED\n' "$m"
	done
	for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref \
		java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module \
		java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal \
		java.base/sun.nio.ch java.base/java.io java.base/java.lang.reflect \
		jdk.compiler/com.sun.tools.javac java.base/java.lang java.base/java.util java.base/java.nio; do
		printf -- '--add-opens=%s=ALL-UNNAMED\n' "$m"
	done
}

# cql_open N: whether 127.0.0.N:9042 accepts a TCP connection.
cql_open() {
	(exec 3<>"/dev/tcp/$(node_ip "$1")/9042") 2>/dev/null
}

# node_pid N prints the pid of a live node process, or fails.
node_pid() {
	local f pid
	f="$(node_pidfile "$1")"
	[ -f "$f" ] || return 1
	pid="$(cat "$f")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# Guard against a recycled pid: the process must be a Cassandra JVM.
	grep -qa CassandraDaemon "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}
