#!/usr/bin/env bash
# jars.sh: fetch the Cassandra jars once (as up.sh does) and print their
# directory: the lib/ that `strata restore --to-cassandra --sstable-jars`
# takes (harness.CassandraJars).
source "$(dirname "$0")/env.sh"

ensure_jars >&2
echo "$CACHE/lib"
