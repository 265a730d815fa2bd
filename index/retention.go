package index

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/stratabackup/strata/index/catalog"
)

// Policy says which versions of each object to keep; a version is kept if
// any rule keeps it. The zero Policy keeps nothing and is refused.
type Policy struct {
	Last, Hourly, Daily, Weekly int
	// Within keeps every version younger than this, counted back from the
	// object's newest version (not from now, so a paused schedule does not
	// age everything out).
	Within time.Duration
}

// Empty reports a policy with no rule.
func (p Policy) Empty() bool {
	return p.Last <= 0 && p.Hourly <= 0 && p.Daily <= 0 && p.Weekly <= 0 && p.Within <= 0
}

// Decision is forget's verdict on one version.
type Decision struct {
	Version Version  `json:"version"`
	Keep    bool     `json:"keep"`
	Reasons []string `json:"reasons,omitempty"`
}

// Apply decides for each version of one object (any order).
func (p Policy) Apply(vs []Version) []Decision {
	sorted := append([]Version(nil), vs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Time.After(sorted[j].Time) })
	out := make([]Decision, len(sorted))
	for i, v := range sorted {
		out[i].Version = v
	}
	keepBucket := func(n int, reason string, bucket func(time.Time) string) {
		last := ""
		for i := range out {
			if n <= 0 {
				return
			}
			b := bucket(out[i].Version.Time)
			if b == last {
				continue
			}
			last = b
			out[i].Keep = true
			out[i].Reasons = append(out[i].Reasons, reason)
			n--
		}
	}
	keepBucket(p.Last, "last", func(t time.Time) string { return t.String() })
	keepBucket(p.Hourly, "hourly", func(t time.Time) string { return t.UTC().Format("2006-01-02T15") })
	keepBucket(p.Daily, "daily", func(t time.Time) string { return t.UTC().Format("2006-01-02") })
	keepBucket(p.Weekly, "weekly", func(t time.Time) string { y, w := t.UTC().ISOWeek(); return fmt.Sprint(y, "-", w) })
	if p.Within > 0 && len(out) > 0 {
		newest := out[0].Version.Time
		for i := range out {
			if newest.Sub(out[i].Version.Time) < p.Within {
				out[i].Keep = true
				out[i].Reasons = append(out[i].Reasons, "within")
			}
		}
	}
	return out
}

// Forget applies the policy to every object (or only to objs) and, unless
// dryRun, deletes the manifests of versions not kept. Their data stays
// until prune. It decides from the shared catalog, synced, so that
// versions other processes just made count; the catalog is not held while
// manifests are deleted, and a last sync drops the forgotten versions from
// it and from this Store's reads.
func (s *Store) Forget(ctx context.Context, p Policy, objs []ObjectRef, dryRun bool) ([]Decision, error) {
	if p.Empty() {
		return nil, fmt.Errorf("forget: no --keep-* rule given; refusing to forget every version")
	}
	var all []Decision
	err := s.withCatalog(ctx, func(cat *catalog.Catalog) error {
		var err error
		all, err = decide(cat, p, objs)
		return err
	})
	if err != nil || dryRun {
		return all, err
	}
	for _, d := range all {
		if d.Keep {
			continue
		}
		if err = s.be.Delete(ctx, d.Version.Name); err != nil {
			err = fmt.Errorf("forget %s: %w", d.Version.Name, err)
			break
		}
	}
	// Also after a failed delete: the versions already gone must go from
	// the catalog too.
	if serr := s.syncCatalog(ctx); serr != nil && err == nil {
		err = fmt.Errorf("forget: drop forgotten versions from the catalog: %w", serr)
	}
	return all, err
}

// decide applies the policy to each of objs (every object if none).
func decide(cat *catalog.Catalog, p Policy, objs []ObjectRef) ([]Decision, error) {
	if len(objs) == 0 {
		var err error
		if objs, err = cat.Objects(); err != nil {
			return nil, fmt.Errorf("forget: list objects: %w", err)
		}
	}
	var all []Decision
	for _, o := range objs {
		vs, err := cat.Versions(o)
		if err != nil {
			return nil, fmt.Errorf("forget: versions of %s: %w", o, err)
		}
		all = append(all, p.Apply(vs)...)
	}
	return all, nil
}
