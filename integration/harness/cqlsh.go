package harness

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	cqlshOnce sync.Once
	cqlshPath string
	cqlshErr  error
)

// Cqlsh returns the path of stock cqlsh (PyPI's `cqlsh`, installed once
// per process by integration/cqlsh/install.sh into a cached venv), which
// tests run on a backup's files to show they need nothing of strata.
// Fails under CI when it cannot be installed, skips otherwise.
func Cqlsh(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs cqlsh: not installed under -short")
	}
	cqlshOnce.Do(func() {
		cmd := exec.Command("bash", filepath.Join(Root(), "integration", "cqlsh", "install.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			cqlshErr = err
			cqlshPath = stderr.String()
			return
		}
		cqlshPath = strings.TrimSpace(string(out))
	})
	if cqlshErr != nil {
		Unavailable(t, "cqlsh (integration/cqlsh/install.sh): %v\n%s", cqlshErr, tail([]byte(cqlshPath), 4000))
	}
	return cqlshPath
}
