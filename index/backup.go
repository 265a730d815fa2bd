package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/index/lock"
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
	// Events receives the source's own progress and warnings.
	Events func(sources.Event)
}

// Backup takes one version of obj from src and commits it: packs, then the
// session's index file, then the manifest, so that the version appears
// only when every byte it needs is durable. Concurrent backups (in this or
// other processes) are safe. It is a run of one object; BeginBackup backs
// up several at one consistent point.
func (s *Store) Backup(ctx context.Context, src sources.Source, obj sources.Object, opts BackupOptions) (Version, error) {
	ref := ObjectRef{Cluster: obj.Cluster, Database: obj.Database, Table: obj.Table}
	run, err := s.BeginBackup(ctx, "backup "+ref.String(), opts.Waiting)
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	defer run.Close()
	sess, err := sources.Begin(ctx, src, []sources.Object{obj}, sources.Discard)
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	defer sess.Close()
	return run.Backup(ctx, src.Kind(), sess, obj, opts)
}

// BackupRun is one backup run over a set of objects: it holds the store's
// shared lock (so prune waits) and the store's chunk set, loaded once for
// every object of the run instead of once per object.
type BackupRun struct {
	s     *Store
	lock  *lock.Held
	known *chunkSet
	// indexes are the store's index files when the run began: a prune
	// deletes them all (replaceIndexes), so one missing at a commit says
	// a prune ran meanwhile (see notPruned).
	indexes map[string]bool
	// mu serializes the run's backups: a chunk one object's backup claims
	// is durable (packed and indexed) only when that backup commits, so the
	// next object may refer to it only then.
	mu sync.Mutex
}

// BeginBackup takes the store's shared lock under the name op (shown to
// whoever waits for it) and syncs the catalog; the chunk set loads later
// (chunkSet).
func (s *Store) BeginBackup(ctx context.Context, op string, waiting func(string)) (*BackupRun, error) {
	held, err := lock.Shared(ctx, s.be, op, lockWaiter(waiting))
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	// The sync comes first: the previous versions that backups keep
	// unchanged files of must be the backend's, not a stale catalog's.
	if err := s.syncCatalog(ctx); err != nil {
		held.Release()
		return nil, err
	}
	known := newChunkSet(func(add func(ID, uint32)) error {
		return s.withCatalogAsIs(ctx, func(c *catalog.Catalog) error { return chunksIn(c)(add) })
	})
	indexes, err := format.ListNames(ctx, s.be, "indexes/")
	if err != nil {
		held.Release()
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	return &BackupRun{s: s, lock: held, known: known, indexes: indexes}, nil
}

// errPrunedDuring fails a backup that a prune ran under: the prune took
// the run's lock for stale (the run stalled past the lock's 5 minutes, or
// the hosts' clocks are that far apart) and may have deleted packs the
// run deduplicated against or wrote, so committing could make a version
// that cannot be read.
var errPrunedDuring = errors.New("the store was pruned during this backup (its lock was taken for stale: a stall of over 5 minutes, or clocks that far apart); nothing is committed: run the backup again")

// notPruned checks that every index file of the run's start is still
// there: before the run's last packs are indexed, and once a version's
// manifest is written (else commit takes it back).
func (r *BackupRun) notPruned(ctx context.Context) error {
	now, err := format.ListNames(ctx, r.s.be, "indexes/")
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for name := range r.indexes {
		if !now[name] {
			return errPrunedDuring
		}
	}
	return nil
}

// Close releases the run's lock, once a chunk set load that began has
// ended (it reads the catalog).
func (r *BackupRun) Close() {
	if r.known.started() {
		_ = r.known.wait()
	}
	r.lock.Release()
}

// Backup takes one version of obj through sess and commits it. The
// version is named by the source's Result.At, else the session's point,
// else the time of the commit. A failed or cancelled backup leaves no
// version and nothing the run's later backups could refer to.
func (r *BackupRun) Backup(ctx context.Context, kind string, sess sources.Session, obj sources.Object, opts BackupOptions) (Version, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	ref := ObjectRef{Cluster: obj.Cluster, Database: obj.Database, Table: obj.Table}
	prevV, err := s.previousVersion(ctx, ref)
	if err != nil {
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	// The chunk set loads next to the previous entries, in their catalog
	// session, when content is stored while they load; else in a session
	// of its own when it is first needed (chunkSet).
	prev := s.loadPrevFiles(ctx, prevV, func(c *catalog.Catalog, loaded <-chan struct{}) {
		select {
		case <-r.known.wanted():
			r.known.loadWith(chunksIn(c))
		case <-loaded:
		}
	}) // finish waits for it
	start := time.Now()
	workers := s.opts.Workers
	if workers <= 0 {
		workers = sources.CPUs()
	}
	pv := &prevVersion{ctx: ctx, s: s, v: prevV, files: prev}
	ws := newSession(ctx, s, r.known, prev, workers)
	ws.prevLocate = pv.locate
	if prevV != nil {
		ws.prevList = make(map[ID]struct{}, len(prevV.FileList))
		for _, c := range prevV.FileList {
			ws.prevList[c.ID] = struct{}{}
		}
		ws.same = newUnchangedList(prevV.FileList, prev.lines, min(prevV.Stats.Files+prevV.Stats.Dirs, prevSizeHintMax))
	}
	ws.events = opts.Events
	stopProgress := s.reportProgress(ws, ref, prevV, start, opts.Progress)
	v, err := r.finish(ctx, kind, sess, obj, ref, pv, ws, start, opts, stopProgress)
	if err != nil {
		r.known.forget(ws.claimedIDs())
		return Version{}, fmt.Errorf("backup %s: %w", ref, err)
	}
	return v, nil
}

func (r *BackupRun) finish(ctx context.Context, kind string, sess sources.Session, obj sources.Object, ref ObjectRef, pv *prevVersion, ws *session, start time.Time, opts BackupOptions, stopProgress func()) (Version, error) {
	s := r.s
	res, err := sess.Backup(ctx, obj, pv, ws)
	if perr := pv.files.wait(); perr != nil {
		err = perr // the source saw no previous entries: a full, slow backup
	}
	var list fileList
	if err == nil && ctx.Err() == nil {
		list, err = ws.storeFileList(ctx, res)
	}
	if err == nil && !sameList(pv.v, list.refs) {
		err = r.known.wait() // the version's stats need the stored sizes
	}
	ws.close()
	defer ws.list.close()
	stopProgress()
	if err == nil {
		err = ctx.Err() // a source that ignores cancellation still makes no version
	}
	if err != nil {
		ws.packer.abort()
		return Version{}, err
	}
	packs, err := ws.packer.flush(ctx)
	if err != nil {
		return Version{}, err
	}
	// Packs a prune deleted under the run must not be indexed: other
	// backups would deduplicate against them. (The manifest is checked
	// again once written, see commit.)
	if err := r.notPruned(ctx); err != nil {
		return Version{}, err
	}
	if err := ws.packer.writeIndex(ctx, packs); err != nil {
		return Version{}, err
	}
	if res.At.IsZero() {
		res.At = sess.At()
	}
	return s.commit(ctx, ref, kind, obj, res, ws, list, pv.v, time.Since(start), opts.Waiting, r.notPruned)
}

// previousVersion is the newest version of ref, nil if none.
func (s *Store) previousVersion(ctx context.Context, ref ObjectRef) (*Version, error) {
	var prevV *Version
	err := s.withCatalogAsIs(ctx, func(c *catalog.Catalog) error {
		vs, err := c.Versions(ref)
		if err != nil || len(vs) == 0 {
			return err
		}
		prevV = &vs[len(vs)-1]
		return nil
	})
	return prevV, err
}

// prevVersion is what a source sees of the previous version: its entries
// and, for row sources, its files' content. The backup runs without the
// catalog, so the first read looks up where the previous version's chunks
// are, in one short catalog session (sources that never read, such as
// posix, pay nothing for it).
type prevVersion struct {
	ctx   context.Context
	s     *Store
	v     *Version // nil on a first backup
	files *prevFiles

	once sync.Once
	locs map[ID]format.BlobLoc
	err  error
}

var _ sources.PreviousReader = (*prevVersion)(nil)

func (p *prevVersion) Lookup(path string) (sources.Entry, bool) {
	f, ok := p.files.lookup(path)
	return f.Entry, ok
}

func (p *prevVersion) Info() sources.VersionInfo {
	if p.v == nil {
		return sources.VersionInfo{}
	}
	return versionInfo(*p.v)
}

func (p *prevVersion) Entries() []sources.Entry {
	var out []sources.Entry
	_ = p.files.each(func(f prevFile) error { // a failed load fails the backup
		if f.Path != "" {
			out = append(out, f.Entry)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (p *prevVersion) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	f, ok := p.files.get(path)
	if !ok || f.Type != sources.TypeFile {
		return nil, fmt.Errorf("open %s in the previous version: %w", path, ErrNotFound)
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	r := p.s.OpenFile(f.File)
	r.locate = p.locate
	return &streamReader{ctx: ctx, r: r}, nil
}

// load finds the previous version's chunks in the catalog, once.
func (p *prevVersion) load() error {
	p.once.Do(func() {
		p.locs = map[ID]format.BlobLoc{}
		if err := p.files.wait(); err != nil {
			p.err = err
			return
		}
		p.err = p.s.withCatalogAsIs(p.ctx, func(c *catalog.Catalog) error {
			return p.files.each(func(f prevFile) error {
				for _, r := range f.Chunks {
					if _, done := p.locs[r.ID]; done {
						continue
					}
					loc, ok, err := c.Chunk(r.ID)
					if err != nil {
						return err
					}
					if ok {
						p.locs[r.ID] = loc
					}
				}
				return nil
			})
		})
		if p.err != nil {
			p.err = fmt.Errorf("locate the previous version's chunks: %w", p.err)
		}
	})
	return p.err
}

// locate finds the previous version's chunks without the catalog.
func (p *prevVersion) locate(id ID) (format.BlobLoc, bool, error) {
	if err := p.load(); err != nil {
		return format.BlobLoc{}, false, err
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
func (s *Store) commit(ctx context.Context, ref ObjectRef, kind string, obj sources.Object, res sources.Result, sess *session, list fileList, prev *Version, took time.Duration, waiting func(string), notPruned func(context.Context) error) (Version, error) {
	at := versionTime(res)
	need := format.FormatFileList
	if sess.backRefs.Load() {
		need = format.FormatBackRefs
	}
	if err := s.upgradeFormat(ctx, need); err != nil {
		return Version{}, err
	}
	st := versionStats(&list, sess, res, took, prev)
	m := &format.Manifest{Format: FormatVersion, Object: format.RawObject{Cluster: format.RawString(ref.Cluster), Database: format.RawString(ref.Database), Table: format.RawString(ref.Table)}, Kind: kind, Stats: st, Meta: mergeMeta(obj.Meta, res.Meta), Warnings: res.Warnings}
	if sess.root != nil {
		r := format.ToFileRecord(*sess.root)
		m.Root = &r
	}
	m.FileList = format.FileListRefs(list.refs)
	name, err := s.writeManifest(ctx, ref, at, m, waiting)
	if err != nil {
		return Version{}, err
	}
	// A prune ran under the run (before or while the manifest was
	// written): take the version back before anyone relies on it.
	if err := notPruned(ctx); err != nil {
		if derr := s.be.Delete(context.WithoutCancel(ctx), name); derr != nil {
			return Version{}, fmt.Errorf("%w; deleting its manifest %s failed too (%v): run `strata check`", err, name, derr)
		}
		return Version{}, err
	}
	// The version is complete on the backend; the catalog is a cache that
	// a later sync would fill in as well. Recorded before the session's
	// sync, it is not read back from the backend (the sync loads only the
	// run's index file). A version whose list is the previous one's,
	// chunk for chunk, shares its records.
	record := func(c *catalog.Catalog) error {
		if sameList(prev, list.refs) {
			if ok, err := c.AddVersionAlias(name, m, prev.Name); err != nil || ok {
				return err
			}
		}
		entries := list.entries()
		return c.AddVersionFiles(name, m, list.n, func(int) (string, []byte, error) {
			e, ok, err := entries.next()
			if err == nil && !ok {
				err = errors.New("the file list ended early")
			}
			if err != nil {
				return "", nil, err
			}
			return e.path, e.line, nil
		})
	}
	if err := s.session(ctx, false, record, nil); err != nil {
		return Version{}, fmt.Errorf("version %s is stored, but recording it in the local catalog failed: %w", name, err)
	}
	return m.Version(name), nil
}

// versionTime is the time that names a version: the source's consistent
// point, else now, in whole seconds.
func versionTime(res sources.Result) time.Time {
	at := res.At.UTC().Truncate(time.Second)
	if at.IsZero() {
		at = nowUTC().Truncate(time.Second)
	}
	return at
}

// fileList is a finished version's list: the session's runs and the
// implied directories, which merge into its entries in path order as
// often as needed, the chunks the list was stored in, and what its
// entries add up to.
type fileList struct {
	runs, implied *listRuns
	n             int
	refs          []ChunkRef
	st            listStats
}

// entries merges the list's entries in path order.
func (l *fileList) entries() *listMerge { return l.runs.merge(l.implied) }

// listStats are a version's counts, summed as its list is stored.
type listStats struct {
	files, dirs, bytes int64
	ids                []ID // every chunk reference (sorted and counted later)
}

// storeFileList merges the session's entries (and the directories they
// imply) in path order and stores their lines as chunks, through the
// session like file data (so before it closes): unchanged stretches of
// the list are chunks the store already has. The lines stream from the
// runs into the chunker: the list is never whole in memory.
func (s *session) storeFileList(ctx context.Context, res sources.Result) (fileList, error) {
	if err := s.list.finish(); err != nil {
		return fileList{}, err
	}
	l := fileList{runs: s.list, implied: s.list.implied(sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: versionTime(res)})}
	if s.listUnchanged(l.implied) {
		l.n, l.refs, l.st = s.prev.count(), s.same.refs, s.same.stats()
		listsUnchanged.Add(1)
		return l, nil
	}
	lr := &listReader{m: l.entries(), each: func(e *listEnt) {
		l.n++
		if e.typ == sources.TypeDir {
			l.st.dirs++
		} else {
			l.st.files++
		}
		l.st.bytes += e.size
		for i := 0; i+32 <= len(e.ids); i += 32 {
			l.st.ids = append(l.st.ids, ID(e.ids[i:i+32]))
		}
	}}
	ch := format.NewChunker(format.FileListChunkerParams(s.st.cfg.Chunker.Seed), lr)
	defer ch.Release()
	var err error
	l.refs, _, err = s.storeChunks(ctx, "the file list", plainChunks(ch.Next), false)
	return l, err
}

// listReader reads a merged list as its stored bytes: each entry's line
// and a newline, telling each about every entry it passes.
type listReader struct {
	m       *listMerge
	each    func(*listEnt)
	pending []byte
	nl      bool
}

func (r *listReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 && r.nl {
			p[n] = '\n'
			n++
			r.nl = false
			continue
		}
		if len(r.pending) > 0 {
			k := copy(p[n:], r.pending)
			r.pending = r.pending[k:]
			n += k
			continue
		}
		e, ok, err := r.m.next()
		if err != nil {
			return n, err
		}
		if !ok {
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		r.each(e)
		r.pending, r.nl = e.line, true
	}
	return n, nil
}

// sameList reports whether a version's file list, stored as refs, is
// prev's chunk for chunk: the same entries, so the same chunks.
func sameList(prev *Version, refs []ChunkRef) bool {
	return prev != nil && len(prev.FileList) > 0 && slices.Equal(prev.FileList, refs)
}

// versionStats sums a version's files and chunks. A version whose list is
// prev's has prev's chunks, and their stored bytes are prev's: summed
// again they would need the chunk set, which a no-change re-backup does
// not load.
func versionStats(l *fileList, sess *session, res sources.Result, took time.Duration, prev *Version) Stats {
	st := Stats{ReadBytes: sess.readBytes.Load(), NewBytes: sess.newBytes.Load(), NewChunks: sess.newChunks.Load(), Seconds: took.Seconds(), ChangedFiles: sess.changedFiles.Load()}
	st.Files, st.Dirs, st.Bytes = l.st.files, l.st.dirs, l.st.bytes
	if sameList(prev, l.refs) {
		st.StoredBytes, st.Chunks = prev.Stats.StoredBytes, prev.Stats.Chunks
	} else {
		ids := l.st.ids
		slices.SortFunc(ids, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
		ids = slices.Compact(ids)
		for _, id := range ids {
			st.StoredBytes += int64(sess.known.size(id))
		}
		st.Chunks = int64(len(ids))
	}
	l.st.ids = nil
	st.LogicalBytes = res.LogicalBytes
	if st.LogicalBytes == 0 {
		st.LogicalBytes = st.Bytes
	}
	return st
}

// mergeMeta returns discovery's metadata overlaid with the backup's.
func mergeMeta(maps ...map[string]string) map[string]string {
	meta := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			meta[k] = v
		}
	}
	return meta
}

// writeManifest stores m under the first free name at or after at and
// returns that name. The commit lock (one per object, across processes
// and hosts) covers choosing the name and writing the manifest; it is
// taken before and released before the catalog, so the two locks never
// wait on each other.
func (s *Store) writeManifest(ctx context.Context, ref ObjectRef, at time.Time, m *format.Manifest, waiting func(string)) (string, error) {
	dir := format.VersionName(ref, at)
	dir = dir[:strings.LastIndexByte(dir, '/')]
	held, err := lock.Commit(ctx, s.be, dir, lockWaiter(waiting))
	if err != nil {
		return "", err
	}
	defer held.Release()
	var name string
	for {
		m.Time = at
		name = format.VersionName(ref, at)
		if _, err := s.be.Stat(ctx, name); errors.Is(err, backends.ErrNotFound) {
			break
		} else if err != nil {
			return "", fmt.Errorf("stat %s: %w", name, err)
		}
		at = at.Add(time.Second)
	}
	stored := *m
	stored.Files = nil // in the FileList chunks
	data, err := format.EncodeManifest(&stored)
	if err != nil {
		return "", err
	}
	if err := s.be.Put(ctx, name, data); err != nil {
		return "", fmt.Errorf("write manifest %s: %w", name, err)
	}
	return name, nil
}
