package relational

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pgDialect is PostgreSQL: pgx connections, COPY text data files.
type pgDialect struct{}

func (pgDialect) name() string                 { return KindPostgres }
func (pgDialect) ext() string                  { return "copy" }
func (pgDialect) extras(*table, string) []file { return nil }

func (pgDialect) lineKey(key []int) []int { return key }

// pgSession are the settings every connection gets, so that the COPY text
// of a value does not depend on the server's or the client's defaults
// (timestamptz in UTC, ISO dates, hex bytea, shortest exact floats).
var pgSession = map[string]string{
	"TimeZone":           "UTC",
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"bytea_output":       "hex",
	"extra_float_digits": "1",
	"client_encoding":    "UTF8",
}

// pgConfig parses dsn; errors never show the password.
func pgConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad connection string: %s", scrub(err.Error(), dsn))
	}
	for k, v := range pgSession {
		cfg.RuntimeParams[k] = v
	}
	return cfg, nil
}

// scrub removes secret (and the password of a URL in it) from msg.
func scrub(msg, secret string) string {
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "<dsn>")
	}
	return msg
}

// pgRedacted names a server without credentials.
func pgRedacted(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

func (pgDialect) open(_ context.Context, dsn string, log *slog.Logger) (server, error) {
	cfg, err := pgConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &pgServer{cfg: cfg, logger: log}, nil
}

// pgServer is a PostgreSQL server; it connects per database as needed.
type pgServer struct {
	cfg    *pgx.ConnConfig
	logger *slog.Logger
}

func (s *pgServer) log() *slog.Logger { return s.logger }

func (s *pgServer) global() bool     { return false }
func (s *pgServer) redacted() string { return pgRedacted(s.cfg) }
func (s *pgServer) close() error     { return nil }

// connect opens a connection to db ("" for the DSN's own).
func (s *pgServer) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg := s.cfg.Copy()
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", pgRedacted(cfg), err)
	}
	return conn, nil
}

func (s *pgServer) databases(ctx context.Context) ([]string, error) {
	conn, err := s.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY datname`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// pgSystemSchema reports the schemas left out unless named: the
// server's own, and the staging schemas of restores in progress (or
// killed), whose tables are half-loaded copies.
func pgSystemSchema(s string) bool {
	return s == "pg_catalog" || s == "information_schema" || strings.HasPrefix(s, "pg_toast") || strings.HasPrefix(s, "pg_temp_") ||
		pgIsStagingSchema(s)
}

func (s *pgServer) tables(ctx context.Context, db string, named []string) ([]tableName, error) {
	conn, err := s.connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.relkind IN ('v','m')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r','p','v','m') AND NOT c.relispartition
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	var out []tableName
	var t tableName
	_, err = pgx.ForEachRow(rows, []any{&t.Schema, &t.Name, &t.View}, func() error {
		if !pgSystemSchema(t.Schema) || isNamed(named, t.Schema, t.Name) {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// isNamed reports whether schema or schema.table is among named.
func isNamed(named []string, schema, table string) bool {
	for _, n := range named {
		if n == schema || n == schema+"."+table {
			return true
		}
	}
	return false
}

// pgIdent quotes a schema-qualified name.
func pgIdent(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// pgLiteral quotes a text value as an SQL literal of type typ.
func pgLiteral(v, typ string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'::" + typ
}
