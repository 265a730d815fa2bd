#!/usr/bin/env bash
# Stops the restore-test Cassandra node; see integration/cassandra/down.sh.
exec bash "$(dirname "$0")/../cassandra/down.sh" restore
