#!/usr/bin/env bash
# Starts the test PostgreSQL cluster (127.0.0.1:55432, user and database
# "strata", trust auth), creating it on first use. A running cluster that
# answers pg_isready is reused. See env.sh.
source "$(dirname "$0")/env.sh"

# data_home: where the data dir really lives (see env.sh).
data_home() {
	if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$SRV_DIR"; then
		echo "$PG_DATA"
	else
		echo "/var/lib/postgresql/strata-it/$(echo "$WORK" | sha256sum | cut -c1-12)/data"
	fi
}

init_cluster() {
	local bin=$1 home
	home="$(data_home)"
	[ -f "$home/PG_VERSION" ] && return 0
	say "initdb $home"
	mkdir -p "$home"
	[ "$home" = "$PG_DATA" ] || ln -sfn "$home" "$PG_DATA"
	[ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$home"
	as_pg "$bin/initdb" -D "$home" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>>"$LOG_DIR/initdb.log" 2>&1 || die "initdb failed (see $LOG_DIR/initdb.log)"
}

start_server() {
	local bin=$1
	if port_open "$PG_HOST" "$PG_PORT"; then
		die "$PG_HOST:$PG_PORT is taken by something that does not answer pg_isready"
	fi
	stop_pid "$PG_PIDFILE" 5
	# Speed over durability: this cluster only holds test data.
	local as=()
	[ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
	daemon "$PG_PIDFILE" "$PG_LOG" "${as[@]}" "$bin/postgres" -D "$(readlink -f "$PG_DATA")" \
		-c port="$PG_PORT" -c listen_addresses="$PG_HOST" -c unix_socket_directories= \
		-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c wal_level=replica -c max_wal_senders=4 -c logging_collector=off
	wait_daemon "$PG_PIDFILE" "$PG_START_TIMEOUT" "postgres on $PG_HOST:$PG_PORT" pg_ready
}

create_role() {
	pg_psql -U postgres -d postgres -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'" | grep -q 1 ||
		pg_psql -U postgres -d postgres -c "CREATE ROLE $PG_USER LOGIN SUPERUSER"
	pg_psql -U postgres -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$PG_USER'" | grep -q 1 ||
		pg_psql -U postgres -d postgres -c "CREATE DATABASE $PG_USER OWNER $PG_USER"
}

need_cmd pg_isready "run integration/install-deps.sh"
need_cmd psql "run integration/install-deps.sh"
if pg_psql -U "$PG_USER" -d "$PG_USER" -c 'SELECT 1' >/dev/null 2>&1; then
	say "already running on $PG_HOST:$PG_PORT"
	exit 0
fi
bin="$(pg_bindir)"
init_cluster "$bin"
pg_ready || start_server "$bin"
create_role
say "running on $PG_HOST:$PG_PORT (pid $(cat "$PG_PIDFILE" 2>/dev/null || echo '?'))"
