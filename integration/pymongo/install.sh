#!/usr/bin/env bash
# install.sh: a Python virtualenv with PyMongo, MongoDB's Python driver and
# BSON library, from PyPI. Tests use it as a second, independent BSON
# reader of the .bson files strata writes: mongorestore and bsondump cannot
# be installed here (not in Debian 12; the Go proxy refuses
# github.com/mongodb/mongo-tools). Idempotent and cached: an existing venv
# with the right version is reused. Prints the venv's python on stdout.
set -euo pipefail
VERSION=4.20.0
CACHE="${STRATA_CACHE:-$HOME/.cache/strata}"
VENV="$CACHE/pymongo-$VERSION"
if ! "$VENV/bin/python" -c "import bson, pymongo, sys; sys.exit(pymongo.version != '$VERSION')" 2>/dev/null; then
	echo "pymongo: installing PyMongo $VERSION into $VENV" >&2
	rm -rf "$VENV"
	python3 -m venv "$VENV" >&2
	"$VENV/bin/pip" install -q --disable-pip-version-check "pymongo==$VERSION" >&2
fi
echo "$VENV/bin/python"
