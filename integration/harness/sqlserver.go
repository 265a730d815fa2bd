package harness

import (
	"os"
	"testing"
)

// SQLServerDSNEnv names the variable holding a SQL Server DSN for tests.
// No SQL Server can be installed from the registries this project uses, so
// it must be supplied; see integration/sqlserver/README.md.
const SQLServerDSNEnv = "STRATA_SQLSERVER_DSN"

// SQLServerDSN returns $STRATA_SQLSERVER_DSN, or skips the test when it is
// unset. This is the one server whose absence skips even under CI=true:
// nothing here can start one.
func SQLServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(SQLServerDSNEnv)
	if dsn == "" {
		t.Skipf("skipping: no SQL Server; set %s=sqlserver://user:pass@host:1433?database=strata "+
			"to run SQL Server tests (see integration/sqlserver/README.md)", SQLServerDSNEnv)
	}
	return dsn
}
