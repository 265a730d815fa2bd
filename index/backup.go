package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// Progress is a running backup's state, reported about twice a second.
type Progress struct {
	Object ObjectRef
	Files  int64
	// DoneBytes counts bytes read so far plus the sizes of files kept
	// unchanged: it moves during a large file, so rate and ETA do too.
	DoneBytes int64
	// ReadBytes counts bytes read from the source so far.
	ReadBytes int64
	NewBytes  int64
	Elapsed   time.Duration
	// ExpectBytes estimates the total to read (the previous version's
	// size), 0 when unknown; with it a display can show an ETA.
	ExpectBytes int64
}

// BackupOptions tune one backup.
type BackupOptions struct {
	Progress func(Progress)
	// Waiting is told when the backup waits for another process's lock.
	Waiting func(op string)
}

// Backup takes one version of obj from src and commits it: packs, then the
// session's index file, then the manifest, so that the version appears
// only when every byte it needs is durable. Concurrent backups (in this or
// other processes) are safe.
func (s *Store) Backup(ctx context.Context, src sources.Source, obj sources.Object, opts BackupOptions) (Version, error) {
	ref := ObjectRef{Cluster: obj.Cluster, Database: obj.Database, Table: obj.Table}
	lock, err := sharedLock(ctx, s.be, "backup "+ref.String(), func(li lockInfo) {
		if opts.Waiting != nil {
			opts.Waiting(fmt.Sprintf("%s (pid %d on %s)", li.Op, li.PID, li.Host))
		}
	})
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: lock store: %w", ref, err)
	}
	defer lock.release()

	known := newChunkSet()
	prev := map[string]File{}
	var prevV *Version
	err = s.withCatalog(ctx, func(c *catalog) error {
		if err := c.scan([]byte{keyChunk}, func(k, v []byte) error {
			var id ID
			copy(id[:], k[1:])
			known.m[id] = decodeLoc(v).Length
			return nil
		}); err != nil {
			return err
		}
		vs, err := c.versions(ref)
		if err != nil || len(vs) == 0 {
			return err
		}
		prevV = &vs[len(vs)-1]
		return c.scan(filesPrefix(versionID(prevV.Name)), func(k, v []byte) error {
			rest := string(k[9:])
			i := strings.IndexByte(rest, 0)
			f, err := decodeFileRecord(rest[:i], rest[i+1:], v)
			prev[f.Path] = f
			return err
		})
	})
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}

	start := time.Now()
	workers := s.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pv := &prevVersion{ctx: ctx, s: s, files: prev}
	sess := newSession(ctx, s, known, prev, workers)
	sess.prevLocate = pv.locate
	stopProgress := s.reportProgress(sess, ref, prevV, start, opts.Progress)
	res, err := src.Backup(ctx, obj, pv, sess)
	sess.close()
	stopProgress()
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	packs, err := sess.packer.flush(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	if len(packs) > 0 {
		data, err := zstdJSON(indexFile{Packs: packs})
		if err != nil {
			return Version{}, err
		}
		if err := s.be.Put(ctx, "indexes/"+randomID(), data); err != nil {
			return Version{}, fmt.Errorf("backup %s: write index: %w", ref, err)
		}
	}
	if sess.spans.Load() {
		if err := s.upgradeFormat(ctx); err != nil {
			return Version{}, fmt.Errorf("backup %s: %w", ref, err)
		}
	}
	v, err := s.commit(ctx, ref, src.Kind(), obj, res, sess, time.Since(start), opts.Waiting)
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	return v, nil
}

// prevVersion is what a source sees of the previous version: its entries
// and, for row sources, its files' content. The backup runs without the
// catalog, so the first read looks up where the previous version's chunks
// are, in one short catalog session (sources that never read, such as
// posix, pay nothing for it).
type prevVersion struct {
	ctx   context.Context
	s     *Store
	files map[string]File

	once sync.Once
	locs map[ID]BlobLoc
	err  error
}

var _ sources.PreviousReader = (*prevVersion)(nil)

func (p *prevVersion) Lookup(path string) (sources.Entry, bool) {
	f, ok := p.files[path]
	return f.Entry, ok
}

func (p *prevVersion) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	f, ok := p.files[path]
	if !ok || f.Type != sources.TypeFile {
		return nil, fmt.Errorf("open %s in the previous version: %w", path, ErrNotFound)
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	r := p.s.OpenFile(f)
	r.locate = p.locate
	return &streamReader{ctx: ctx, r: r}, nil
}

// load finds the previous version's chunks in the catalog, once.
func (p *prevVersion) load() error {
	p.once.Do(func() {
		p.locs = map[ID]BlobLoc{}
		p.err = p.s.withCatalog(p.ctx, func(c *catalog) error {
			for _, f := range p.files {
				for _, r := range f.Chunks {
					if _, done := p.locs[r.ID]; done {
						continue
					}
					loc, ok, err := c.chunk(r.ID)
					if err != nil {
						return err
					}
					if ok {
						p.locs[r.ID] = loc
					}
				}
			}
			return nil
		})
		if p.err != nil {
			p.err = fmt.Errorf("locate the previous version's chunks: %w", p.err)
		}
	})
	return p.err
}

// locate finds the previous version's chunks without the catalog.
func (p *prevVersion) locate(id ID) (BlobLoc, bool, error) {
	if err := p.load(); err != nil {
		return BlobLoc{}, false, err
	}
	loc, ok := p.locs[id]
	return loc, ok, nil
}

func (s *Store) reportProgress(sess *session, ref ObjectRef, prev *Version, start time.Time, fn func(Progress)) func() {
	if fn == nil {
		return func() {}
	}
	var expect int64
	if prev != nil {
		expect = prev.Stats.Bytes
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	report := func() {
		fn(Progress{Object: ref, Files: sess.filesDone.Load(), DoneBytes: sess.doneBytes.Load(), ReadBytes: sess.readBytes.Load(), NewBytes: sess.newBytes.Load(), Elapsed: time.Since(start), ExpectBytes: expect})
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				report()
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// commit writes the manifest under a name no other version holds: if a
// version of the object already has this second, the time moves on by a
// second (two backups of one table in one second both land).
func (s *Store) commit(ctx context.Context, ref ObjectRef, kind string, obj sources.Object, res sources.Result, sess *session, took time.Duration, waiting func(string)) (Version, error) {
	at := res.At.UTC().Truncate(time.Second)
	if at.IsZero() {
		at = nowUTC().Truncate(time.Second)
	}
	files := sess.entries(sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: at})
	st := Stats{ReadBytes: sess.readBytes.Load(), NewBytes: sess.newBytes.Load(), NewChunks: sess.newChunks.Load(), Seconds: took.Seconds()}
	seen := map[ID]bool{}
	for _, f := range files {
		switch f.Type {
		case sources.TypeDir:
			st.Dirs++
		default:
			st.Files++
		}
		st.Bytes += f.Size
		for _, c := range f.Chunks {
			if !seen[c.ID] {
				seen[c.ID] = true
				st.StoredBytes += int64(sess.known.size(c.ID))
			}
		}
	}
	st.Chunks = int64(len(seen))
	st.LogicalBytes = res.LogicalBytes
	if st.LogicalBytes == 0 {
		st.LogicalBytes = st.Bytes
	}
	meta := map[string]string{}
	for k, v := range obj.Meta {
		meta[k] = v
	}
	for k, v := range res.Meta {
		meta[k] = v
	}
	m := &manifest{Format: FormatVersion, Object: rawObject{rawString(ref.Cluster), rawString(ref.Database), rawString(ref.Table)}, Kind: kind, Stats: st, Meta: meta, Warnings: res.Warnings}
	m.Files = make([]mfile, len(files))
	for i, f := range files {
		m.Files[i] = fileToM(f)
	}
	// The commit lock (one per object, across processes and hosts) covers
	// choosing the name and writing the manifest; it is taken before and
	// released before the catalog, so the two locks never wait on each
	// other.
	var name string
	dir := versionName(ref, at)
	dir = dir[:strings.LastIndexByte(dir, '/')]
	err := func() error {
		lock, err := commitLock(ctx, s.be, dir, func(li lockInfo) {
			if waiting != nil {
				waiting(fmt.Sprintf("%s (pid %d on %s)", li.Op, li.PID, li.Host))
			}
		})
		if err != nil {
			return err
		}
		defer lock.release()
		for {
			m.Time = at
			name = versionName(ref, at)
			if _, err := s.be.Stat(ctx, name); errors.Is(err, backends.ErrNotFound) {
				break
			} else if err != nil {
				return fmt.Errorf("stat %s: %w", name, err)
			}
			at = at.Add(time.Second)
		}
		data, err := zstdJSON(m)
		if err != nil {
			return err
		}
		if err := s.be.Put(ctx, name, data); err != nil {
			return fmt.Errorf("write manifest %s: %w", name, err)
		}
		return nil
	}()
	if err != nil {
		return Version{}, err
	}
	// The version is complete on the backend; the catalog is a cache that
	// a later sync would fill in as well.
	if err := s.withCatalog(ctx, func(c *catalog) error { return c.addVersion(name, m) }); err != nil {
		return Version{}, fmt.Errorf("version %s is stored, but recording it in the local catalog failed: %w", name, err)
	}
	return m.version(name), nil
}
