#!/usr/bin/env bash
# Stops the test Cassandra nodes: down.sh (cluster strata-it, nodes 1-3),
# down.sh restore (node 4), down.sh all (every node). Data is kept.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

# stop_nodes N...: stops nodes of one cluster, in parallel, under that
# cluster's lock.
stop_nodes() {
	with_lock "$(node_base "$1")" stop_parallel "$@"
}

stop_parallel() {
	local n pids=() rc=0
	for n in "$@"; do
		stop_node "$n" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n" || rc=1; done
	return "$rc"
}

case "${1:-}" in
"") stop_nodes 1 2 3 ;;
restore) stop_nodes 4 ;;
all)
	stop_nodes 1 2 3 &
	main=$!
	stop_nodes 4 || rc=1
	wait "$main" || rc=1
	exit "${rc:-0}"
	;;
*) die "usage: down.sh [restore|all]" ;;
esac
