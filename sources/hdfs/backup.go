package hdfs

import (
	"context"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	hdfs "github.com/colinmarc/hdfs/v2"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/stratabackup/strata/sources"
)

// progressEvery is how many files the walk finds between two progress
// events.
const progressEvery = 1000

// backup is the state of one object's backup.
type backup struct {
	pool    []*conn // pool[0] lists; workers take one each, round robin
	plan    plan
	prev    sources.Previous
	w       sources.Writer
	cfg     Config
	entries chan listed
	stats   stats
	warn    warnings
	changed warnings // files that changed while read live
	crc     int      // bytes per CRC for local block checksums, 0: none
}

// listed is an entry the walker found, for a worker to handle.
type listed struct {
	rel string
	st  *hdfs.FileStatus
}

// fileJob is a file whose content must be (partly) read.
type fileJob struct {
	rel  string
	st   *hdfs.FileStatus
	e    sources.Entry
	fp   fingerprint
	prev *fingerprint // the previous version's, when it had this file
}

func newBackup(pool []*conn, p plan, prev sources.Previous, w sources.Writer, cfg Config) *backup {
	return &backup{pool: pool, plan: p, prev: prev, w: w, cfg: cfg, entries: make(chan listed, 64*cfg.Workers)}
}

// run lists the tree (one walker: a listing returns a thousand entries
// with their blocks) while workers, spread over the connections, fetch
// attributes, keep unchanged files and read the others.
func (b *backup) run(ctx context.Context) error {
	if d, err := b.pool[0].c.ServerDefaults(); err == nil && d.BytesPerChecksum > 0 {
		b.crc = d.BytesPerChecksum
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(b.entries)
		return b.walk(gctx)
	})
	for i := range b.cfg.Workers {
		c := b.pool[i%len(b.pool)]
		g.Go(func() error { return b.work(gctx, c) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	n := b.stats.files.Load()
	b.w.Report(sources.Event{Step: "files", Done: n, Total: n})
	return nil
}

// walk lists the object's directories depth first.
func (b *backup) walk(ctx context.Context) error {
	stack := []string{""}
	for len(stack) > 0 {
		rel := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		err := b.list(ctx, rel, func(st *hdfs.FileStatus) error {
			child := path.Join(rel, string(st.GetPath()))
			if int32(st.GetFileType()) == fileTypeDir {
				stack = append(stack, child)
			}
			select {
			case b.entries <- listed{rel: child, st: st}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// list calls fn for every entry of the directory rel, in pages, with
// block locations.
func (b *backup) list(ctx context.Context, rel string, fn func(*hdfs.FileStatus) error) error {
	dir := b.full(rel)
	var after []byte
	for {
		resp, err := b.pool[0].nn.call(ctx, "getListing", "GetListingRequestProto", "GetListingResponseProto", func(r protoreflect.Message) {
			set(r, "src", str(dir))
			set(r, "startAfter", protoreflect.ValueOfBytes(after))
			set(r, "needLocation", protoreflect.ValueOfBool(true))
		})
		if err != nil {
			return errorf("list %s: %w", dir, err)
		}
		if !resp.Has(fieldOf(resp, "dirList")) {
			if rel == "" {
				return errorf("list %s: no such directory", dir)
			}
			b.warn.add(dir + " vanished during the backup")
			return nil
		}
		dl := get(resp, "dirList").Message()
		l := get(dl, "partialListing").List()
		for i := range l.Len() {
			st := asStatus(l.Get(i).Message())
			if err := fn(st); err != nil {
				return err
			}
			after = st.GetPath()
		}
		if get(dl, "remainingEntries").Uint() == 0 || l.Len() == 0 {
			return nil
		}
	}
}

// work handles listed entries until there are none, or the backup is
// cancelled.
func (b *backup) work(ctx context.Context, c *conn) error {
	for l := range b.entries {
		if err := b.entry(ctx, c, l.rel, l.st); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// entry handles one listed entry: directories and symlinks are added,
// unchanged files kept, the others read.
func (b *backup) entry(ctx context.Context, c *conn, rel string, st *hdfs.FileStatus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	typ, ok := entryType(st)
	if !ok {
		b.warn.add("skipped " + b.full(rel) + ": unknown file type " + st.GetFileType().String())
		return nil
	}
	e := entryOf(rel, typ, st)
	if err := b.extraAttrs(ctx, c, rel, st, e.Attrs); err != nil {
		return err
	}
	switch typ {
	case sources.TypeDir:
		b.stats.dirs.Add(1)
		return b.add(ctx, e)
	case sources.TypeSymlink:
		b.stats.symlinks.Add(1)
		return b.add(ctx, e)
	}
	return b.file(ctx, c, e, st)
}

// file keeps an unchanged file or reads it.
func (b *backup) file(ctx context.Context, c *conn, e sources.Entry, st *hdfs.FileStatus) error {
	if n := b.stats.files.Add(1); n%progressEvery == 0 {
		b.w.Report(sources.Event{Step: "files", Done: n})
	}
	b.stats.logical.Add(e.Size * int64(max(1, st.GetBlockReplication())))
	job := fileJob{rel: e.Path, st: st, e: e, fp: fingerprintOf(st)}
	if p, ok := b.prev.Lookup(e.Path); ok && p.Type == sources.TypeFile {
		if pfp, ok := parseFingerprint(p.Fingerprint); ok {
			job.prev = &pfp
			if job.fp.sameBlocks(pfp) && p.Size == e.Size {
				e.Fingerprint = job.fp.String()
				return b.keep(ctx, e)
			}
		}
	}
	return b.readFile(ctx, c, job)
}

// keep records an unchanged file by reference.
func (b *backup) keep(ctx context.Context, e sources.Entry) error {
	b.stats.kept.Add(1)
	if err := b.w.Keep(ctx, e); err != nil {
		return errorf("keep unchanged %s: %w", b.full(e.Path), err)
	}
	return nil
}

// add stores a directory or symlink entry.
func (b *backup) add(ctx context.Context, e sources.Entry) error {
	if err := b.w.Add(ctx, e, nil); err != nil {
		return errorf("add %s: %w", b.full(e.Path), err)
	}
	return nil
}

// full is the HDFS path read for rel (in the snapshot, or live).
func (b *backup) full(rel string) string {
	if rel == "" {
		return b.plan.readDir
	}
	return b.plan.readDir + "/" + rel
}

// meta is the version's recorded metadata.
func (b *backup) meta() map[string]string {
	m := b.stats.meta(b.plan.dir)
	if b.plan.snapshot != "" {
		m["snapshot"] = b.plan.snapshot
	} else {
		m["fuzzy"] = "true"
		m["changed_during_copy"] = strings.Join(b.changed.list(), "\n")
	}
	return m
}

// stats counts what a backup did, for the manifest's metadata.
type stats struct {
	dirs, symlinks, files, kept, checksumKept, appended, bytesRead, logical atomic.Int64
}

func (s *stats) meta(dir string) map[string]string {
	return map[string]string{
		"path":                dir,
		"dirs":                strconv.FormatInt(s.dirs.Load(), 10),
		"symlinks":            strconv.FormatInt(s.symlinks.Load(), 10),
		"files":               strconv.FormatInt(s.files.Load(), 10),
		"files_kept":          strconv.FormatInt(s.kept.Load(), 10),
		"files_checksum_kept": strconv.FormatInt(s.checksumKept.Load(), 10),
		"files_appended":      strconv.FormatInt(s.appended.Load(), 10),
		"bytes_read":          strconv.FormatInt(s.bytesRead.Load(), 10),
	}
}

// maxWarnings bounds the warnings (and changed files) kept in a manifest.
const maxWarnings = 1000

// warnings collects messages, safe for concurrent use.
type warnings struct {
	mu    sync.Mutex
	items []string
	n     int
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if len(w.items) < maxWarnings {
		w.items = append(w.items, msg)
	}
}

func (w *warnings) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.items...)
	sort.Strings(out)
	if w.n > len(w.items) {
		out = append(out, "... and "+strconv.Itoa(w.n-len(w.items))+" more")
	}
	return out
}
