package harness

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	pyOnce sync.Once
	pyPath string
	pyErr  error
)

// BSONCheck is what PyMongo made of a .bson file (integration/pymongo/bsoncheck.py).
type BSONCheck struct {
	Documents          int    `json:"documents"`
	ReencodedIdentical int    `json:"reencoded_identical"`
	DecodeFileIter     int    `json:"decode_file_iter"`
	SHA256             string `json:"sha256"`
}

// PyMongoCheck reads a mongodump .bson file with PyMongo's BSON library
// (installed once per process by integration/pymongo/install.sh into a
// cached venv): an independent reader, since mongorestore and bsondump
// cannot be installed here. Fails under CI when PyMongo is unavailable,
// skips otherwise.
func PyMongoCheck(t testing.TB, path string) BSONCheck {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PyMongo: not installed under -short")
	}
	pyOnce.Do(func() {
		cmd := exec.Command("bash", filepath.Join(Root(), "integration", "pymongo", "install.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			pyErr = err
			pyPath = stderr.String()
			return
		}
		pyPath = strings.TrimSpace(string(out))
	})
	if pyErr != nil {
		Unavailable(t, "PyMongo (integration/pymongo/install.sh): %v\n%s", pyErr, tail([]byte(pyPath), 4000))
	}
	out, err := exec.Command(pyPath, filepath.Join(Root(), "integration", "pymongo", "bsoncheck.py"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("bsoncheck.py %s: %v\n%s", path, err, tail(out, 4000))
	}
	var c BSONCheck
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("bsoncheck.py %s: %v\n%s", path, err, out)
	}
	return c
}
