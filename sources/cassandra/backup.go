package cassandra

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"
	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/sources"
)

// Begin takes the scan's start from the cluster's clock: every table of
// the session is read at it (cells written later are left out).
func (s *Source) Begin(ctx context.Context, objs []sources.Object, r sources.Reporter) (sources.Session, error) {
	sess, _, err := s.conn()
	if err != nil {
		return nil, err
	}
	return &session{src: s, at: serverTime(ctx, sess), rep: r}, nil
}

// Backup backs up one table in a session of its own.
func (s *Source) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	ss, err := s.Begin(ctx, []sources.Object{obj}, w)
	if err != nil {
		return sources.Result{}, err
	}
	defer ss.Close()
	return ss.Backup(ctx, obj, prev, w)
}

// session is one backup run at one scan start.
type session struct {
	src *Source
	at  time.Time
	rep sources.Reporter
}

func (ss *session) At() time.Time { return ss.at }
func (ss *session) Close() error  { return nil }

// Backup writes schema.cql and the data parts of one table.
func (ss *session) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	b, err := ss.newTableBackup(ctx, obj, prev, w)
	if err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
	}
	if err := b.run(ctx); err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
	}
	return b.result(), nil
}

// tableBackup is the state of one table's backup.
type tableBackup struct {
	ss     *session
	sess   *gocql.Session
	nodes  []node
	t      *table
	repl   replication
	parts  int
	rf     int // replicas of a token
	ranges []tokenRange
	sc     *scanner
	prev   sources.Previous
	w      sources.Writer
	sizes  snapshotSizes

	done                         atomic.Int64
	mu                           sync.Mutex
	rows, cells, after           int64
	skipped, reused, newLines    int64
	partitions, dataBytes, stmts int64
}

func (ss *session) newTableBackup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (*tableBackup, error) {
	sess, pol, err := ss.src.conn()
	if err != nil {
		return nil, err
	}
	t, err := readTable(ctx, sess, obj.Database, obj.Table)
	if err != nil {
		return nil, err
	}
	repl, err := readReplication(ctx, sess, t.Keyspace)
	if err != nil {
		return nil, err
	}
	b := &tableBackup{ss: ss, sess: sess, nodes: pol.nodes(), t: t, repl: repl, prev: prev, w: w}
	b.sizes = readSnapshotSizes(ctx, sess, b.nodes, t)
	rg, err := newRing(b.nodes)
	if err != nil {
		return nil, fmt.Errorf("cassandra %s: %w", ss.src.hostsString(), err)
	}
	b.rf = len(rg.replicas(0, repl))
	b.parts = b.partCount(ctx, prev)
	b.ranges = ss.src.orderReplicas(rg.ranges(repl, b.parts), b.nodes)
	if err := checkLive(b.ranges, b.nodes); err != nil {
		return nil, err
	}
	cfg := ss.src.cfg
	b.sc = &scanner{s: sess, t: t, cql: t.selectCQL(), cl: cfg.Consistency, pageSize: cfg.PageSize,
		slots: newNodeSlots(cfg.Parallelism), health: newHealth(), onRange: b.rangeDone}
	return b, nil
}

// readReplication reads a keyspace's replication settings.
func readReplication(ctx context.Context, sess *gocql.Session, ks string) (replication, error) {
	var repl map[string]string
	err := sess.Query(`SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?`, ks).WithContext(ctx).Scan(&repl)
	if err != nil {
		return nil, fmt.Errorf("read the replication of keyspace %s: %w", ks, err)
	}
	return repl, nil
}

// partCount keeps the previous version's number of parts, so that its
// parts line up with the new ones and unchanged rows are found; a first
// backup sizes parts from the table's estimated size (see
// estimateCQLBytes).
func (b *tableBackup) partCount(ctx context.Context, prev sources.Previous) int {
	if n, err := strconv.Atoi(prev.Info().Meta["parts"]); err == nil && n > 0 && n <= maxParts {
		return n
	}
	// size_estimates are refreshed every few minutes, so a new table may
	// have none yet: then the SSTables on disk (one copy of RF) tell.
	est := max(estimateCQLBytes(ctx, b.sess, b.nodes, b.t), b.sizes.total*3/int64(max(b.rf, 1)))
	n := 1
	for int64(n)*b.ss.src.cfg.PartBytes < est && n < maxParts {
		n *= 2
	}
	return n
}

// maxParts bounds the number of data files of a version.
const maxParts = 4096

// checkLive fails when a range has no replica the driver sees up.
func checkLive(ranges []tokenRange, nodes []node) error {
	down := map[string]bool{}
	for _, n := range nodes {
		down[n.Addr] = n.Down
	}
	for _, r := range ranges {
		live := false
		for _, a := range r.Replicas {
			live = live || !down[a]
		}
		if !live {
			return fmt.Errorf("tokens %s: no live replica (%s all down)", r, strings.Join(r.Replicas, ", "))
		}
	}
	return nil
}

// rangeDone counts a finished range and reports progress.
func (b *tableBackup) rangeDone() {
	n := b.done.Add(1)
	b.w.Report(sources.Event{Step: "ranges", Done: n, Total: int64(len(b.ranges))})
}

// run writes schema.cql and the parts, several parts at once.
func (b *tableBackup) run(ctx context.Context) error {
	schema, err := schemaCQL(ctx, b.sess, b.t)
	if err != nil {
		return err
	}
	e := fileEntry("schema.cql", b.ss.at, int64(len(schema)))
	if err := b.w.Add(ctx, e, bytes.NewReader(schema)); err != nil {
		return fmt.Errorf("write schema.cql: %w", err)
	}
	b.w.Report(sources.Event{Step: "ranges", Total: int64(len(b.ranges))})
	byPart := make([][]int, b.parts)
	for i, r := range b.ranges {
		byPart[r.Part] = append(byPart[r.Part], i)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.workers())
	for p := range byPart {
		g.Go(func() error { return b.writePart(gctx, p, byPart[p]) })
	}
	return g.Wait()
}

// slots is how many range requests the cluster takes at once: the
// per-node parallelism times the nodes up.
func (b *tableBackup) slots() int {
	live := 0
	for _, n := range b.nodes {
		if !n.Down {
			live++
		}
	}
	return b.ss.src.cfg.Parallelism * max(live, 1)
}

// ahead is how many ranges of one part are read at once.
func (b *tableBackup) ahead() int { return min(max(b.slots(), 2), 8) }

// workers is how many parts are written at once: enough to keep every
// node's request slots busy.
func (b *tableBackup) workers() int {
	return max(1, min(b.parts, b.slots()/b.ahead()+1))
}

func fileEntry(path string, mtime time.Time, size int64) sources.Entry {
	return sources.Entry{Path: path, Type: sources.TypeFile, Mode: 0o644, ModTime: mtime.UTC().Truncate(time.Second), Size: size}
}

// partName is the file of part p.
func partName(p int) string { return fmt.Sprintf("data-%04d.cql", p) }
