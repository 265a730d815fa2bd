package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// fileSpec is one generated file.
type fileSpec struct {
	rel     string
	size    int64
	kind    kind
	changed bool // rewritten or edited in version 2
}

// dataset is a generated directory with its files.
type dataset struct {
	name  string
	dir   string
	seed  uint64
	files []fileSpec
}

func (d *dataset) bytes(version int) int64 {
	var n int64
	for _, f := range d.files {
		n += f.sizeAt(version)
	}
	return n
}

// largeFiles returns the files of the main set read through the mounts.
func (d *dataset) largeFiles() []fileSpec {
	var out []fileSpec
	for _, f := range d.files {
		if filepath.Dir(f.rel) == "large" {
			out = append(out, f)
		}
	}
	return out
}

// mainSpec lays out size bytes: two large files of size/4 each (at most
// 1 GiB; one random, one JSON lines that grows in version 2), medium files
// of 1-16 MiB for 60% of the rest and small files of 512 B-256 KiB
// (log-uniform) for 40%, half text, half random. One file in ten changes in
// version 2.
func mainSpec(cache string, size int64, seed uint64) *dataset {
	d := &dataset{name: "main", seed: seed, dir: filepath.Join(cache, "data", fmt.Sprintf("main-%d-s%d", size, seed))}
	large := min(size/4, 1<<30)
	d.files = append(d.files,
		fileSpec{rel: "large/random.bin", size: large, kind: kindRandom},
		fileSpec{rel: "large/records.jsonl", size: large, kind: kindText, changed: true})
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rest := size - 2*large
	medium := rest * 6 / 10
	for i := 0; medium > 0; i++ {
		n := min(medium, 1<<20+rng.Int64N(15<<20))
		medium -= n
		d.files = append(d.files, d.pick(rng, fmt.Sprintf("medium/m%04d", i), n))
	}
	small := rest - rest*6/10
	for i := 0; small > 0; i++ {
		n := min(small, int64(512*math.Pow(512, rng.Float64())))
		small -= n
		d.files = append(d.files, d.pick(rng, fmt.Sprintf("small/d%03d/f%06d", i/500, i), n))
	}
	for i := range d.files {
		if i%10 == 7 {
			d.files[i].changed = true
		}
	}
	return d
}

func (d *dataset) pick(rng *rand.Rand, rel string, size int64) fileSpec {
	if rng.IntN(2) == 0 {
		return fileSpec{rel: rel + ".json", size: size, kind: kindText}
	}
	return fileSpec{rel: rel + ".bin", size: size, kind: kindRandom}
}

// manySpec is n small text files (64 B-4 KiB) in directories of 1000, two
// levels deep, for listing speed.
func manySpec(cache string, n int, seed uint64) *dataset {
	d := &dataset{name: "many", seed: seed, dir: filepath.Join(cache, "data", fmt.Sprintf("many-%d-s%d", n, seed))}
	rng := rand.New(rand.NewPCG(seed, 0x3a11))
	for i := range n {
		leaf := i / 1000
		rel := fmt.Sprintf("d%02d/e%02d/f%07d.txt", leaf/10, leaf%10, i)
		d.files = append(d.files, fileSpec{rel: rel, size: 64 + rng.Int64N(4032), kind: kindText})
	}
	return d
}

// stateFile records which version the directory holds; it lives beside
// the directory so that it is not backed up.
func (d *dataset) stateFile() string { return d.dir + ".state" }

// ensure makes the directory hold version 1, generating what is missing
// and undoing version 2's changes.
func (d *dataset) ensure() error {
	state, _ := os.ReadFile(d.stateFile())
	switch string(state) {
	case "v1":
		return nil
	case "v2":
		if err := d.forChanged(d.writeV1); err != nil {
			return err
		}
		return os.WriteFile(d.stateFile(), []byte("v1"), 0o644)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		return err
	}
	logf("generating %s data set: %d files, %s in %s", d.name, len(d.files), human(float64(d.bytes(1))), d.dir)
	if err := parallel(d.files, d.writeV1); err != nil {
		return err
	}
	return os.WriteFile(d.stateFile(), []byte("v1"), 0o644)
}

// toV2 applies version 2's changes.
func (d *dataset) toV2() error {
	if err := os.WriteFile(d.stateFile(), []byte("dirty"), 0o644); err != nil {
		return err
	}
	if err := d.forChanged(d.writeV2); err != nil {
		return err
	}
	return os.WriteFile(d.stateFile(), []byte("v2"), 0o644)
}

func (d *dataset) forChanged(f func(fileSpec) error) error {
	var changed []fileSpec
	for _, s := range d.files {
		if s.changed {
			changed = append(changed, s)
		}
	}
	return parallel(changed, f)
}

// writeV1 writes a file's first version.
func (d *dataset) writeV1(f fileSpec) error {
	path := filepath.Join(d.dir, f.rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(stream(d.seed, f.rel, 1, f.kind), f.size)); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return out.Close()
}

// writeV2 changes a file: random files are rewritten whole; text files get
// an eighth rewritten in the middle and a sixteenth appended, as a database
// or log file changes.
func (d *dataset) writeV2(f fileSpec) error {
	path := filepath.Join(d.dir, f.rel)
	if f.kind == kindRandom {
		return writeAt(path, stream(d.seed, f.rel, 2, f.kind), 0, f.size)
	}
	s := stream(d.seed, f.rel, 2, f.kind)
	if err := writeAt(path, s, f.size/2, f.size/8); err != nil {
		return err
	}
	return writeAt(path, s, f.size, f.size/16)
}

func writeAt(path string, r io.Reader, off, n int64) error {
	out, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.NewOffsetWriter(out, off), io.LimitReader(r, n)); err != nil {
		out.Close()
		return fmt.Errorf("change %s: %w", path, err)
	}
	return out.Close()
}

// parallel runs f on every spec with GOMAXPROCS workers.
func parallel(specs []fileSpec, f func(fileSpec) error) error {
	ch := make(chan fileSpec)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range ch {
				if err := f(s); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for _, s := range specs {
		ch <- s
	}
	close(ch)
	wg.Wait()
	return first
}
