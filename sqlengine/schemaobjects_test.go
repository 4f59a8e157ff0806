package sqlengine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

// A unique expression index reports PostgreSQL's message and DETAIL, and
// the index (SQLite index and catalog rows) travels in a snapshot.
func TestExpressionIndexViolationAndSnapshot(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, "CREATE TABLE goods (id int, tenant_id int, title text)")
	must(t, s, "CREATE UNIQUE INDEX goods_lower_title ON goods (lower(title))")
	must(t, s, "CREATE UNIQUE INDEX goods_t ON goods (tenant_id, lower(title || 'x'))")
	must(t, s, "INSERT INTO goods VALUES (1, 1, 'abc')")
	for _, tc := range []struct{ sql, name, detail string }{
		{"INSERT INTO goods VALUES (2, 2, 'ABC')", "goods_lower_title", "Key (lower(title))=(abc) already exists."},
		{"INSERT INTO goods VALUES (2, 1, 'ABC') ON CONFLICT (lower(title)) DO NOTHING", "", ""},
	} {
		var pe *pgerr.Error
		err := run(t, s, tc.sql)[0].err
		if tc.name == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.sql, err)
			}
			continue
		}
		if !errors.As(err, &pe) || pe.Code != pgerr.UniqueViolation {
			t.Fatalf("%s: got %v, want 23505", tc.sql, err)
		}
		if pe.ConstraintName != tc.name || pe.Detail != tc.detail || pe.TableName != "goods" {
			t.Fatalf("%s: got constraint %q table %q detail %q", tc.sql, pe.ConstraintName, pe.TableName, pe.Detail)
		}
	}
	c.waitConverged(t)

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snap.db")
	if _, _, err := c.leader.Snapshot(ctx, path); err != nil {
		t.Fatal(err)
	}
	other, err := Open(Config{Dir: t.TempDir(), NodeID: 3, Consensus: newMemLog(1),
		Writer: WriterConfig{CommitTimeout: 5 * time.Second, AdmissionTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Restore(path); err != nil {
		t.Fatal(err)
	}
	rel, ok := other.cat.Load().Lookup("public", "goods", nil)
	if !ok || len(rel.Indexes) != 2 || rel.Indexes[1].Expr(1) == nil || rel.Indexes[1].Expr(1).Text != "lower(title || 'x')" {
		t.Fatalf("restored catalog lost the expression index: %+v", rel)
	}
	a, _ := c.leader.Dump()
	b, _ := other.Dump()
	if a != b {
		t.Fatalf("restored state differs:\n%s\n---\n%s", a, b)
	}
}

// A state database of format 2 (before expression indexes and user types)
// is upgraded in place when it is opened.
func TestFormatUpgradeFrom2(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, NodeID: 1, Consensus: newMemLog(1),
		Writer: WriterConfig{CommitTimeout: 5 * time.Second, AdmissionTimeout: 5 * time.Second}}
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	c, err := openSQLite(filepath.Join(dir, StateFile), false)
	if err != nil {
		t.Fatal(err)
	}
	err = c.execScript(context.Background(), "ALTER TABLE _chr2_indexes DROP COLUMN exprs",
		"DROP TABLE _chr2_types", "DROP TABLE _chr2_enum_labels",
		"UPDATE _chr2_meta SET value = 2 WHERE key = 'format_version'")
	c.close()
	if err != nil {
		t.Fatal(err)
	}
	e, err = Open(cfg)
	if err != nil {
		t.Fatalf("reopen format 2: %v", err)
	}
	defer e.Close()
	rows, err := e.writer.conn.QueryAll("SELECT count(*) FROM _chr2_types, _chr2_indexes WHERE exprs = ''")
	if err != nil || len(rows) != 1 {
		t.Fatalf("upgraded layout: %v %v", rows, err)
	}
}

// Enum values bound as parameters are checked when the statement runs, and
// results carry the enum's own type OID.
func TestEnumParamsAndDescription(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
	must(t, s, "CREATE TABLE feelings (id int, m mood)")
	must(t, s, "INSERT INTO feelings VALUES ($1, $2)", "1", "happy")
	var pe *pgerr.Error
	err := run(t, s, "INSERT INTO feelings VALUES ($1, $2)", "2", "angry")[0].err
	if !errors.As(err, &pe) || pe.Code != pgerr.InvalidTextRepresentation ||
		pe.Message != `invalid input value for enum mood: "angry"` {
		t.Fatalf("got %v, want 22P02 invalid input value for enum mood", err)
	}
	r := must(t, s, "SELECT m FROM feelings WHERE m < $1", "ok")
	if len(r.rows) != 0 {
		t.Fatalf("happy < ok: got %v", r.rows)
	}
	r = must(t, s, "SELECT m FROM feelings")
	ty, ok := c.leader.cat.Load().LookupType("public", "mood", nil)
	if !ok || len(r.types) != 1 || uint32(r.types[0]) != ty.OID || rowsText(r.rows) != "happy" {
		t.Fatalf("got %v %v, want the enum's OID", r.types, r.rows)
	}
	c.waitConverged(t)
}
