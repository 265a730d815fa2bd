#!/usr/bin/env bash
# nodetool.sh N ARGS...: runs nodetool ARGS against node N (1-4) over its
# local JMX port (7N00), from the same jars as the server.
source "$(dirname "$0")/env.sh"

check_node "${1:-}"
n="$1"
shift
ensure_jars >&2
mapfile -t mods < <(jvm_module_flags)
exec "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${mods[@]}" \
	-Dlogback.configurationFile="$CASS_SRC/logback-tools.xml" \
	-cp "$(classpath)" org.apache.cassandra.tools.NodeTool \
	-h 127.0.0.1 -p "$(node_jmx "$n")" "$@"
