package harness

import "testing"

// FerretDB addresses: two instances of FerretDB v1 (SQLite handler) started
// together under the server name "ferretdb" by integration/ferretdb/up.sh.
// The source instance holds the databases tests back up; the restore
// instance is an empty target, so restores never touch what they read.
const (
	FerretDBURI        = "mongodb://127.0.0.1:27017/"
	FerretDBRestoreURI = "mongodb://127.0.0.1:27018/"
)

// FerretDB starts the FerretDB instances if needed and returns the MongoDB
// URI of the source instance (127.0.0.1:27017).
func FerretDB(t testing.TB) (uri string) {
	t.Helper()
	Require(t, "ferretdb")
	return FerretDBURI
}

// FerretDBRestore starts the FerretDB instances if needed and returns the
// MongoDB URI of the restore-target instance (127.0.0.1:27018).
func FerretDBRestore(t testing.TB) (uri string) {
	t.Helper()
	Require(t, "ferretdb")
	return FerretDBRestoreURI
}
