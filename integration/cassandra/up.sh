#!/usr/bin/env bash
# Starts the test Cassandra cluster, or does nothing if it already runs.
#   up.sh          three nodes, cluster strata-it, 127.0.0.1-3:9042
#   up.sh restore  one node, cluster strata-it-restore, 127.0.0.4:9042
# Jars come from Maven Central once (see env.sh); data and logs go under
# $STRATA_IT_WORK (default integration/.work)/cassandra[-restore]/.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

case "${1:-}" in
"") nodes=(1 2 3) ;;
restore) nodes=(4) ;;
*) die "usage: up.sh [restore]" ;;
esac

ensure_jars
up_all() {
	local n
	for n in "${nodes[@]}"; do start_node "$n"; done
}
with_lock "$(node_base "${nodes[0]}")" up_all
say "cluster $(node_cluster "${nodes[0]}") ready"
