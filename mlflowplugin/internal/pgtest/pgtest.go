// Package pgtest gives tests a fresh PostgreSQL database on the server
// named by MODELGATE_TEST_POSTGRES (CI starts one: .ci/start-postgres.sh).
// Without it the test is skipped, unless MODELGATE_REQUIRE_POSTGRES is set
// (as in CI), where a missing server fails the test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSN creates a database for this test and returns its URL; it is dropped
// when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("MODELGATE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("MODELGATE_REQUIRE_POSTGRES") != "" {
			t.Fatal("MODELGATE_REQUIRE_POSTGRES is set but MODELGATE_TEST_POSTGRES is not")
		}
		t.Skip("no PostgreSQL: set MODELGATE_TEST_POSTGRES (see .ci/start-postgres.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at MODELGATE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "mgtest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
