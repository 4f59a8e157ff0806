package sqlengine

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/chr2sql/chr2sql/pgerr"
)

// -pgdsn runs the SQL corpus against a real PostgreSQL instead, to check
// the expectations: each file gets a fresh database. Example:
//
//	go test ./sqlengine -run TestSQLFilesOnPostgres -pgdsn 'postgres://postgres@127.0.0.1:55432/postgres'
var pgDSN = flag.String("pgdsn", "", "PostgreSQL to check testdata/sql expectations against")

func TestSQLFilesOnPostgres(t *testing.T) {
	if *pgDSN == "" {
		t.Skip("set -pgdsn to compare the corpus with a real PostgreSQL")
	}
	files, _ := filepath.Glob("testdata/sql/*.test")
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) { runOnPostgres(t, f) })
	}
}

func runOnPostgres(t *testing.T, path string) {
	if src, _ := os.ReadFile(path); strings.Contains(string(src), "\n# postgres: skip") {
		t.Skip("the file depends on chr2sql's OIDs or catalog contents")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, *pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := "chr2_corpus_" + strings.TrimSuffix(filepath.Base(path), ".test")
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(*pgDSN)
	cfg.Database = db
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conns := map[string]*pgx.Conn{}
	conn := func(name string) *pgx.Conn {
		if c := conns[name]; c != nil {
			return c
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		conns[name] = c
		return c
	}
	defer func() {
		for _, c := range conns {
			c.Close(ctx)
		}
	}()
	cur := "main"
	for _, b := range parseSQLFile(t, path) {
		if b.kind == "session" {
			cur = b.arg
			continue
		}
		got, err := pgRun(ctx, conn(cur), b)
		var pe *pgconn.PgError
		switch {
		case b.kind == "statement" && b.arg == string(pgerr.FeatureNotSupported):
			// A documented chr2sql limitation: PostgreSQL does it.
		case b.kind == "statement" && b.arg != "ok":
			if !(err != nil && errorAs(err, &pe) && pe.Code == b.arg) {
				t.Errorf("%s:%d: want %s, PostgreSQL says %v", path, b.line, b.arg, err)
			}
		case err != nil:
			t.Errorf("%s:%d: PostgreSQL: %v", path, b.line, err)
		case b.kind == "query" && strings.Join(got, "\n") != strings.Join(b.expected, "\n"):
			t.Errorf("%s:%d: %s\nPostgreSQL:\n%s\nexpected:\n%s", path, b.line, b.sql, strings.Join(got, "\n"),
				strings.Join(b.expected, "\n"))
		}
	}
}

func errorAs(err error, pe **pgconn.PgError) bool {
	e, ok := err.(*pgconn.PgError)
	if ok {
		*pe = e
	}
	return ok
}

func pgRun(ctx context.Context, c *pgx.Conn, b sqlBlock) ([]string, error) {
	results, err := c.PgConn().Exec(ctx, strings.TrimSpace(b.sql)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, nil
	}
	last := results[len(results)-1]
	var out []string
	if b.arg == "types" {
		var cols []string
		for _, f := range last.FieldDescriptions {
			name := fmt.Sprint(f.DataTypeOID)
			if tt, ok := pgtype.NewMap().TypeForOID(f.DataTypeOID); ok {
				name = tt.Name
			}
			cols = append(cols, f.Name+":"+name)
		}
		out = append(out, strings.Join(cols, "|"))
	}
	for _, row := range last.Rows {
		vals := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				vals[i] = "NULL"
			} else {
				vals[i] = string(v)
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	return out, nil
}
