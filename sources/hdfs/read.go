package hdfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/sources"
)

// readFile stores one changed file: kept when its DataNode checksum
// equals the recorded one, its unchanged prefix referenced and the rest
// read when it grew, read whole otherwise.
func (b *backup) readFile(ctx context.Context, c *conn, job fileJob) error {
	full := b.full(job.rel)
	if kept, err := b.keepByChecksum(ctx, c, job, full); kept || err != nil {
		return err
	}
	fr, err := openListed(c.c, full, job.st)
	if err != nil {
		return err
	}
	defer fr.Close()
	e, fp := job.e, job.fp
	var prefix int64
	if job.prev != nil {
		prefix = fp.keptPrefix(*job.prev)
	}
	if size := fr.Stat().Size(); size != fp.size {
		// Read live and changed since it was listed: store what Open saw,
		// with no fingerprint, so the next backup reads it again.
		b.changed.add(job.rel)
		e.Size, fp.blocks, prefix = size, nil, min(prefix, size)
	}
	if prefix == e.Size && job.prev != nil && prefix == job.prev.size {
		prefix = 0 // same bytes but other blocks (rewritten): read to be sure
	}
	r, err := b.reader(ctx, fr, prefix)
	if err != nil {
		return fmt.Errorf("read %s: %w", full, err)
	}
	defer r.Close()
	if prefix > 0 {
		err = b.addGrown(ctx, e, prefix, r)
	} else {
		e.Fingerprint = fingerprintOr(fp)
		err = b.w.Add(ctx, e, r)
	}
	if isNotFound(err) && b.plan.snapshot == "" {
		b.warn.add(full + " vanished during the backup")
		return nil
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", full, err)
	}
	b.checkLive(c, job.rel, full, fr.Stat())
	return nil
}

// fingerprintOr is fp's text, or "" when the file changed after it was
// listed (read live), so the next backup reads it again.
func fingerprintOr(fp fingerprint) string {
	if fp.blocks == nil && fp.size > 0 {
		return ""
	}
	return fp.String()
}

// addGrown stores a file whose first prefix bytes are the previous
// version's: a reference to them, then the bytes read from r.
func (b *backup) addGrown(ctx context.Context, e sources.Entry, prefix int64, r io.Reader) error {
	b.stats.appended.Add(1)
	first := true
	buf := make([]byte, 1<<20)
	// The fingerprint is set before the spans are read, so it lists the
	// block MD5s known now (the shared ones); new blocks get theirs when
	// the file is next read whole.
	e.Fingerprint = ""
	return b.w.AddSpans(ctx, e, func() (sources.Span, error) {
		if first {
			first = false
			return sources.Span{Off: 0, Len: prefix}, nil
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			return sources.Span{Data: buf[:n]}, nil
		}
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return sources.Span{}, err
	})
}

// isNotFound reports a file gone: deleted between listing and reading.
func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || (err != nil && strings.Contains(err.Error(), "FileNotFoundException"))
}

// keepByChecksum keeps a file of unchanged length and block sizes (a
// file rewritten with the same bytes, a copy put back) whose checksum as
// the DataNodes compute it from their checksum files (MD5 of each
// block's MD5 of CRC32C) equals the one computed from the previous
// version's content, which is read from the store, not from HDFS.
func (b *backup) keepByChecksum(ctx context.Context, c *conn, job fileJob, full string) (bool, error) {
	p := job.prev
	pr, ok := b.prev.(sources.PreviousReader)
	if !ok || p == nil || b.crc == 0 || p.size != job.fp.size || len(p.blocks) != len(job.fp.blocks) || job.fp.size == 0 {
		return false, nil
	}
	for i, bl := range p.blocks {
		if bl.n != job.fp.blocks[i].n {
			return false, nil
		}
	}
	fr, err := openListed(c.c, full, job.st)
	if err != nil {
		return false, err
	}
	defer fr.Close()
	got, err := fr.Checksum()
	if err != nil {
		return false, nil // the read that follows reports a real problem
	}
	want, err := contentChecksum(ctx, pr, job.rel, p.blocks, b.crc)
	if err != nil {
		return false, fmt.Errorf("checksum of %s in the previous version: %w", job.rel, err)
	}
	if !bytes.Equal(got, want) {
		return false, nil
	}
	e := job.e
	e.Fingerprint = job.fp.String()
	b.stats.checksumKept.Add(1)
	return true, b.keep(ctx, e)
}

// contentChecksum computes the HDFS file checksum of the previous
// version's file rel, with blocks' boundaries.
func contentChecksum(ctx context.Context, pr sources.PreviousReader, rel string, blocks []blockPrint, bpc int) ([]byte, error) {
	r, err := pr.Open(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	sum := newSummer(blocks, 0, bpc)
	if _, err := io.Copy(sum, r); err != nil {
		return nil, err
	}
	cs, ok := fileChecksum(sum.blocks)
	if !ok {
		return nil, fmt.Errorf("content ends before its blocks")
	}
	return cs, nil
}

// checkLive records a file read live that changed while it was read.
func (b *backup) checkLive(c *conn, rel, full string, atOpen fs.FileInfo) {
	if b.plan.snapshot != "" {
		return
	}
	fi, err := c.c.Stat(full)
	if err != nil || fi.Size() != atOpen.Size() || !fi.ModTime().Equal(atOpen.ModTime()) {
		b.changed.add(rel)
	}
}

// reader streams fr from off, counting the bytes read from DataNodes,
// with the next megabytes fetched while the current ones are consumed.
func (b *backup) reader(ctx context.Context, fr *hdfs.FileReader, off int64) (io.ReadCloser, error) {
	if off > 0 {
		if _, err := fr.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	counted := &countingReader{r: fr, n: &b.stats.bytesRead}
	return prefetch(ctx, counted, fr.Stat().Size()-off, 4), nil
}

// countingReader counts what passes.
type countingReader struct {
	r io.Reader
	n interface{ Add(int64) int64 }
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(int64(n))
	}
	return n, err
}
