package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/sources"
)

// LoadStats say what a load did.
type LoadStats struct {
	Keyspace, Table string
	Schema          int   // schema statements run
	Statements      int64 // data statements written
	Rows            int64 // rows written to
	Cells           int64 // cells written
	Expired         int64 // cells skipped: their TTL ran out since the backup
	Deletes         int64 // DELETE statements (a @diff's)
	Batches         int64
	// SSTables is the bulk path's summary (rows, SSTables and bytes
	// streamed), empty when every row went through CQL.
	SSTables string   `json:",omitempty"`
	Warnings []string `json:",omitempty"`
}

// loader is the Loader of `strata restore --to-cassandra HOSTS`.
type loader struct{}

func (loader) Load(ctx context.Context, target string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	st, err := Load(ctx, target, v, opts)
	if err != nil {
		return sources.LoadResult{Stats: st}, err
	}
	sum := fmt.Sprintf("%d rows, %d cells in %d statements (%d batches), %d expired cells skipped, %d deletes, %d schema statements",
		st.Rows, st.Cells, st.Statements, st.Batches, st.Expired, st.Deletes, st.Schema)
	if st.SSTables != "" {
		sum += "; through SSTables: " + st.SSTables
	}
	for _, w := range st.Warnings {
		sum += "; warning: " + w
	}
	return sources.LoadResult{Summary: sum, Stats: st}, nil
}

// Load writes a version (or a @diff) into the cluster at hosts (comma-
// separated): schema.cql's statements (keyspace and table renamed as
// opts say, the keyspace's replication replaced by the "replication"
// setting), then every data part, each cell with its write time and the
// TTL it has left (expired cells are skipped and counted), in unlogged
// batches of one partition's statements, many at once. Every statement
// carries its write time, so a rerun writes the same cells again.
func Load(ctx context.Context, hosts string, v sources.VersionReader, opts sources.LoadOptions) (LoadStats, error) {
	sf, err := readSchemaFile(ctx, v)
	if err != nil {
		return LoadStats{}, err
	}
	rn := rename{FromKS: sf.t.Keyspace, ToKS: orDefault(opts.Database, sf.t.Keyspace), FromTable: sf.t.Name,
		ToTable: orDefault(opts.Table, sf.t.Name), Replication: opts.Extra.Get("replication")}
	st := LoadStats{Keyspace: rn.ToKS, Table: rn.ToTable}
	if err := checkReplication(rn.Replication); err != nil {
		return st, err
	}
	cfg, err := connConfig(opts.Extra)
	if err != nil {
		return st, err
	}
	cfg.Hosts = splitHosts([]string{hosts})
	jars, java := opts.Extra.Get("sstable-jars"), ""
	seg, err := sizeSetting("sstable-segment", opts.Extra.Get("sstable-segment"))
	if err != nil {
		return st, err
	}
	if jars != "" {
		if java, err = checkBulk(jars, cfg); err != nil {
			return st, err
		}
	} else if seg != 0 {
		return st, errors.New("--sstable-segment applies only with --sstable-jars")
	}
	sess, _, err := connect(connOptions{Hosts: cfg.Hosts, User: cfg.Username, Password: cfg.Password, TLS: cfg.TLS, Timeout: 60 * time.Second})
	if err != nil {
		return st, err
	}
	defer sess.Close()
	l := &load{sess: sess, sf: sf, rn: rn, stats: &st, workers: cfg.Parallelism, start: versionStart(v)}
	if err := l.schema(ctx, opts.Drop); err != nil {
		return st, err
	}
	if jars != "" {
		bt := bulkTarget{Java: java, Jars: jars, Hosts: cfg.Hosts, User: cfg.Username, Password: cfg.Password, Segment: seg}
		if err := l.startBulk(ctx, v, bt); err != nil {
			return st, err
		}
	}
	err = l.data(ctx, v)
	return st, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readSchemaFile reads and parses a version's schema.cql.
func readSchemaFile(ctx context.Context, v sources.VersionReader) (*schemaFile, error) {
	text, err := readAll(ctx, v, "schema.cql")
	if err != nil {
		return nil, err
	}
	return parseSchema(string(text))
}

func readAll(ctx context.Context, v sources.VersionReader, path string) ([]byte, error) {
	rc, err := v.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s (not a cassandra version?): %w", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// load is one Load's state.
type load struct {
	sess    *gocql.Session
	sf      *schemaFile
	rn      rename
	t       *table            // the target table
	types   map[string]string // its columns' types by name
	stats   *LoadStats
	workers int
	start   int64 // the version's scan start, microseconds
	// bulk, when set, takes the INSERTs (see bulk.go).
	bulk *bulkLoad
}

// schema runs schema.cql (renamed); indexes and views that fail (views
// disabled on the target, say) are warnings, the rest errors.
func (l *load) schema(ctx context.Context, drop bool) error {
	stmts, err := l.sf.statements(l.rn)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if err := l.sess.Query(s).WithContext(ctx).Exec(); err != nil {
			if optionalSchema(s) {
				l.stats.Warnings = append(l.stats.Warnings, fmt.Sprintf("%s: %v", firstLine(s), err))
				continue
			}
			return fmt.Errorf("create schema: %s: %w", firstLine(s), err)
		}
		l.stats.Schema++
	}
	if err := l.sess.AwaitSchemaAgreement(ctx); err != nil {
		return fmt.Errorf("wait for schema agreement: %w", err)
	}
	t := l.sf.t.renamed(l.rn.ToKS, l.rn.ToTable)
	l.t = t
	l.types = map[string]string{}
	for _, c := range t.allColumns() {
		l.types[c.Name] = strings.ToLower(c.Type)
	}
	if drop {
		if err := l.sess.Query("TRUNCATE " + t.qname()).WithContext(ctx).Exec(); err != nil {
			return fmt.Errorf("truncate %s: %w", t.qname(), err)
		}
	}
	return nil
}

func optionalSchema(s string) bool {
	u := strings.ToUpper(s[:min(len(s), 60)])
	return strings.Contains(u, "INDEX") || strings.Contains(u, "MATERIALIZED VIEW")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// dataParts lists a version's data parts in order.
func dataParts(v sources.VersionReader) []string {
	var out []string
	for _, e := range v.Entries() {
		if isDataPart(e) {
			out = append(out, e.Path)
		}
	}
	sort.Strings(out)
	return out
}

// isDataPart says whether e is a data part (data-NNNN.cql).
func isDataPart(e sources.Entry) bool {
	return e.Type == sources.TypeFile && strings.HasPrefix(e.Path, "data-") && strings.HasSuffix(e.Path, ".cql") && !strings.Contains(e.Path, "/")
}

// versionStart is a version's scan start in microseconds: what its TTLs
// count from (the manifest's scan_start_us, else the version's time).
func versionStart(v sources.VersionReader) int64 {
	info := v.Info()
	if n, err := strconv.ParseInt(info.Meta["scan_start_us"], 10, 64); err == nil {
		return n
	}
	return info.Time.UnixMicro()
}

// scanStartRE finds a @diff part's scan start in its header.
var scanStartRE = regexp.MustCompile(`scan start \S+ = (-?\d+) us`)

// scanStart reads the scan start (microseconds) from a header line.
func scanStart(line []byte) (int64, bool) {
	m := scanStartRE.FindSubmatch(line)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	return n, err == nil
}
