package relational

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestSQLServerConformance runs the sources suite against the SQL Server
// that STRATA_SQLSERVER_DSN names (skipped without one: none can be
// installed here): one table (k varbinary primary key, data
// varbinary(max)) per object in a schema of its own.
func TestSQLServerConformance(t *testing.T) {
	dsn := harness.SQLServerDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbName := u.Query().Get("database")
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sourcetest.Run(t, sourcetest.Harness{
		Setup: func(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
			schema := fmt.Sprintf("st%d", time.Now().UnixNano())
			msExec(t, db, "CREATE SCHEMA "+msIdent(schema))
			t.Cleanup(func() { msDropSchema(db, schema) })
			for _, spec := range specs {
				msExec(t, db, "CREATE TABLE "+msIdent(schema, spec.Name)+" (k varbinary(800) PRIMARY KEY, data varbinary(max))")
				for _, it := range spec.Items {
					msExec(t, db, "INSERT INTO "+msIdent(schema, spec.Name)+" VALUES (@p1, @p2)", []byte(it.Name), it.Data)
				}
			}
			return discoverTables(t, msDialect{}, dsn, dbName, schema, specs)
		},
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			msExec(t, db, "UPDATE "+msIdent(obj.Meta["schema"], obj.Meta["table"])+" SET data = @p1 WHERE k = @p2", item.Data, []byte(item.Name))
		},
		NameOK: func(name string) bool {
			return len(name) < 100 && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_ ") == ""
		},
		Reuses: true,
	})
}

func msExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%.200s: %v", q, err)
	}
}

func msDropSchema(db *sql.DB, schema string) {
	rows, err := db.Query("SELECT name FROM sys.tables WHERE schema_id = SCHEMA_ID(@p1)", schema)
	if err == nil {
		var names []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
		for _, n := range names {
			_, _ = db.Exec("DROP TABLE " + msIdent(schema, n))
		}
	}
	_, _ = db.Exec("DROP SCHEMA " + msIdent(schema))
}

// TestSQLServerTypes checks the pieces of the SQL Server dialect that need
// no server: type spelling, the select expression per type, the key
// positions in a bcp line and the format file of a table.
func TestSQLServerTypes(t *testing.T) {
	specs := []struct {
		base                string
		maxLen, prec, scale int
		want                string
	}{
		{"nvarchar", 40, 0, 0, "nvarchar(20)"}, {"varchar", -1, 0, 0, "varchar(max)"}, {"decimal", 17, 18, 4, "decimal(18,4)"},
		{"datetime2", 8, 27, 7, "datetime2(7)"}, {"int", 4, 10, 0, "int"}, {"varbinary", 16, 0, 0, "varbinary(16)"},
	}
	for _, s := range specs {
		if got := msTypeSpec(s.base, s.maxLen, s.prec, s.scale); got != s.want {
			t.Errorf("msTypeSpec(%s) = %q, want %q", s.base, got, s.want)
		}
	}
	exprs := map[string]string{
		"varbinary(16)": "CAST([c] AS varbinary(max))", "datetime2(7)": "CONVERT(nvarchar(max), [c], 121)",
		"float": "CONVERT(nvarchar(max), [c], 3)", "geometry": "CAST([c] AS varbinary(max))", "nvarchar(20)": "CONVERT(nvarchar(max), [c])",
	}
	for typ, want := range exprs {
		if got := msSelectExpr(column{Name: "c", Type: typ}); got != want {
			t.Errorf("msSelectExpr(%s) = %q, want %q", typ, got, want)
		}
	}
	line, err := bcpRow(nil, []bcpKind{bcpText, bcpText, bcpText}, [][]byte{[]byte("1"), []byte("x"), []byte("k2")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(keyOf(nil, line, msDialect{}.lineKey([]int{0, 2}))); got != "1\tk2" {
		t.Errorf("key of a bcp line = %q, want fields 0 and 2", got)
	}
	tb := &table{tableName: tableName{Schema: "dbo", Name: "t"}, Columns: []column{{Name: "id", Type: "int"}, {Name: "n", Type: "nvarchar(20)", Collation: "Latin1_General_CI_AS"}}}
	f := msDialect{}.extras(tb, "t.bcp")
	if len(f) != 1 || f[0].Name != "t.fmt" || !strings.Contains(string(f[0].Data), "Latin1_General_CI_AS") {
		t.Errorf("extras = %+v, want t.fmt naming the collation", f)
	}
	if got := msRedacted("sqlserver://u:s3cret@db.example:1433?database=shop"); got != "sqlserver://db.example:1433/shop" {
		t.Errorf("msRedacted = %q", got)
	}
}
