package cassandra

import (
	"bufio"
	"bytes"
	"context"
	_ "embed" // the Java helper and its logging config
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// The bulk path of a load (`--sstable-jars DIR`): instead of sending every
// row to the target as a CQL write, which costs the target's write path
// (commit log, memtables, flushes: as much CPU as cqlsh COPY FROM), rows go
// to a Java process running Cassandra's own CQLSSTableWriter from the
// jars of the target's version, which writes them as SSTables, and
// sstableloader's code streams those to the nodes that own them, as
// medusa and sstableloader users restore today. Every row keeps its write
// time and the TTL it has left; the result is the same cells as the CQL
// path. For a large table the helper streams each segment of SSTables
// while it writes the next. Statements the writer cannot take (counter
// updates, list additions, deletes) still go through CQL.

//go:embed bulk/StrataBulk.java
var bulkJava []byte

//go:embed bulk/logback.xml
var bulkLogback []byte

// bulkJVMFlags are the module openings Cassandra needs on Java 17 (its
// conf/jvm17-clients.options and jvm17-server.options, as the harness's
// integration/cassandra/env.sh gives its nodes), a collector that suits a
// batch job, and a heap for the writer's sort buffer (up to 2 GiB).
var bulkJVMFlags = func() []string {
	var f []string
	for _, m := range []string{"java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
		"java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
		"jdk.unsupported/sun.misc", "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach"} {
		f = append(f, "--add-exports="+m+"=ALL-UNNAMED")
	}
	for _, m := range []string{"java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
		"java.base/jdk.internal.reflect", "java.base/jdk.internal.math", "java.base/jdk.internal.module",
		"java.base/jdk.internal.util.jar", "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch",
		"java.base/java.io", "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
		"java.base/java.util", "java.base/java.nio"} {
		f = append(f, "--add-opens="+m+"=ALL-UNNAMED")
	}
	return append(f, "-Dio.netty.tryReflectionSetAccessible=true", "-XX:+UseParallelGC", "-Xms1g", "-Xmx2g")
}()

// bulkBufferMiB is the writer's sort buffer (each fill becomes one
// SSTable). A segment is the input after which the helper closes its
// writer and streams what it wrote while it writes the next one, so that
// scratch space stays near two segments' SSTables however large the
// table; each segment's streaming costs a new connection (3.5 s here),
// so a load of at most two segments' input is written whole, then
// streamed.
const (
	bulkBufferMiB  = 256
	bulkSegmentMiB = 1024 // the default segment
)

// bulkSegment is the segment-mib argument for a load of input bytes in
// segments of seg bytes (0: the default): 0 (one segment) up to two
// segments' worth.
func bulkSegment(input, seg int64) int64 {
	if seg <= 0 {
		seg = bulkSegmentMiB << 20
	}
	if input <= 2*seg {
		return 0
	}
	return max(seg>>20, 1)
}

// bulkTarget is where and how the bulk path connects.
type bulkTarget struct {
	Java           string // the java binary (checkBulk)
	Jars           string // a Cassandra lib/ directory
	Hosts          []string
	Input          int64 // bytes of the version's data parts (about the rows' JSON)
	Segment        int64 // bytes of input per segment, 0 for the default
	User, Password string
}

// bulkLoad is one running Java helper.
type bulkLoad struct {
	cmd     *exec.Cmd
	stdin   interface{ Close() error }
	w       *bufio.Writer
	work    string // working directory (sources and SSTables), removed at the end
	stdout  bytes.Buffer
	stderr  *tailWriter
	line    []byte
	waitErr error
	once    sync.Once
}

// checkJars says whether dir looks like a Cassandra lib/ directory.
func checkJars(dir string) error {
	for _, pat := range []string{"cassandra-all-*.jar", "apache-cassandra-*.jar"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return nil
		}
	}
	return fmt.Errorf("--sstable-jars %s: no cassandra-all-*.jar or apache-cassandra-*.jar there (give the lib/ directory of a Cassandra of the target's version)", dir)
}

// javaBin finds java: $JAVA_HOME/bin/java, else java on PATH.
func javaBin() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		p := filepath.Join(h, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", errors.New("--sstable-jars needs java from a JDK 11 or later (it compiles its helper): set JAVA_HOME or put java on PATH")
	}
	return p, nil
}

// checkBulk refuses what the bulk path cannot do before the target is
// touched; it returns the java to run.
func checkBulk(jars string, cfg Config) (java string, err error) {
	if cfg.TLS != nil {
		return "", errors.New("--sstable-jars cannot stream over TLS yet: leave it out to load through CQL")
	}
	if err := checkJars(jars); err != nil {
		return "", err
	}
	return javaBin()
}

// startBulk sets the load's bulk path up for v's rows, once the schema
// is there: a counter table stays on CQL, with a warning.
func (l *load) startBulk(ctx context.Context, v sources.VersionReader, bt bulkTarget) error {
	if l.t.Counter {
		l.stats.Warnings = append(l.stats.Warnings, "--sstable-jars: "+l.t.qname()+" is a counter table, whose updates cannot be written as SSTables: loaded through CQL")
		return nil
	}
	ddl, err := l.sf.statements(l.rn)
	if err != nil {
		return err
	}
	for _, e := range v.Entries() {
		if isDataPart(e) {
			bt.Input += e.Size
		}
	}
	l.bulk, err = startBulk(ctx, bt, l.t, ddl)
	return err
}

// startBulk starts the helper for the target table t, created by the
// schema statements ddl (its CREATE TYPEs and CREATE TABLE, renamed).
func startBulk(ctx context.Context, bt bulkTarget, t *table, ddl []string) (*bulkLoad, error) {
	work, err := os.MkdirTemp("", "strata-sstables-")
	if err != nil {
		return nil, fmt.Errorf("sstable working directory: %w", err)
	}
	b := &bulkLoad{work: work, stderr: &tailWriter{max: 8 << 10}}
	src, logback := filepath.Join(work, "StrataBulk.java"), filepath.Join(work, "logback.xml")
	err = os.WriteFile(src, bulkJava, 0o600)
	if err == nil {
		err = os.WriteFile(logback, bulkLogback, 0o600)
	}
	if err != nil {
		b.cleanup()
		return nil, fmt.Errorf("write the sstable helper: %w", err)
	}
	args, env := bulkArgs(bt, t, ddl, filepath.Join(work, "sstables"))
	argv := append(append([]string{}, bulkJVMFlags...), "-Dlogback.configurationFile="+logback,
		"-cp", filepath.Join(bt.Jars, "*"), src)
	b.cmd = exec.CommandContext(ctx, bt.Java, append(argv, args...)...)
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, b.stderr
	in, err := b.cmd.StdinPipe()
	if err != nil {
		b.cleanup()
		return nil, err
	}
	b.stdin, b.w = in, bufio.NewWriterSize(in, 1<<20)
	if err := b.cmd.Start(); err != nil {
		b.cleanup()
		return nil, fmt.Errorf("start %s: %w", bt.Java, err)
	}
	return b, nil
}

// bulkArgs are the helper's NAME=VALUE arguments and the environment
// that carries the password (never an argument: arguments show in ps).
func bulkArgs(bt bulkTarget, t *table, ddl []string, dir string) (args, env []string) {
	port := ""
	var hosts []string
	for _, h := range bt.Hosts {
		if host, p, err := net.SplitHostPort(h); err == nil {
			h, port = host, p
		}
		hosts = append(hosts, h)
	}
	args = []string{"dir=" + dir, "keyspace=" + t.Keyspace, "table=" + t.Name, "hosts=" + strings.Join(hosts, ","),
		"buffer-mib=" + strconv.Itoa(bulkBufferMiB), "segment-mib=" + strconv.FormatInt(bulkSegment(bt.Input, bt.Segment), 10),
		"insert=INSERT INTO " + t.qname() + " JSON ? DEFAULT UNSET USING TIMESTAMP ? AND TTL ?"}
	if port != "" {
		args = append(args, "port="+port)
	}
	for _, s := range ddl {
		switch u := strings.ToUpper(strings.TrimSpace(s)); {
		case strings.HasPrefix(u, "CREATE TYPE"):
			args = append(args, "type="+s)
		case strings.HasPrefix(u, "CREATE TABLE"):
			args = append(args, "create="+s)
		}
	}
	if bt.User != "" {
		args = append(args, "user="+bt.User)
		env = append(env, "STRATA_BULK_PASSWORD="+bt.Password)
	}
	return args, env
}

// add hands one row (a statement's JSON object) to the writer.
func (b *bulkLoad) add(ts int64, ttl int, json string) error {
	b.line = strconv.AppendInt(b.line[:0], ts, 10)
	b.line = append(b.line, '\t')
	b.line = strconv.AppendInt(b.line, int64(ttl), 10)
	b.line = append(b.line, '\t')
	b.line = append(b.line, json...)
	b.line = append(b.line, '\n')
	if _, err := b.w.Write(b.line); err != nil {
		// The helper has most likely exited: let its message be complete.
		_ = b.stdin.Close()
		_ = b.wait()
		return b.failed(fmt.Errorf("write to the sstable helper: %w", err))
	}
	return nil
}

// finish closes the input and waits while the helper writes the last
// SSTables and streams them all; the summary is its last line.
func (b *bulkLoad) finish() (string, error) {
	defer b.cleanup()
	err := b.w.Flush()
	if cerr := b.stdin.Close(); err == nil {
		err = cerr
	}
	if werr := b.wait(); werr != nil || err != nil {
		return "", b.failed(errors.Join(err, werr))
	}
	out := strings.TrimSpace(b.stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if !strings.HasPrefix(out, "rows=") {
		return "", b.failed(fmt.Errorf("the sstable helper ended without its summary (%q)", out))
	}
	return out, nil
}

// abort stops the helper (nothing it wrote reached the cluster unless
// streaming had begun) and removes its files.
func (b *bulkLoad) abort() {
	_ = b.stdin.Close()
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
	}
	_ = b.wait()
	b.cleanup()
}

func (b *bulkLoad) wait() error {
	b.once.Do(func() { b.waitErr = b.cmd.Wait() })
	return b.waitErr
}

// failed adds what the helper said on stderr to err (but javac's notes
// about deprecated calls).
func (b *bulkLoad) failed(err error) error {
	var said []string
	for _, l := range strings.Split(b.stderr.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Note: ") {
			said = append(said, l)
		}
	}
	if msg := strings.Join(said, "\n"); msg != "" {
		return fmt.Errorf("sstable load: %w; the helper said:\n%s", err, msg)
	}
	return fmt.Errorf("sstable load: %w", err)
}

func (b *bulkLoad) cleanup() { _ = os.RemoveAll(b.work) }

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
