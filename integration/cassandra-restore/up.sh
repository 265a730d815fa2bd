#!/usr/bin/env bash
# Starts the one-node Cassandra cluster for restore tests (127.0.0.4:9042,
# cluster strata-it-restore); see integration/cassandra/up.sh.
exec bash "$(dirname "$0")/../cassandra/up.sh" restore
