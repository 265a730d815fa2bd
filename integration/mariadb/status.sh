#!/usr/bin/env bash
# Prints whether the test MariaDB server answers; exits 1 when not.
source "$(dirname "$0")/env.sh"

if my_ready >/dev/null 2>&1; then
	say "$MY_HOST:$MY_PORT: running"
else
	say "$MY_HOST:$MY_PORT: stopped"
	exit 1
fi
