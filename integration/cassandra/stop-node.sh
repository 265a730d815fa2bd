#!/usr/bin/env bash
# stop-node.sh N [kill]: stops node N (1-4) and waits until its process
# exited. By default the node shuts down cleanly (drain, peers are told);
# with "kill" it gets SIGKILL, as in a crash.
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/node.sh"

check_node "${1:-}"
case "${2:-}" in
"") sig=TERM ;;
kill) sig=KILL ;;
*) die "usage: stop-node.sh N [kill]" ;;
esac
with_lock "$(node_base "$1")" stop_node "$1" "$sig"
