#!/usr/bin/env bash
# start-node.sh N: starts node N (1-4) if it is stopped and waits until it
# accepts CQL; failure tests use it after stop-node.sh.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

check_node "${1:-}"
ensure_jars
with_lock "$(node_base "$1")" start_node "$1"
