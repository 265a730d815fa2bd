#!/usr/bin/env bash
# Prints one line per node of the test Cassandra cluster:
#   status.sh          nodes 1-3 (cluster strata-it)
#   status.sh restore  node 4 (cluster strata-it-restore)
# A node is running when its CQL port accepts connections; the line gives
# the pid up.sh recorded under $STRATA_IT_WORK, or says there is none. Exits 0 when every node runs, 3 when one
# does not (the query worked: servers.sh status exits 0 either way), 1 on
# bad usage.
source "$(dirname "$0")/env.sh"

case "${1:-}" in
"") nodes=(1 2 3) ;;
restore) nodes=(4) ;;
*) die "usage: status.sh [restore]" ;;
esac

rc=0
for n in "${nodes[@]}"; do
	where="node$n ($(node_cluster "$n")) on $(node_ip "$n"):9042"
	pid="$(node_pid "$n")" || pid=""
	if [ -n "$pid" ] && cql_open "$n"; then
		say "$where: running (pid $pid)"
	elif cql_open "$n"; then
		say "$where: running (not started under $WORK: no live pid file there)"
	elif [ -n "$pid" ]; then
		say "$where: stopped (pid $pid alive, CQL port closed: starting or failing, see $(node_log "$n"))"
		rc=3
	else
		say "$where: stopped"
		rc=3
	fi
done
exit "$rc"
