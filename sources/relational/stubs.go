package relational

import (
	"context"
	"errors"
	"log/slog"
)

type msDialect struct{}

func (msDialect) name() string                { return KindSQLServer }
func (msDialect) ext() string                 { return "bcp" }
func (msDialect) extras(*table, string) []file { return nil }
func (msDialect) open(context.Context, string, *slog.Logger) (server, error) {
	return nil, errors.New("todo")
}
