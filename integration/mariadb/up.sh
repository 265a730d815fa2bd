#!/usr/bin/env bash
# Starts the test MariaDB server (127.0.0.1:53306, user strata/strata,
# database strata), creating its data dir on first use. A running server
# that accepts the strata user is reused. See env.sh.
source "$(dirname "$0")/env.sh"

init_data() {
	[ -d "$MY_DATA/mysql" ] && return 0
	say "mariadb-install-db $MY_DATA"
	rm -rf "$MY_DATA"
	mkdir -p "$MY_DATA"
	mariadb-install-db --no-defaults "$(my_user_flag)" --datadir="$MY_DATA" \
		--auth-root-authentication-method=socket --skip-test-db \
		>>"$LOG_DIR/install-db.log" 2>&1 || die "mariadb-install-db failed (see $LOG_DIR/install-db.log)"
}

start_server() {
	if port_open "$MY_HOST" "$MY_PORT"; then
		die "$MY_HOST:$MY_PORT is taken by something that does not accept user $MY_USER"
	fi
	stop_pid "$MY_PIDFILE" 5
	mkdir -p "$MY_RUN"
	# Speed over durability: this server only holds test data.
	daemon "$MY_PIDFILE" "$LOG_DIR/mariadbd.out" mariadbd --no-defaults "$(my_user_flag)" \
		--datadir="$MY_DATA" --port="$MY_PORT" --bind-address="$MY_HOST" \
		--socket="$MY_SOCK" --pid-file="$MY_RUN/mariadbd.pid" --log-error="$MY_LOG" \
		--skip-name-resolve --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=128M \
		--log-bin="$MY_DATA/binlog" --server-id=1 --binlog-format=ROW
	wait_daemon "$MY_PIDFILE" "$MY_START_TIMEOUT" "mariadb on $MY_HOST:$MY_PORT" my_sock_ready
}

create_user() {
	my_root_sql "CREATE USER IF NOT EXISTS '$MY_USER'@'%' IDENTIFIED BY '$MY_PASSWORD';
		GRANT ALL PRIVILEGES ON *.* TO '$MY_USER'@'%' WITH GRANT OPTION;
		CREATE DATABASE IF NOT EXISTS $MY_USER;
		FLUSH PRIVILEGES;" || die "creating user $MY_USER failed"
}

need_cmd mariadbd "run integration/install-deps.sh"
need_cmd mariadb-install-db "run integration/install-deps.sh"
if my_ready >/dev/null 2>&1; then
	say "already running on $MY_HOST:$MY_PORT"
	exit 0
fi
init_data
my_sock_ready >/dev/null 2>&1 || start_server
create_user
wait_until 10 "mariadb login as $MY_USER" my_ready
say "running on $MY_HOST:$MY_PORT (pid $(cat "$MY_PIDFILE" 2>/dev/null || echo '?'))"
