# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# servers-lib.sh: helpers shared by servers.sh and the ferretdb, postgres
# and mariadb scripts; sourced, not run. Callers set SERVER (the name used
# in messages and as the directory under $WORK) before sourcing.
#
#   WORK   $STRATA_IT_WORK or integration/.work: data, logs, pid files
#   CACHE  $STRATA_CACHE or ~/.cache/strata: built binaries, kept across
#          clones so a fresh checkout does not rebuild FerretDB

set -euo pipefail

IT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${STRATA_IT_WORK:-$IT_DIR/.work}"
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}"
SERVER="${SERVER:-servers}"
SRV_DIR="$WORK/$SERVER"
LOG_DIR="$SRV_DIR/logs"

say() { echo "$SERVER: $*"; }
die() {
	echo "$SERVER: $*" >&2
	echo "$SERVER: logs are in $LOG_DIR" >&2
	exit 1
}

# port_open HOST PORT: true when a TCP connect to HOST:PORT succeeds.
port_open() {
	timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_until SECONDS WHAT CMD...: run CMD every 0.2s until it succeeds;
# die naming WHAT when SECONDS pass first.
wait_until() {
	local limit=$1 what=$2
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "$what: not ready after ${limit}s"
		fi
		sleep 0.2
	done
}

# wait_daemon PIDFILE SECONDS WHAT CMD...: like wait_until, but die at
# once when the process in PIDFILE exits before CMD succeeds.
wait_daemon() {
	local pidfile=$1 limit=$2 what=$3
	shift 3
	local deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		pid_alive "$pidfile" || die "$what: the process exited during start"
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "$what: not ready after ${limit}s"
		fi
		sleep 0.2
	done
}

# pid_alive PIDFILE: true when the file names a running process.
pid_alive() {
	local pid
	[ -s "$1" ] || return 1
	pid="$(head -n1 "$1")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop_pid PIDFILE [SECONDS]: SIGTERM the process, SIGKILL it after SECONDS
# (default 20), remove the pid file. Does nothing when it is not running.
stop_pid() {
	local file=$1 limit=${2:-20} pid i
	if ! pid_alive "$file"; then
		rm -f "$file"
		return 0
	fi
	pid="$(head -n1 "$file")"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < limit * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid ignored SIGTERM for ${limit}s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
}

# daemon PIDFILE LOGFILE CMD...: start CMD detached (own session, stdin
# from /dev/null, output to LOGFILE, servers.sh's lock fd 9 closed) and
# record its pid. The output must not go to our stdout: a `go test`
# reading it would wait for the daemon to exit.
daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
	echo $! >"$pidfile"
}

# need_cmd CMD HINT: die with HINT when CMD is not on PATH.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

mkdir -p "$LOG_DIR"
