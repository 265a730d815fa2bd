package index

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// Objects lists every object with at least one version, sorted.
func (s *Store) Objects(ctx context.Context) ([]ObjectRef, error) {
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return cat.Objects()
}

// Versions lists an object's versions, oldest first.
func (s *Store) Versions(ctx context.Context, obj ObjectRef) ([]Version, error) {
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return cat.Versions(obj)
}

// AllVersions lists every version of every object.
func (s *Store) AllVersions(ctx context.Context) ([]Version, error) {
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return cat.AllVersions()
}

// ReadDir lists the direct children of dir in v, sorted by raw name.
func (s *Store) ReadDir(ctx context.Context, v Version, dir string) ([]File, error) {
	if d, ok := s.virtual(v); ok {
		return d.readDir(dir), nil
	}
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return cat.ReadDir(v, dir)
}

// Lookup returns the entry at path in v ("" is the root).
func (s *Store) Lookup(ctx context.Context, v Version, path string) (File, error) {
	if d, ok := s.virtual(v); ok {
		return d.lookup(path)
	}
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return File{}, err
	}
	return cat.Lookup(v, path)
}

// Walk calls fn for every entry of v below dir ("" for all), depth first in
// path order.
func (s *Store) Walk(ctx context.Context, v Version, dir string, fn func(File) error) error {
	kids, err := s.ReadDir(ctx, v, dir)
	if err != nil {
		return err
	}
	for _, f := range kids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		if f.Type == sources.TypeDir {
			if err := s.Walk(ctx, v, f.Path, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseTime accepts RFC 3339, a date (meaning the end of that day, UTC), or
// unix seconds, as the mount's @at and @diff do.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Add(24*time.Hour - time.Second).UTC(), nil
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24) or unix seconds", s)
}

// At returns the newest version at or before t.
func At(vs []Version, t time.Time) (Version, bool) {
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Time.After(t) })
	if i == 0 {
		return Version{}, false
	}
	return vs[i-1], true
}

// ResolveVersion finds a version from "cluster/db/table/<time|latest>"; a
// time picks the newest version at or before it.
func (s *Store) ResolveVersion(ctx context.Context, spec string) (Version, error) {
	i := strings.LastIndexByte(spec, '/')
	if i < 0 {
		return Version{}, fmt.Errorf("version %q: want cluster/db/table/<time or latest>", spec)
	}
	obj, err := s.ResolveObject(ctx, spec[:i])
	if err != nil {
		return Version{}, err
	}
	vs, err := s.Versions(ctx, obj)
	if err != nil {
		return Version{}, err
	}
	when := spec[i+1:]
	if when == "latest" {
		return vs[len(vs)-1], nil
	}
	t, err := ParseTime(when)
	if err != nil {
		return Version{}, fmt.Errorf("version %q: %w", spec, err)
	}
	v, ok := At(vs, t)
	if !ok {
		return Version{}, fmt.Errorf("version %q: no version of %s at or before %s (oldest is %s): %w", spec, obj, TimeName(t), TimeName(vs[0].Time), ErrNotFound)
	}
	return v, nil
}

// ResolveObject finds an object from "cluster/db/table" (table may contain
// '/'), matching raw or escaped names.
func (s *Store) ResolveObject(ctx context.Context, spec string) (ObjectRef, error) {
	objs, err := s.Objects(ctx)
	if err != nil {
		return ObjectRef{}, err
	}
	for _, o := range objs {
		if o.String() == spec || strings.TrimSuffix(format.ObjectPrefix(o)[len("versions/"):], "/") == spec {
			return o, nil
		}
	}
	return ObjectRef{}, fmt.Errorf("object %q: %w (`strata versions` lists what the store holds)", spec, ErrNotFound)
}
