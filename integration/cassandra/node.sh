# Start, stop and wait for one Cassandra node; sourced after env.sh.

# write_config N writes node N's cassandra.yaml, tuned to start fast on a
# small machine: 16 tokens, one compactor, no bootstrap streaming.
write_config() {
	local n="$1" dir ip
	dir="$(node_dir "$n")"
	ip="$(node_ip "$n")"
	mkdir -p "$dir"/{data,commitlog,saved_caches,hints,cdc_raw,triggers} "$(node_base "$n")/logs"
	cat >"$dir/cassandra.yaml" <<YAML
cluster_name: '$(node_cluster "$n")'
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$(node_seed "$n"):7000"
listen_address: $ip
rpc_address: $ip
storage_port: 7000
native_transport_port: 9042
start_native_transport: true
auto_bootstrap: false
data_file_directories: [$dir/data]
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
concurrent_compactors: 1
compaction_throughput: 0MiB/s
hinted_handoff_enabled: true
snapshot_before_compaction: false
auto_snapshot: true
# Do not wait up to 10s at start for peers that up.sh starts only later.
block_for_peers_timeout_in_secs: -1
YAML
}

# launch N starts node N's JVM in the background and records its pid.
launch() {
	local n="$1" dir base
	dir="$(node_dir "$n")"
	base="$(node_base "$n")"
	local jamm
	jamm="$(ls "$CACHE"/lib/jamm-*.jar | head -n 1)"
	local args=(
		-Xms512m -Xmx768m -Xss256k
		-XX:+UseG1GC -XX:ParallelGCThreads=1 -XX:ConcGCThreads=1 -XX:TieredStopAtLevel=1
		-XX:+IgnoreUnrecognizedVMOptions
		-Djava.net.preferIPv4Stack=true
		-Djdk.attach.allowAttachSelf=true
		-Dio.netty.tryReflectionSetAccessible=true
		-Djava.rmi.server.hostname=127.0.0.1
		-javaagent:"$jamm"
		-Dcassandra.config="file://$dir/cassandra.yaml"
		-Dcassandra.storagedir="$dir"
		-Dcassandra.triggers_dir="$dir/triggers"
		-Dcassandra.logdir="$base/logs"
		-Dstrata.node="node$n"
		-Dlogback.configurationFile="$CASS_SRC/logback.xml"
		-Dcassandra-foreground=yes
		-Dcassandra.jmx.local.port="$(node_jmx "$n")"
		-Dcassandra.skip_wait_for_gossip_to_settle=0
		-Dcassandra.ring_delay_ms=1000
		-Dcassandra.unsafesystem=true
		-Dcassandra.superuser_setup_delay_ms=0
	)
	# CASS_JVM_OPTS: extra JVM flags, for experiments (split on spaces).
	# shellcheck disable=SC2206
	args+=(${CASS_JVM_OPTS:-})
	mapfile -t mods < <(jvm_module_flags)
	setsid nohup "$JAVA" "${args[@]}" "${mods[@]}" -cp "$(classpath)" \
		org.apache.cassandra.service.CassandraDaemon \
		>"$base/logs/node$n.out" 2>&1 </dev/null 9>&- &
	echo $! >"$(node_pidfile "$n")"
}

# wait_cql N waits until node N accepts CQL connections, failing with the
# log's tail if the process dies or the timeout passes.
wait_cql() {
	local n="$1" deadline=$((SECONDS + CASS_START_TIMEOUT))
	until cql_open "$n"; do
		# kill -0, not node_pid: just after launch the child may not
		# have exec'd java yet.
		if ! kill -0 "$(cat "$(node_pidfile "$n")")" 2>/dev/null; then
			log_tail "$n"
			die "node $n ($(node_ip "$n")) exited during start-up"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log_tail "$n"
			die "node $n ($(node_ip "$n")) did not accept CQL on :9042 within ${CASS_START_TIMEOUT}s"
		fi
		sleep 1
	done
}

log_tail() {
	local base
	base="$(node_base "$1")"
	echo "---- tail of $base/logs/node$1.out ----" >&2
	tail -n 30 "$base/logs/node$1.out" >&2 2>/dev/null || true
	echo "---- tail of $(node_log "$1") ----" >&2
	tail -n 40 "$(node_log "$1")" >&2 2>/dev/null || true
}

# start_node N starts node N unless it already runs, and waits for CQL.
start_node() {
	local n="$1" t0=$SECONDS
	if node_pid "$n" >/dev/null; then
		wait_cql "$n"
		return 0
	fi
	if cql_open "$n"; then
		die "$(node_ip "$n"):9042 is taken by a process that is not node $n of $(node_base "$n") (a node of another work dir?)"
	fi
	write_config "$n"
	launch "$n"
	wait_cql "$n"
	wait_ring "$n"
	say "node $n up on $(node_ip "$n"):9042 in $((SECONDS - t0))s"
}

# stop_node N [SIGNAL] stops node N and waits for its exit. TERM (the
# default) drains the node and announces the shutdown to its peers; KILL
# simulates a crash. A node ignoring TERM is killed after 60s.
stop_node() {
	local n="$1" sig="${2:-TERM}" pid i
	pid="$(node_pid "$n")" || { rm -f "$(node_pidfile "$n")"; return 0; }
	kill -s "$sig" "$pid" 2>/dev/null || true
	for i in $(seq 1 120); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$i" = 120 ] && kill -9 "$pid" 2>/dev/null
		sleep 0.5
	done
	while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	rm -f "$(node_pidfile "$n")"
	say "node $n stopped"
}

# nodetool N ARGS... runs nodetool against node N (see nodetool.sh).
nodetool() { bash "$CASS_SRC/nodetool.sh" "$@"; }

# wait_ring N waits until every other running node of node N's cluster sees
# N as Up/Normal, so the next query at any consistency level can use it.
wait_ring() {
	local n="$1" o deadline=$((SECONDS + CASS_START_TIMEOUT))
	[ "$n" = 4 ] && return 0
	for o in 1 2 3; do
		[ "$o" = "$n" ] && continue
		node_pid "$o" >/dev/null || continue
		until nodetool "$o" status 2>/dev/null | grep -q "^UN  *$(node_ip "$n") "; do
			if [ "$SECONDS" -ge "$deadline" ]; then
				die "node $o does not see node $n as up within ${CASS_START_TIMEOUT}s"
			fi
			sleep 1
		done
	done
}

# with_lock BASE CMD... runs CMD holding the cluster's lock, so concurrent
# test processes do not start the same node twice.
with_lock() {
	local base="$1"
	shift
	mkdir -p "$base"
	exec 9>"$base/lock"
	flock 9
	"$@"
}
