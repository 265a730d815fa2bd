// Package joblog is the daemon's durable memory: jobs (with their state,
// progress and outcome), alerts, policies made through the API and when
// each policy last ran, in a local Pebble database under the state dir.
// Every change is written with sync, so after a crash or SIGKILL the
// daemon finds the jobs that were running and runs them again, and a
// schedule resumes from the last run instead of from scratch.
//
// Keys: "j/<id>" job, "a/<id>" alert, "p/<name>" policy, "r/<policy>"
// last scheduled run, "seq" the id counter. Values are JSON.
package joblog

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
)

// ErrNotFound is returned (wrapped) for an unknown job or policy.
var ErrNotFound = errors.New("not found")

// Log is an open job log. Its methods are safe for concurrent use.
type Log struct {
	db  *pebble.DB
	mu  sync.Mutex // orders id allocation
	seq uint64
}

// Open opens (creating) the job log in dir. Only one process may hold it:
// a second daemon on the same state dir fails here.
func Open(dir string) (*Log, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("open job log %s: %w (is another daemon using this state_dir?)", dir, err)
	}
	l := &Log{db: db}
	v, closer, err := db.Get([]byte("seq"))
	switch {
	case err == nil:
		l.seq, _ = strconv.ParseUint(string(v), 10, 64)
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		db.Close()
		return nil, fmt.Errorf("read job log %s: %w", dir, err)
	}
	return l, nil
}

// Close closes the database.
func (l *Log) Close() error { return l.db.Close() }

// NextID returns a new id with prefix, ordered after every earlier one.
func (l *Log) NextID(prefix string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if err := l.db.Set([]byte("seq"), []byte(strconv.FormatUint(l.seq, 10)), pebble.Sync); err != nil {
		return "", fmt.Errorf("job log: %w", err)
	}
	return fmt.Sprintf("%s%08d", prefix, l.seq), nil
}

func (l *Log) put(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := l.db.Set([]byte(key), b, pebble.Sync); err != nil {
		return fmt.Errorf("job log: write %s: %w", key, err)
	}
	return nil
}

func (l *Log) get(key string, v any) error {
	b, closer, err := l.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("job log: read %s: %w", key, err)
	}
	defer closer.Close()
	return json.Unmarshal(b, v)
}

func (l *Log) del(key string) error {
	if err := l.db.Delete([]byte(key), pebble.Sync); err != nil {
		return fmt.Errorf("job log: delete %s: %w", key, err)
	}
	return nil
}

// scan calls fn with the value of every key with prefix, in key order.
func (l *Log) scan(prefix string, fn func(key string, val []byte) error) error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: []byte(prefix + "\xff")})
	if err != nil {
		return fmt.Errorf("job log: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(string(it.Key()), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// SetLastRun records when a policy's scheduled run started.
func (l *Log) SetLastRun(policy string, t time.Time) error {
	return l.put("r/"+policy, t)
}

// LastRun is when a policy's last scheduled run started; zero if never.
func (l *Log) LastRun(policy string) (time.Time, error) {
	var t time.Time
	err := l.get("r/"+policy, &t)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	return t, err
}

// PutPolicy stores a policy made through the API (any JSON value).
func (l *Log) PutPolicy(name string, p any) error { return l.put("p/"+name, p) }

// DeletePolicy removes a policy made through the API.
func (l *Log) DeletePolicy(name string) error {
	if err := l.get("p/"+name, &json.RawMessage{}); err != nil {
		return err
	}
	return l.del("p/" + name)
}

// Policies returns the API's policies as stored, by name.
func (l *Log) Policies() ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := l.scan("p/", func(_ string, v []byte) error {
		out = append(out, append(json.RawMessage(nil), v...))
		return nil
	})
	return out, err
}

// quiet silences Pebble's informational logging.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
