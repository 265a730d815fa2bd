package cassandra

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stratabackup/strata/sources"
)

// orderReplicas puts each range's replicas in the order they are asked:
// nodes up before nodes down, the local datacenter's first, and among
// equals the one given the fewest ranges so far, so that the scan
// spreads over the nodes.
func (s *Source) orderReplicas(ranges []tokenRange, nodes []node) []tokenRange {
	info := map[string]node{}
	for _, n := range nodes {
		info[n.Addr] = n
	}
	load := map[string]int{}
	rank := func(a string) int {
		r := 0
		if info[a].Down {
			r += 2
		}
		if s.cfg.LocalDC != "" && info[a].DC != s.cfg.LocalDC {
			r++
		}
		return r
	}
	for i := range ranges {
		reps := append([]string(nil), ranges[i].Replicas...)
		sort.SliceStable(reps, func(x, y int) bool {
			rx, ry := rank(reps[x]), rank(reps[y])
			if rx != ry {
				return rx < ry
			}
			return load[reps[x]] < load[reps[y]]
		})
		load[reps[0]]++
		ranges[i].Replicas = reps
	}
	return ranges
}

// result is what the manifest records of the backup.
func (b *tableBackup) result() sources.Result {
	cfg := b.ss.src.cfg
	m := map[string]string{
		"keyspace":               b.t.Keyspace,
		"table":                  b.t.Name,
		"hosts":                  b.ss.src.hostsString(),
		"consistency":            cfg.Consistency.String(),
		"replication":            replString(b.repl),
		"parts":                  strconv.Itoa(b.parts),
		"scan_start":             b.ss.at.UTC().Format(time.RFC3339Nano),
		"scan_start_us":          strconv.FormatInt(b.ss.at.UnixMicro(), 10),
		"rows":                   strconv.FormatInt(b.rows, 10),
		"partitions":             strconv.FormatInt(b.partitions, 10),
		"cells":                  strconv.FormatInt(b.cells, 10),
		"statements":             strconv.FormatInt(b.stmts, 10),
		"cells_after_start":      strconv.FormatInt(b.after, 10),
		"rows_after_start":       strconv.FormatInt(b.skipped, 10),
		"statements_reused":      strconv.FormatInt(b.reused, 10),
		"cql_bytes":              strconv.FormatInt(b.dataBytes, 10),
		"snapshot_bytes":         strconv.FormatInt(b.sizes.total, 10),
		"snapshot_bytes_by_node": b.sizes.String(),
		"snapshot_bytes_source":  "system_views.disk_usage (live SSTables, whole MiB per node)",
		"ranges":                 strconv.Itoa(len(b.ranges)),
	}
	b.addServed(m)
	var warnings []string
	if b.t.Counter {
		m["counters"] = "written as UPDATE ... SET c = c + n: counters take no timestamp, so replaying a part twice counts twice"
		warnings = append(warnings, "counter table: "+m["counters"])
	}
	warnings = append(warnings, b.addHealth(m)...)
	if len(b.sizes.missing) > 0 {
		m["snapshot_bytes_missing"] = strings.Join(b.sizes.missing, " ")
	}
	return sources.Result{At: b.ss.at, LogicalBytes: b.sizes.total, Meta: m, Warnings: warnings}
}

// addServed records which replica served each range, and how many each.
func (b *tableBackup) addServed(m map[string]string) {
	b.sc.mu.Lock()
	defer b.sc.mu.Unlock()
	count := map[string]int{}
	var list []string
	for i, r := range b.ranges {
		who := b.sc.served[i]
		count[who]++
		list = append(list, r.String()+"="+who)
	}
	var by []string
	for who, n := range count {
		by = append(by, fmt.Sprintf("%s=%d", who, n))
	}
	sort.Strings(by)
	m["ranges_by_replica"] = strings.Join(by, " ")
	if len(list) <= 4096 {
		m["range_replicas"] = strings.Join(list, " ")
	}
}

// addHealth records the nodes down at the start or failing during the
// scan, and the ranges that moved to another replica.
func (b *tableBackup) addHealth(m map[string]string) []string {
	var down []string
	seen := map[string]bool{}
	for _, n := range b.nodes {
		if n.Down {
			down = append(down, n.Addr)
			seen[n.Addr] = true
		}
	}
	h := b.sc.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for a := range h.failed {
		if !seen[a] {
			down = append(down, a)
		}
	}
	sort.Strings(down)
	if len(down) == 0 {
		return nil
	}
	m["nodes_down"] = strings.Join(down, " ")
	m["ranges_moved"] = strings.Join(h.moved, "; ")
	return []string{fmt.Sprintf("node(s) %s down or failing: their ranges were read from other replicas (%d moves)", strings.Join(down, ", "), len(h.moved))}
}

// replString renders replication settings as a CQL map.
func replString(r replication) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = cqlString(k) + ": " + cqlString(r[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
