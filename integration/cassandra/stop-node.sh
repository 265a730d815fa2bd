#!/usr/bin/env bash
# stop-node.sh N: stops node N (1-4) and waits until its process exited.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

check_node "${1:-}"
stop_node "$1"
