package harness

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

var nameSeq atomic.Int64

// UniqueName returns a lower-case identifier, safe unquoted in SQL, CQL and
// MongoDB database names, that starts with the test's name and is unique
// across the test processes sharing one server (it holds the process id).
func UniqueName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := b.String()
	if len(base) > 30 {
		base = base[:30]
	}
	return fmt.Sprintf("t_%s_%d_%d", base, os.Getpid(), nameSeq.Add(1))
}
