#!/usr/bin/env bash
# install-deps.sh: install the Debian packages the integration tests need,
# idempotently. Packages already installed are skipped; `apt-get update`
# runs at most once per call and only when something is missing.
#
# Used by .ci/run and by the Makefile (so `make test` works on a fresh
# machine without .ci/run). Needs root (or sudo) for apt-get.
#
#   integration/install-deps.sh            # the default set below, plus PyMongo
#   integration/install-deps.sh pkg...     # just these packages
#
# With no arguments it also installs PyMongo and cqlsh into cached venvs
# (integration/pymongo/install.sh, integration/cqlsh/install.sh): the
# tests' second BSON reader, and Cassandra's own shell that replays a
# backup's CQL files.
set -euo pipefail

# postgresql, mariadb-server: SQL test servers (integration/postgres, mariadb)
# fuse3: fusermount3 for the mounted tree; rsync: restore/compare tests
# openjdk-17-jdk-headless, maven: Cassandra and HDFS test servers (jars
#   from Maven Central); make: the Makefile; gcc: cgo, which builds the
#   zstd C library strata compresses with (without it, go builds strata
#   with the slower Go encoder)
DEFAULT_PKGS=(postgresql mariadb-server fuse3 rsync openjdk-17-jdk-headless maven make gcc)
pkgs=("${@:-${DEFAULT_PKGS[@]}}")

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done

install_apt() {
	local SUDO=()
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Other jobs may hold the dpkg lock; wait for it rather than failing.
	local APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -q)
	echo "install-deps: installing ${missing[*]}" >&2
	"${APT[@]}" update
	# policy-rc.d 101 keeps the packages' maintainer scripts from starting
	# system-wide daemons (no systemd here; we start our own instances).
	local own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
		own_policy=1
	fi
	local rc=0
	"${APT[@]}" install -y --no-install-recommends "${missing[@]}" || rc=$?
	if [ -n "$own_policy" ]; then
		"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
	fi
	return $rc
}

if [ ${#missing[@]} -gt 0 ]; then
	install_apt
fi
if [ $# -eq 0 ]; then
	bash "$(dirname "$0")/pymongo/install.sh" >/dev/null
	bash "$(dirname "$0")/cqlsh/install.sh" >/dev/null
fi
