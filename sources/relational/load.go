package relational

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/stratabackup/strata/sources"
)

// OptSchema is the LoadFlag naming the target schema.
const OptSchema = "schema"

// loadPlan is what a Loader loads where: the version's layout, its files,
// and the target names.
type loadPlan struct {
	l       *layout
	v       sources.VersionReader
	data    string // data file path ("" when absent: an empty table)
	size    int64  // data file's size
	deleted string // a @diff's deleted keys ("" for a version)
	db      string
	schema  string
	table   string
	drop    bool
}

// planLoad reads the version's layout and resolves the target names:
// LoadOptions' database and table, the schema LoadFlag, each defaulting
// to the version's own.
func planLoad(d dialect, v sources.VersionReader, opts sources.LoadOptions) (*loadPlan, error) {
	l, err := readLayout(v.Info().Meta)
	if err != nil {
		return nil, err
	}
	p := &loadPlan{l: l, v: v, db: opts.Database, schema: l.schema, table: l.table, drop: opts.Drop}
	if s := opts.Extra.Get(OptSchema); s != "" {
		p.schema = s
	}
	if opts.Table != "" {
		p.table = opts.Table
	}
	if p.db == "" {
		p.db = l.db
	}
	data := dataFileName(d, l.table)
	del := sources.EscapeName(l.table + deletedExt)
	for _, e := range v.Entries() {
		switch e.Path {
		case data:
			p.data, p.size = data, e.Size
		case del:
			p.deleted = del
		}
	}
	return p, nil
}

// renamed reports whether the target differs from the version's table.
func (p *loadPlan) renamed() bool { return p.schema != p.l.schema || p.table != p.l.table }

// open opens one of the version's files; path "" reads as empty.
func (p *loadPlan) open(ctx context.Context, path string) (io.ReadCloser, error) {
	if path == "" {
		return io.NopCloser(eofReader{}), nil
	}
	rc, err := p.v.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s of the version: %w", path, err)
	}
	return rc, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// loadStats says what a load did.
type loadStats struct {
	Rows     int64  `json:"rows"`
	Deleted  int64  `json:"deleted"`
	Indexes  int    `json:"indexes"`
	Created  bool   `json:"created"`
	Target   string `json:"target"`
	Replaced bool   `json:"replaced,omitempty"`
	// Copies is how many COPYs filled a new table at once (PostgreSQL's
	// staged load; 0 for one).
	Copies int `json:"copies,omitempty"`
	// Constraints counts the CHECK and FOREIGN KEY constraints added;
	// Skipped names those that could not be (with why).
	Constraints int      `json:"constraints,omitempty"`
	Skipped     []string `json:"constraints_skipped,omitempty"`
}

func (st loadStats) result() sources.LoadResult {
	verb := "merged into"
	if st.Created {
		verb = "loaded into new table"
	}
	sum := fmt.Sprintf("%d rows %s %s, %d deleted, %d indexes", st.Rows, verb, st.Target, st.Deleted, st.Indexes)
	if st.Copies > 1 {
		sum += fmt.Sprintf(" (%d COPYs at once)", st.Copies)
	}
	if st.Constraints > 0 {
		sum += fmt.Sprintf(", %d constraints", st.Constraints)
	}
	if len(st.Skipped) > 0 {
		sum += "; constraints not added: " + strings.Join(st.Skipped, "; ")
	}
	return sources.LoadResult{Summary: sum, Stats: st}
}
