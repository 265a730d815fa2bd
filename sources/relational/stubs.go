package relational

import (
	"context"
	"errors"
	"log/slog"

	"github.com/stratabackup/strata/sources"
)

type myDialect struct{}

func (myDialect) name() string                { return KindMySQL }
func (myDialect) ext() string                 { return "tsv" }
func (myDialect) extras(*table, string) []file { return nil }
func (myDialect) open(context.Context, string, *slog.Logger) (server, error) {
	return nil, errors.New("todo")
}

type myLoader struct{}

func (myLoader) Load(ctx context.Context, dsn string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	return sources.LoadResult{}, errors.New("todo")
}

type msDialect struct{}

func (msDialect) name() string                { return KindSQLServer }
func (msDialect) ext() string                 { return "bcp" }
func (msDialect) extras(*table, string) []file { return nil }
func (msDialect) open(context.Context, string, *slog.Logger) (server, error) {
	return nil, errors.New("todo")
}
