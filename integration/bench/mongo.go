package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Databases the restores load into, on the restore instance.
const (
	mongoStrataDB  = "strata_bench_r"
	mongoPeerDB    = "strata_bench_p"
	mongoCluster   = "m"
	mongoPeerLabel = "single-cursor dump (mongodump stand-in)"
)

// mongoBench is the MongoDB part: strata's backup and restore of one
// generated collection against a single-cursor dump and load.
type mongoBench struct {
	cfg      config
	bin      string // strata binary
	dir      string // this part's run directory
	src, dst *mongo.Client
	spec     mongoSpec
	figs     map[string]float64 // "step.metric" -> value
	errs     map[string]error   // step -> why it has no figures
	mem      map[string]int64   // step -> peak bytes in use on the machine
	steps    []string           // in the order they ran
}

// mongoPart runs the MongoDB part; its results are printed by report.
func (b *bench) mongoPart(ctx context.Context) *mongoBench {
	m := &mongoBench{cfg: b.cfg, dir: filepath.Join(b.runDir, "mongo"), spec: mongoSpecFor(b.cfg.mongoSize, b.cfg.seed),
		figs: map[string]float64{}, errs: map[string]error{}, mem: map[string]int64{}}
	m.step("setup", nil, func() error { return m.setup(ctx, b) })
	if m.src != nil {
		defer m.src.Disconnect(context.Background())
	}
	if m.dst != nil {
		defer m.dst.Disconnect(context.Background())
	}
	if b.cfg.prepare {
		return m
	}
	m.step("backup1", []string{"setup"}, func() error { return m.strataBackup(ctx, "backup1") })
	m.step("restore", []string{"backup1"}, func() error { return m.strataRestore(ctx) })
	m.step("dump", []string{"setup"}, func() error { return m.dump(ctx) })
	m.step("load", []string{"dump"}, func() error { return m.load(ctx) })
	m.step("update", []string{"backup1"}, func() error {
		start := time.Now()
		err := setRevision(ctx, m.src.Database(mongoDB).Collection(mongoColl), m.spec, 1)
		logf("mongo: update took %s", time.Since(start).Round(time.Second))
		time.Sleep(time.Second) // a new version second
		return err
	})
	m.step("backup2", []string{"update"}, func() error { return m.strataBackup(ctx, "backup2") })
	m.cleanup(ctx)
	return m
}

// step runs f unless a dependency failed, watching the machine's memory.
func (m *mongoBench) step(name string, deps []string, f func() error) {
	m.steps = append(m.steps, name)
	for _, d := range deps {
		if m.errs[d] != nil {
			m.errs[name] = fmt.Errorf("%w: %s failed", errSkipped, d)
			return
		}
	}
	logf("mongo %s", name)
	w := watchMemory()
	err := f()
	m.mem[name] = w.end()
	m.errs[name] = err
	if err != nil {
		logf("mongo %s: %v", name, err)
		return
	}
	var figs []string
	for k, v := range m.figs {
		if strings.HasPrefix(k, name+".") {
			figs = append(figs, fmt.Sprintf("%s=%.2f", strings.TrimPrefix(k, name+"."), v))
		}
	}
	logf("mongo %s: %s (peak memory in use %s)", name, strings.Join(figs, " "), human(float64(m.mem[name])))
}

func (m *mongoBench) set(key string, v float64) { m.figs[key] = v }

// setup finds strata, connects, and loads (or reuses) the collection.
func (m *mongoBench) setup(ctx context.Context, b *bench) error {
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return err
	}
	for _, t := range b.tools {
		if s, ok := t.tool.(strata); ok && t.setupErr == nil {
			m.bin = s.bin
		}
	}
	if m.bin == "" && !b.cfg.prepare {
		var err error
		if m.bin, err = buildStrata(ctx, b.cfg.repoRoot, m.dir); err != nil {
			return err
		}
	}
	var err error
	if m.src, err = mongo.Connect(ctx, options.Client().ApplyURI(m.cfg.mongoURI)); err != nil {
		return fmt.Errorf("connect %s: %w", m.cfg.mongoURI, err)
	}
	if m.dst, err = mongo.Connect(ctx, options.Client().ApplyURI(m.cfg.mongoRestoreURI)); err != nil {
		return fmt.Errorf("connect %s: %w", m.cfg.mongoRestoreURI, err)
	}
	if err := ensureMongoData(ctx, m.src, m.spec); err != nil {
		return err
	}
	if b.cfg.prepare {
		return nil
	}
	return runCmd(m.strata(ctx, "init"))
}

func (m *mongoBench) store() string { return filepath.Join(m.dir, "strata-store") }

func (m *mongoBench) strata(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, m.bin, append([]string{"--store", m.store(), "--cache-dir", filepath.Join(m.dir, "strata-cache"), "--quiet"}, args...)...)
}

// strataBackup backs the collection up and records docs/s, MB/s (of the
// version's bytes) and the store's growth.
func (m *mongoBench) strataBackup(ctx context.Context, step string) error {
	before, err := diskUsage(m.store())
	if err != nil {
		return err
	}
	d, err := timed(func() error {
		return runCmd(m.strata(ctx, "backup", "mongodb", "--cluster", mongoCluster, "--uri", m.cfg.mongoURI, "--only", mongoDB+"/"+mongoColl))
	})
	if err != nil {
		return err
	}
	after, err := diskUsage(m.store())
	if err != nil {
		return err
	}
	bytes, docs, err := m.latestVersion(ctx)
	if err != nil {
		return err
	}
	if docs != m.spec.Count {
		return fmt.Errorf("version holds %d documents, the collection %d", docs, m.spec.Count)
	}
	m.set(step+".docs", float64(docs)/d.Seconds())
	m.set(step+".mbs", rate(bytes, d))
	m.set(step+".bytes", float64(bytes))
	m.set(step+".added", float64(after-before))
	m.set(step+".store", float64(after))
	return nil
}

// latestVersion returns the latest version's bytes and document count.
func (m *mongoBench) latestVersion(ctx context.Context) (bytes, docs int64, err error) {
	cmd := m.strata(ctx, "--json", "versions", mongoCluster+"/"+mongoDB+"/"+mongoColl)
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("strata versions: %w", err)
	}
	var vs []struct {
		Time  time.Time         `json:"time"`
		Meta  map[string]string `json:"meta"`
		Stats struct {
			Bytes int64 `json:"bytes"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(out, &vs); err != nil {
		return 0, 0, fmt.Errorf("strata versions --json: %w: %s", err, tail(string(out), 300))
	}
	if len(vs) == 0 {
		return 0, 0, fmt.Errorf("strata versions lists no version of %s/%s", mongoDB, mongoColl)
	}
	last := vs[0]
	for _, v := range vs {
		if v.Time.After(last.Time) {
			last = v
		}
	}
	docs, err = strconv.ParseInt(last.Meta["documents"], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("version meta documents %q: %w", last.Meta["documents"], err)
	}
	return last.Stats.Bytes, docs, nil
}

// strataRestore restores the latest version into the restore instance.
func (m *mongoBench) strataRestore(ctx context.Context) error {
	d, err := timed(func() error {
		return runCmd(m.strata(ctx, "restore", "--to-mongodb", m.cfg.mongoRestoreURI, "--db", mongoStrataDB, "--drop",
			mongoCluster+"/"+mongoDB+"/"+mongoColl+"/latest"))
	})
	if err != nil {
		return err
	}
	if err := m.checkCount(ctx, mongoStrataDB); err != nil {
		return err
	}
	m.set("restore.docs", float64(m.spec.Count)/d.Seconds())
	m.set("restore.mbs", rate(int64(m.figs["backup1.bytes"]), d))
	return nil
}

func (m *mongoBench) bsonPath() string { return filepath.Join(m.dir, "peer", mongoColl+".bson") }

// dump is the peer's backup.
func (m *mongoBench) dump(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(m.bsonPath()), 0o755); err != nil {
		return err
	}
	var n int64
	d, err := timed(func() (err error) {
		n, err = peerDump(ctx, m.src.Database(mongoDB).Collection(mongoColl), m.bsonPath())
		return err
	})
	if err != nil {
		return err
	}
	if n != m.spec.Count {
		return fmt.Errorf("dumped %d documents, the collection has %d", n, m.spec.Count)
	}
	st, err := os.Stat(m.bsonPath())
	if err != nil {
		return err
	}
	m.set("dump.docs", float64(n)/d.Seconds())
	m.set("dump.mbs", rate(st.Size(), d))
	m.set("dump.bytes", float64(st.Size()))
	m.set("dump.store", float64(st.Size()))
	return nil
}

// load is the peer's restore, into a freshly dropped database.
func (m *mongoBench) load(ctx context.Context) error {
	coll := m.dst.Database(mongoPeerDB).Collection(mongoColl)
	if err := coll.Drop(ctx); err != nil {
		return fmt.Errorf("drop %s.%s: %w", mongoPeerDB, mongoColl, err)
	}
	var n int64
	d, err := timed(func() (err error) {
		n, err = peerLoad(ctx, coll, m.bsonPath())
		return err
	})
	if err != nil {
		return err
	}
	if err := m.checkCount(ctx, mongoPeerDB); err != nil {
		return err
	}
	m.set("load.docs", float64(n)/d.Seconds())
	m.set("load.mbs", rate(int64(m.figs["dump.bytes"]), d))
	return nil
}

// checkCount compares a restored collection's count with the source's.
func (m *mongoBench) checkCount(ctx context.Context, db string) error {
	n, err := m.dst.Database(db).Collection(mongoColl).EstimatedDocumentCount(ctx)
	if err != nil {
		return fmt.Errorf("count %s.%s: %w", db, mongoColl, err)
	}
	if n != m.spec.Count {
		return fmt.Errorf("%s.%s has %d documents after the restore, the source %d", db, mongoColl, n, m.spec.Count)
	}
	return nil
}

// cleanup drops the restored collections so the restore instance stays
// small (collections, not databases: see loadMongoData).
func (m *mongoBench) cleanup(ctx context.Context) {
	if m.dst == nil {
		return
	}
	for _, db := range []string{mongoStrataDB, mongoPeerDB} {
		if err := m.dst.Database(db).Collection(mongoColl).Drop(ctx); err != nil {
			logf("warning: drop %s: %v", db, err)
		}
	}
}
