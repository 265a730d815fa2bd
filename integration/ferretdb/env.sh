# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# Settings and helpers of the FerretDB scripts; sourced, not run.
#
# One server name, "ferretdb", runs two instances of strata-ferretdb
# (FerretDB v1 + SQLite), both on loopback:
#   source   127.0.0.1:27017  databases to back up
#   restore  127.0.0.1:27018  restore target
# Data: $WORK/ferretdb/<instance>/, logs: $WORK/ferretdb/logs/<instance>.log.
SERVER=ferretdb
source "$(dirname "${BASH_SOURCE[0]}")/../servers-lib.sh"

FDB_SRC="$IT_DIR/ferretdb"
FDB_BIN="$CACHE/bin/strata-ferretdb"
FDB_INSTANCES=(source restore)
FDB_START_TIMEOUT="${FDB_START_TIMEOUT:-30}"

fdb_port() {
	case "$1" in
	source) echo 27017 ;;
	restore) echo 27018 ;;
	*) die "unknown instance '$1' (want source or restore)" ;;
	esac
}
fdb_addr() { echo "127.0.0.1:$(fdb_port "$1")"; }
fdb_pidfile() { echo "$SRV_DIR/$1.pid"; }

# fdb_src_hash: a hash of the sources the binary is built from (tests
# excluded) and of the Go version building it.
fdb_src_hash() {
	(
		cd "$FDB_SRC" || exit 1
		cat go.mod go.sum
		for f in ./*.go; do
			[[ "$f" == *_test.go ]] || cat "$f"
		done
		go version
	) | sha256sum | cut -d' ' -f1
}

# fdb_build builds $FDB_BIN unless it exists and was built from the same
# sources. The build is a separate module (integration/ferretdb/go.mod).
fdb_build() {
	local want have=""
	need_cmd go "install Go (see go.mod for the version)"
	want="$(fdb_src_hash)"
	[ -f "$FDB_BIN.srchash" ] && have="$(cat "$FDB_BIN.srchash")"
	if [ -x "$FDB_BIN" ] && [ "$want" = "$have" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$FDB_BIN")"
	say "building $FDB_BIN (first build downloads and compiles FerretDB: minutes)"
	(cd "$FDB_SRC" && GOWORK=off GOFLAGS=-mod=readonly go build -o "$FDB_BIN.tmp" .) ||
		die "go build in $FDB_SRC failed"
	mv "$FDB_BIN.tmp" "$FDB_BIN"
	echo "$want" >"$FDB_BIN.srchash"
}

fdb_ping() { "$FDB_BIN" -ping "$(fdb_addr "$1")" -timeout 2s; }
