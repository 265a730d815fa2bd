#!/usr/bin/env bash
# Prints whether the test HDFS runs: the NameNode accepts connections on
# 127.0.0.1:9000 (and the MiniHdfs that up.sh started under
# $STRATA_IT_WORK, if that is the one, reported ready). Exits 0 when it runs, 3 when it does not (the query
# worked: servers.sh status exits 0 either way).
source "$(dirname "$0")/env.sh"

if pid="$(server_pid)"; then
	if [ -f "$HDFS_WORK/ready" ] && namenode_open; then
		say "hdfs://127.0.0.1:9000: running (pid $pid)"
		exit 0
	fi
	say "hdfs://127.0.0.1:9000: stopped (pid $pid alive, not ready: starting or failing, see $LOGS)"
elif namenode_open; then
	say "hdfs://127.0.0.1:9000: running (not started under $WORK: no live pid file there)"
	exit 0
else
	say "hdfs://127.0.0.1:9000: stopped"
fi
exit 3
