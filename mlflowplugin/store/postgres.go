package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a shared store: several receivers use one database.
func openPostgres(dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres dsn: %w", err)
	}
	// Only an enqueue must be on disk before its answer: accept keeps the
	// server's synchronous_commit. Everything a worker writes is redone by
	// an idempotent job if a database crash loses it, so those commits do
	// not wait for the WAL flush; this keeps the workers' fsyncs out of the
	// webhook's answer time.
	accept := stdlib.OpenDB(*cfg)
	accept.SetMaxOpenConns(16)
	accept.SetMaxIdleConns(16)
	wcfg := cfg.Copy()
	if _, set := wcfg.RuntimeParams["synchronous_commit"]; !set {
		wcfg.RuntimeParams["synchronous_commit"] = "off"
	}
	db := stdlib.OpenDB(*wcfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return &Store{db: db, accept: accept, dialect: postgresDialect}, nil
}
