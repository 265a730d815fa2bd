# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# Settings and helpers of the MariaDB scripts; sourced, not run.
#
# A dedicated server from Debian's mariadb-server package, not the system one:
#   127.0.0.1:53306, user strata / password strata, database "strata"
#   data $WORK/mariadb/data, socket $WORK/mariadb/run/mysqld.sock
#   log $WORK/mariadb/logs/mariadb.err
# As root it runs with --user=root (mariadbd refuses root without it).
SERVER=mariadb
source "$(dirname "${BASH_SOURCE[0]}")/../servers-lib.sh"

MY_PORT=53306
MY_HOST=127.0.0.1
MY_USER=strata
MY_PASSWORD=strata
MY_DATA="$SRV_DIR/data"
MY_RUN="$SRV_DIR/run"
MY_SOCK="$MY_RUN/mysqld.sock"
MY_PIDFILE="$SRV_DIR/mariadbd.pid"
MY_LOG="$LOG_DIR/mariadb.err"
MY_START_TIMEOUT="${MY_START_TIMEOUT:-60}"

# my_user_flag: mariadbd's --user, needed when running as root.
my_user_flag() {
	if [ "$(id -u)" -eq 0 ]; then echo --user=root; else echo "--user=$(id -un)"; fi
}

# my_root_sql SQL: run SQL as the server's root over the socket (root
# authenticates by unix_socket, as mariadb-install-db sets it up).
my_root_sql() { timeout 60 mariadb --no-defaults --protocol=socket -S "$MY_SOCK" -u root -e "$1"; }

my_ready() {
	timeout 10 mariadb-admin --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" \
		-u "$MY_USER" -p"$MY_PASSWORD" --connect-timeout=2 ping
}
my_sock_ready() {
	timeout 10 mariadb-admin --no-defaults --protocol=socket -S "$MY_SOCK" -u root --connect-timeout=2 ping
}
