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
	// Only an enqueue must be on disk before its answer (it sets
	// synchronous_commit back on for its own transaction). Everything a
	// worker writes is redone by an idempotent job if a server crash loses
	// it, so those commits do not wait for the WAL flush; this keeps the
	// workers' fsyncs out of the webhook's answer time.
	if _, set := cfg.RuntimeParams["synchronous_commit"]; !set {
		cfg.RuntimeParams["synchronous_commit"] = "off"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	return &Store{db: db, dialect: postgresDialect}, nil
}
