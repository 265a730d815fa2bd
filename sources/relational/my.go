package relational

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// myDialect is MariaDB/MySQL: go-sql-driver/mysql, LOAD DATA text files.
type myDialect struct{}

func (myDialect) name() string { return KindMySQL }
func (myDialect) ext() string  { return "tsv" }

func (myDialect) lineKey(key []int) []int { return key }

// myConfig parses dsn for strata's use: text protocol (so values arrive
// as the server formats them), no time parsing; errors never show the
// password.
func myConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: bad connection string: %s", scrub(err.Error(), dsn))
	}
	if cfg.Passwd == "" {
		// As the mysql client does: a password kept off the command line.
		cfg.Passwd = os.Getenv("MYSQL_PWD")
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES'"
	cfg.Collation = "utf8mb4_general_ci"
	return cfg, nil
}

func myRedacted(cfg *mysql.Config) string { return "mysql://" + cfg.Addr + "/" + cfg.DBName }

func myOpen(cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql %s: %w", myRedacted(cfg), err)
	}
	return sql.OpenDB(conn), nil
}

func (myDialect) open(_ context.Context, dsn string, log *slog.Logger) (server, error) {
	cfg, err := myConfig(dsn)
	if err != nil {
		return nil, err
	}
	db, err := myOpen(cfg)
	if err != nil {
		return nil, err
	}
	return &myServer{cfg: cfg, db: db, log: log}, nil
}

// myServer is a MariaDB/MySQL server: one pool for every database.
type myServer struct {
	cfg *mysql.Config
	db  *sql.DB
	log *slog.Logger
}

func (s *myServer) global() bool     { return true }
func (s *myServer) redacted() string { return myRedacted(s.cfg) }
func (s *myServer) close() error     { return s.db.Close() }

func mySystemDB(db string) bool {
	switch strings.ToLower(db) {
	case "information_schema", "mysql", "performance_schema", "sys":
		return true
	}
	return false
}

func (s *myServer) databases(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SHOW DATABASES")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.redacted(), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !mySystemDB(n) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// tables lists a database's tables and views; MySQL has no schemas, so
// each is named <database>.<table>.
func (s *myServer) tables(ctx context.Context, db string, _ []string) ([]tableName, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.redacted(), err)
	}
	defer rows.Close()
	var out []tableName
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		if typ == "SYSTEM VIEW" {
			continue
		}
		out = append(out, tableName{Schema: db, Name: name, View: typ == "VIEW"})
	}
	return out, rows.Err()
}

// myIdent quotes an identifier with backquotes.
func myIdent(names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "`" + strings.ReplaceAll(n, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// myString quotes a string literal.
func myString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
