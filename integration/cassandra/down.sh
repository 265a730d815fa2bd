#!/usr/bin/env bash
# Stops the test Cassandra nodes: down.sh (cluster strata-it, nodes 1-3),
# down.sh restore (node 4), down.sh all (every node). Data is kept.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

case "${1:-}" in
"") nodes=(1 2 3) ;;
restore) nodes=(4) ;;
all) nodes=(1 2 3 4) ;;
*) die "usage: down.sh [restore|all]" ;;
esac

for n in "${nodes[@]}"; do stop_node "$n"; done
