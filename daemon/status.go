package daemon

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
)

// StoreInfo is a configured store and what it holds.
type StoreInfo struct {
	Name     string `json:"name"`
	Location string `json:"location"`
	MaxJobs  int    `json:"max_jobs"`
	Objects  int    `json:"objects"`
	Versions int    `json:"versions"`
	// SizeBytes is the store's size on disk for a local directory, else
	// the sum of what its versions added.
	SizeBytes int64 `json:"size_bytes"`
	// Error says why the store could not be read.
	Error string `json:"error,omitempty"`
}

// Stores lists the configured stores.
func (d *Daemon) Stores(ctx context.Context) []StoreInfo {
	cfg := d.config()
	out := []StoreInfo{}
	// All stores at once, each within the store timeout: one that is
	// down delays no other.
	vss, errs := eachStore(ctx, d, d.storeVersions)
	for _, name := range sortedKeys(cfg.Stores) {
		s := cfg.Stores[name]
		// The configured location may hold credentials (an rclone
		// connection string): only its redacted form is shown.
		info := StoreInfo{Name: name, Location: backends.RedactLocation(s.Location), MaxJobs: s.MaxJobs}
		if eng, err := d.engineFor(name); err == nil {
			info.Location = eng.Location()
		}
		if err, ok := errs[name]; ok {
			info.Error = err.Error()
			out = append(out, info)
			continue
		}
		vs := vss[name]
		objs := map[string]bool{}
		var added int64
		for _, v := range vs {
			objs[v.Object.String()] = true
			added += v.Stats.NewBytes
		}
		info.Objects, info.Versions, info.SizeBytes = len(objs), len(vs), added
		if n, ok := dirSize(s.Location); ok {
			info.SizeBytes = n
		}
		out = append(out, info)
	}
	return out
}

// dirSize sums the file sizes under a local store directory.
func dirSize(dir string) (int64, bool) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return 0, false
	}
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if i, err := e.Info(); err == nil {
				n += i.Size()
			}
		}
		return nil
	})
	return n, true
}

// ClusterInfo is a configured cluster, without secrets.
type ClusterInfo struct {
	Name    string              `json:"name"`
	Kind    string              `json:"kind"`
	MaxJobs int                 `json:"max_jobs"`
	Options map[string][]string `json:"options"`
}

// Clusters lists the configured clusters; secret options show as the
// reference ($VAR or <file PATH>), never their value.
func (d *Daemon) Clusters() []ClusterInfo {
	cfg := d.config()
	out := []ClusterInfo{}
	for _, name := range sortedKeys(cfg.Clusters) {
		c := cfg.Clusters[name]
		info := ClusterInfo{Name: name, Kind: c.Kind, MaxJobs: c.MaxJobs, Options: map[string][]string{}}
		for opt, vals := range c.Options {
			for _, v := range vals {
				info.Options[opt] = append(info.Options[opt], v.String())
			}
		}
		out = append(out, info)
	}
	return out
}

// Versions lists a store's versions of objects under prefix (CLUSTER,
// CLUSTER/DB, CLUSTER/DB/TABLE or ""), made in [from, to] (zero: open).
func (d *Daemon) Versions(ctx context.Context, store, prefix string, from, to time.Time) ([]engine.Version, error) {
	eng, err := d.engineFor(store)
	if err != nil {
		return nil, err
	}
	vs, err := eng.Versions(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := []engine.Version{}
	for _, v := range vs {
		if (from.IsZero() || !v.Time.Before(from)) && (to.IsZero() || !v.Time.After(to)) {
			out = append(out, v)
		}
	}
	return out, nil
}

// DefaultStore is the store a request without one means: the only one.
func (d *Daemon) DefaultStore() string {
	cfg := d.config()
	if len(cfg.Stores) == 1 {
		return sortedKeys(cfg.Stores)[0]
	}
	return ""
}

// Point is one version in the analytics: what changed and what it cost.
type Point struct {
	Object       string    `json:"object"`
	Time         time.Time `json:"time"`
	Files        int64     `json:"files"`
	Bytes        int64     `json:"bytes"`
	LogicalBytes int64     `json:"logical_bytes"`
	ReadBytes    int64     `json:"read_bytes"`
	NewBytes     int64     `json:"new_bytes"`
	// ChangedBytes is how much the object's size moved since the previous
	// version; NewBytes what the store had to add for it.
	ChangedBytes int64 `json:"changed_bytes"`
	// ChangedFiles are the files added or changed since the previous
	// version (written, not kept).
	ChangedFiles int64 `json:"changed_files"`
}

// TableUse is one object's consumption of the store.
type TableUse struct {
	Object       string `json:"object"`
	Versions     int    `json:"versions"`
	LogicalBytes int64  `json:"logical_bytes"`
	StoredBytes  int64  `json:"stored_bytes"`
}

// Stats is the analytics of a store (or one object of it) over time.
type Stats struct {
	Store string `json:"store"`
	// LogicalBytes sums every version's logical size (replicas
	// included); StoredBytes what the store holds for them.
	LogicalBytes int64 `json:"logical_bytes"`
	Bytes        int64 `json:"bytes"`
	StoredBytes  int64 `json:"stored_bytes"`
	// DedupRatio is logical bytes per stored byte (semantic and chunk
	// deduplication together).
	DedupRatio float64      `json:"dedup_ratio"`
	Tables     []TableUse   `json:"tables"`
	Timeline   []Point      `json:"timeline"`
	ActiveJobs []joblog.Job `json:"active_jobs"`
	RecentJobs []joblog.Job `json:"recent_jobs"`
}

// Stats computes the analytics of a store, or of the objects under
// prefix.
func (d *Daemon) Stats(ctx context.Context, store, prefix string, from, to time.Time) (Stats, error) {
	vs, err := d.Versions(ctx, store, prefix, from, to)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Store: store, Tables: []TableUse{}, Timeline: []Point{}, ActiveJobs: []joblog.Job{}, RecentJobs: []joblog.Job{}}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Time.Before(vs[j].Time) })
	prev := map[string]int64{}
	use := map[string]*TableUse{}
	for _, v := range vs {
		name := v.Object.String()
		st.LogicalBytes += v.Stats.LogicalBytes
		st.Bytes += v.Stats.Bytes
		st.StoredBytes += v.Stats.NewBytes
		p := Point{Object: name, Time: v.Time, Files: v.Stats.Files, Bytes: v.Stats.Bytes, LogicalBytes: v.Stats.LogicalBytes, ReadBytes: v.Stats.ReadBytes, NewBytes: v.Stats.NewBytes, ChangedFiles: v.Stats.ChangedFiles}
		p.ChangedBytes = abs(v.Stats.Bytes - prev[name])
		prev[name] = v.Stats.Bytes
		st.Timeline = append(st.Timeline, p)
		u, ok := use[name]
		if !ok {
			u = &TableUse{Object: name}
			use[name] = u
		}
		u.Versions++
		u.LogicalBytes += v.Stats.LogicalBytes
		u.StoredBytes += v.Stats.NewBytes
	}
	for _, name := range sortedKeys(use) {
		st.Tables = append(st.Tables, *use[name])
	}
	if st.StoredBytes > 0 {
		st.DedupRatio = float64(st.LogicalBytes) / float64(st.StoredBytes)
	}
	err = d.addJobs(&st, store)
	return st, err
}

// addJobs fills a store's active and ten most recent finished jobs.
func (d *Daemon) addJobs(st *Stats, store string) error {
	jobs, err := d.Jobs()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		switch {
		case j.Store != store:
		case !j.State.Final():
			st.ActiveJobs = append(st.ActiveJobs, j)
		case len(st.RecentJobs) < 10:
			st.RecentJobs = append(st.RecentJobs, j)
		}
	}
	return nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
