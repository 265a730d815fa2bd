package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/stratabackup/strata/sources"
)

// Diff writes what changed in (from, to] in mongodump's layout: the newer
// <name>.metadata.json, <name>.bson holding the documents added or changed
// (in _id order), and <name>.deleted.json, a JSON array of the removed
// _ids in canonical Extended JSON. Restore applies such a directory.
//
// Both .bson files are in _id order as Backup wrote them, so they are
// merge-joined by _id; if an _id order is met that compareValues does not
// share with the server, the join falls back to a hash map of the older
// version's _ids.
func (s *Source) Diff(ctx context.Context, from, to sources.VersionReader, w sources.Writer) error {
	return Differ{}.Diff(ctx, from, to, w)
}

// Differ computes a collection's @diff from two stored versions alone: it
// needs no server, so the mount and the CLI use it without a connection.
type Differ struct{}

var _ sources.Differ = Differ{}

// Diff writes the documents changed in (from, to] and the _ids deleted.
func (Differ) Diff(ctx context.Context, from, to sources.VersionReader, w sources.Writer) error {
	base, err := collectionBase(to)
	if err != nil {
		return err
	}
	mtime := versionTime(to)
	if err := copyEntry(ctx, to, base+metadataSuffix, w); err != nil {
		return err
	}
	d, err := diffDocs(ctx, from, to, base+bsonSuffix)
	if err != nil {
		return fmt.Errorf("diff %s: %w", base, err)
	}
	if err := writeChanged(ctx, to, base+bsonSuffix, d.changed, mtime, w); err != nil {
		return fmt.Errorf("diff %s: %w", base, err)
	}
	js, err := marshalIDs(d.deleted)
	if err != nil {
		return fmt.Errorf("diff %s: %w", base, err)
	}
	e := fileEntry(base+deletedSuffix, mtime, int64(len(js)))
	if err := w.Add(ctx, e, bytes.NewReader(js)); err != nil {
		return fmt.Errorf("diff %s: write %s: %w", base, e.Path, err)
	}
	return nil
}

// collectionBase finds the escaped collection name of a version from its
// metadata.json entry.
func collectionBase(v sources.VersionReader) (string, error) {
	for _, e := range v.Entries() {
		if e.Type == sources.TypeFile && strings.HasSuffix(e.Path, metadataSuffix) && !strings.Contains(e.Path, "/") {
			return strings.TrimSuffix(e.Path, metadataSuffix), nil
		}
	}
	return "", errors.New("diff: the newer version has no .metadata.json: not a mongodb version")
}

func versionTime(v sources.VersionReader) time.Time {
	var t time.Time
	for _, e := range v.Entries() {
		if e.ModTime.After(t) {
			t = e.ModTime
		}
	}
	return t
}

func lookup(v sources.VersionReader, path string) (sources.Entry, bool) {
	for _, e := range v.Entries() {
		if e.Path == path {
			return e, true
		}
	}
	return sources.Entry{}, false
}

func copyEntry(ctx context.Context, v sources.VersionReader, path string, w sources.Writer) error {
	e, ok := lookup(v, path)
	if !ok {
		return fmt.Errorf("diff: %s missing from the newer version", path)
	}
	rc, err := v.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("diff: open %s: %w", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("diff: read %s: %w", path, err)
	}
	e.Size = int64(len(b))
	if err := w.Add(ctx, e, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("diff: write %s: %w", path, err)
	}
	return nil
}

// openDocs opens a version's .bson, or an empty stream when it has none
// (a view, or a collection that did not exist yet).
func openDocs(ctx context.Context, v sources.VersionReader, path string) (*docReader, io.Closer, error) {
	if _, ok := lookup(v, path); !ok {
		return newDocReader(bytes.NewReader(nil)), io.NopCloser(nil), nil
	}
	rc, err := v.Open(ctx, path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	return newDocReader(rc), rc, nil
}

// marshalIDs renders _ids as a canonical Extended JSON array.
func marshalIDs(ids []bson.RawValue) ([]byte, error) {
	arr := bson.A{}
	for _, id := range ids {
		arr = append(arr, id)
	}
	js, err := bson.MarshalExtJSON(bson.D{{Key: "d", Value: arr}}, true, false)
	if err != nil {
		return nil, fmt.Errorf("marshal deleted _ids: %w", err)
	}
	return js[len(`{"d":`) : len(js)-1], nil
}

// parseIDs reads a deleted.json array.
func parseIDs(js []byte) ([]bson.RawValue, error) {
	doc := append(append([]byte(`{"d":`), js...), '}')
	var out struct {
		D []bson.RawValue `bson:"d"`
	}
	if err := bson.UnmarshalExtJSON(doc, true, &out); err != nil {
		return nil, fmt.Errorf("parse deleted _ids: %w", err)
	}
	return out.D, nil
}
