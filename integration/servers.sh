#!/usr/bin/env bash
# servers.sh: start, stop or report the real servers integration tests use.
#
#   integration/servers.sh up     [name...]   start (or reuse) servers
#   integration/servers.sh down   [name...]   stop them; data is kept
#   integration/servers.sh status [name...]   one line per server: running
#                                             or stopped; exit 0 when every
#                                             query worked, whatever the state
#
# Without names: ferretdb postgres mariadb cassandra cassandra-restore hdfs.
#
# Each name maps to a directory of scripts: integration/<name>/up.sh,
# down.sh and status.sh (which prints the state and exits 0 when the
# server runs, 3 when it does not, anything else when it cannot tell). When integration/<name>/ has no such
# script, a name like <prefix>-<rest> runs integration/<prefix>/up.sh <rest>
# instead (e.g. cassandra-restore -> cassandra/up.sh restore). up.sh must be
# idempotent: a running, healthy server is reused, not restarted.
#
# Servers keep data and logs in $STRATA_IT_WORK (default integration/.work)
# under <name>/, logs in <name>/logs/ (what harness.LogDir returns). Each
# up/down is serialized per name with flock, so concurrent `go test`
# processes calling this at once start a server only once. Each script is
# killed after $STRATA_SERVER_TIMEOUT seconds (default 1800: a first
# FerretDB build or jar download on a fresh machine takes minutes).
set -euo pipefail

IT_DIR="$(cd "$(dirname "$0")" && pwd)"
WORK="${STRATA_IT_WORK:-$IT_DIR/.work}"
ALL=(ferretdb postgres mariadb cassandra cassandra-restore hdfs)

usage() {
	echo "usage: $0 up|down|status [name...]" >&2
	echo "names: ${ALL[*]}" >&2
	exit 2
}

# script_for NAME ACTION: print "path [arg]" of the script to run.
script_for() {
	local name=$1 action=$2
	if [ -f "$IT_DIR/$name/$action.sh" ]; then
		echo "$IT_DIR/$name/$action.sh"
		return 0
	fi
	if [[ "$name" == *-* ]] && [ -f "$IT_DIR/${name%%-*}/$action.sh" ]; then
		echo "$IT_DIR/${name%%-*}/$action.sh ${name#*-}"
		return 0
	fi
	return 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# show_logs NAME: the tail of each of the server's log files.
show_logs() {
	local f
	for f in "$WORK/$1"/logs/*; do
		[ -f "$f" ] || continue
		echo "---- last lines of $f ----" >&2
		tail -n 25 "$f" >&2
	done
}

# run_one ACTION NAME: run the server's script under its lock, timed.
run_one() {
	local action=$1 name=$2 script start out rc=0
	if ! script=$(script_for "$name" "$action"); then
		echo "servers: $name: no integration/$name/$action.sh (names: ${ALL[*]})" >&2
		return 1
	fi
	mkdir -p "$WORK/$name/logs" "$WORK/.locks"
	out="$WORK/$name/logs/servers-$action.log"
	start=$(now)
	# $script is unquoted on purpose below: it may carry one argument.
	# shellcheck disable=SC2086
	if [ "$action" = status ]; then
		# status.sh exits 0 (running) or 3 (stopped) when it could tell.
		bash $script || rc=$?
		if [ "$rc" -eq 3 ]; then rc=0; fi
		return "$rc"
	fi
	echo "==== $(date -Is) $action" >>"$out"
	# flock -o: the script runs without the lock's fd, so daemons it
	# starts do not keep holding the lock after it exits.
	# shellcheck disable=SC2086
	flock -o "$WORK/.locks/$name.lock" timeout -k 10 "${STRATA_SERVER_TIMEOUT:-1800}" bash $script 2>&1 | tee -a "$out" | sed "s/^/  /" ||
		rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "servers: $name $action FAILED after $(elapsed "$start") (exit $rc); logs: $WORK/$name/logs/" >&2
		show_logs "$name"
		return "$rc"
	fi
	echo "servers: $name $action ok in $(elapsed "$start")"
}

main() {
	[ $# -ge 1 ] || usage
	local action=$1 name failed=()
	shift
	case "$action" in up | down | status) ;; *) usage ;; esac
	local names=("$@")
	if [ ${#names[@]} -eq 0 ]; then
		names=("${ALL[@]}")
	fi
	for name in "${names[@]}"; do
		run_one "$action" "$name" || failed+=("$name")
	done
	if [ ${#failed[@]} -gt 0 ]; then
		echo "servers: $action failed for: ${failed[*]}" >&2
		exit 1
	fi
}

main "$@"
