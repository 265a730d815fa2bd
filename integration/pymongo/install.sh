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
	if python3 -m venv "$VENV" >&2 2>/dev/null; then
		"$VENV/bin/pip" install -q --disable-pip-version-check "pymongo==$VERSION" >&2
	else
		# No venv module (Debian's python3 without python3-venv): install
		# into a directory and give it a python that finds it.
		rm -rf "$VENV"
		mkdir -p "$VENV/bin"
		# --target does not touch the system packages; PEP 668 refuses it anyway.
		PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check --target "$VENV/site" "pymongo==$VERSION" >&2
		printf '#!/bin/sh\nPYTHONPATH="%s/site${PYTHONPATH:+:$PYTHONPATH}" exec python3 "$@"\n' "$VENV" >"$VENV/bin/python"
		chmod +x "$VENV/bin/python"
	fi
fi
echo "$VENV/bin/python"
