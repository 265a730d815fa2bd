# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# Settings and helpers of the PostgreSQL scripts; sourced, not run.
#
# A dedicated cluster from Debian's postgresql package, not the system one:
#   127.0.0.1:55432, trust auth, superuser role and database "strata"
#   data $WORK/postgres/data, log $WORK/postgres/logs/postgres.log
# PostgreSQL refuses to run as root, so as root it runs as the `postgres`
# system user (created by the package), which then owns the data dir. When
# that user cannot reach $WORK (e.g. a clone under a 0700 directory), the
# data dir lives in /var/lib/postgresql/strata-it/<hash of $WORK> and
# $WORK/postgres/data is a symlink to it.
SERVER=postgres
source "$(dirname "${BASH_SOURCE[0]}")/../servers-lib.sh"

PG_PORT=55432
PG_HOST=127.0.0.1
PG_USER=strata
PG_DATA="$SRV_DIR/data"
PG_LOG="$LOG_DIR/postgres.log"
PG_PIDFILE="$SRV_DIR/postgres.pid"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"

# pg_bindir: the newest installed server's bin directory.
pg_bindir() {
	local d
	d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
	if [ ! -x "$d/postgres" ]; then
		die "no PostgreSQL server in /usr/lib/postgresql: run integration/install-deps.sh"
	fi
	echo "$d"
}

# as_pg CMD...: run CMD as the user that owns the cluster.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Every client call is bounded: a port held by something that is not
# PostgreSQL must fail the check, not hang it.
export PGCONNECT_TIMEOUT=5
pg_ready() { pg_isready -q -t 5 -h "$PG_HOST" -p "$PG_PORT" -d postgres -U "$PG_USER"; }
pg_psql() { timeout 60 psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" "$@"; }
