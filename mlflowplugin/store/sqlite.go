package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, no cgo
)

// openSQLite opens a SQLite file in WAL mode with synchronous=FULL, so a
// committed enqueue is on disk before the delivery is answered. One
// connection serialises writers: SQLite has one writer anyway, and this
// way no request ever sees SQLITE_BUSY.
func openSQLite(path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return &Store{db: db, accept: db, dialect: sqliteDialect}, nil
}
