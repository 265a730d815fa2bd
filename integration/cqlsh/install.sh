#!/usr/bin/env bash
# install.sh: a Python virtualenv with cqlsh, Cassandra's own CQL shell,
# from PyPI (the `cqlsh` package). Tests replay a backup's schema.cql and
# data-*.cql with stock `cqlsh -f`, straight from the mount, to show that
# the files need nothing of strata. Idempotent and cached: an existing
# venv with the right version is reused. Prints the cqlsh path on stdout.
set -euo pipefail
VERSION=6.2.2
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}"
VENV="$CACHE/cqlsh-$VERSION"
if ! "$VENV/bin/cqlsh" --version 2>/dev/null | grep -q .; then
	echo "cqlsh: installing cqlsh $VERSION into $VENV" >&2
	rm -rf "$VENV"
	python3 -m venv "$VENV" >&2
	"$VENV/bin/pip" install -q --disable-pip-version-check "cqlsh==$VERSION" >&2
fi
echo "$VENV/bin/cqlsh"
