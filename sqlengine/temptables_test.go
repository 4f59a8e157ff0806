package sqlengine

import (
	"context"
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

func tempSchemaOf(s pgwire.Session) string { return s.(*session).tempSchema() }

// TestTempTablesPerSession: two sessions each have their own scratch, and
// neither can name the other's.
func TestTempTablesPerSession(t *testing.T) {
	c := newTestCluster(t)
	s1, s2 := newSession(t, c.leader), newSession(t, c.leader)
	must(t, s1, `CREATE TABLE real_t (x int)`)
	must(t, s1, `CREATE TEMP TABLE scratch (x int)`)
	must(t, s2, `CREATE TEMP TABLE scratch (x int)`)
	must(t, s1, `INSERT INTO scratch VALUES (1)`)
	must(t, s2, `INSERT INTO scratch VALUES (2), (3)`)
	if got := rowsText(must(t, s1, `SELECT x FROM scratch ORDER BY x`).rows); got != "1" {
		t.Errorf("session 1 sees %q", got)
	}
	if got := rowsText(must(t, s2, `SELECT x FROM pg_temp.scratch ORDER BY x`).rows); got != "2\n3" {
		t.Errorf("session 2 sees %q", got)
	}
	if code := fails(t, s2, `SELECT * FROM `+tempSchemaOf(s1)+`.scratch`); code != pgerr.UndefinedTable {
		t.Errorf("other session's temp table: %s", code)
	}
	if got := rowsText(must(t, s2, `SELECT count(*) FROM pg_namespace WHERE pg_is_other_temp_schema(oid)`).rows); got != "1" {
		t.Errorf("other temp schemas: %s", got)
	}
	// A staging table feeds a real one; followers replay it identically.
	must(t, s2, `INSERT INTO real_t SELECT x FROM scratch`)
	c.waitConverged(t)
}

// TestTempTablesDroppedOnClose: a session's Close drops its temporary
// schema through the log, on the leader and on the follower.
func TestTempTablesDroppedOnClose(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TEMP TABLE scratch (id serial PRIMARY KEY, v text)`)
	must(t, s, `CREATE INDEX ON scratch (v)`)
	must(t, s, `INSERT INTO scratch (v) VALUES ('a')`)
	schema := tempSchemaOf(s)
	c.waitConverged(t)
	if _, ok := c.follower.Catalog().Namespace(schema); !ok {
		t.Fatalf("follower lacks %s", schema)
	}
	s.Close()
	for _, e := range []*Engine{c.leader} {
		if _, ok := e.Catalog().Namespace(schema); ok {
			t.Errorf("%s survives Close", schema)
		}
	}
	c.waitConverged(t)
	if _, ok := c.follower.Catalog().Namespace(schema); ok {
		t.Errorf("follower keeps %s", schema)
	}
}

// TestTempOrphansDropped: a new leader drops the temporary schemas of
// sessions not open on it, and keeps those of its own sessions.
func TestTempOrphansDropped(t *testing.T) {
	c := newTestCluster(t)
	live, lost := newSession(t, c.leader), newSession(t, c.leader)
	must(t, live, `CREATE TEMP TABLE keep (x int)`)
	must(t, lost, `CREATE TEMP TABLE gone (x int)`)
	// As if lost's session had been open on a node that crashed.
	c.leader.sessionPIDs.Delete(lost.(*session).info.ProcessID)
	if err := c.leader.DropOrphanTempSchemas(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.leader.Catalog().Namespace(tempSchemaOf(lost)); ok {
		t.Error("orphaned temporary schema survives")
	}
	if _, ok := c.leader.Catalog().Namespace(tempSchemaOf(live)); !ok {
		t.Error("a live session's temporary schema was dropped")
	}
	must(t, live, `SELECT * FROM keep`)
	c.waitConverged(t)
}

// TestTempOnCommitAcrossSessions: ON COMMIT actions belong to the session
// that created the table; another session's commits leave it alone.
func TestTempOnCommitAcrossSessions(t *testing.T) {
	c := newTestCluster(t)
	s1, s2 := newSession(t, c.leader), newSession(t, c.leader)
	must(t, s1, `CREATE TEMP TABLE d (x int) ON COMMIT DELETE ROWS`)
	must(t, s2, `CREATE TEMP TABLE other (x int)`)
	must(t, s1, `BEGIN`)
	must(t, s1, `INSERT INTO d VALUES (1)`)
	if got := rowsText(must(t, s1, `SELECT count(*) FROM d`).rows); got != "1" {
		t.Errorf("rows before COMMIT: %s", got)
	}
	must(t, s1, `COMMIT`)
	if got := rowsText(must(t, s1, `SELECT count(*) FROM d`).rows); got != "0" {
		t.Errorf("rows after COMMIT: %s", got)
	}
	must(t, s2, `INSERT INTO other VALUES (1)`) // s2's commit does not empty s1's d
	must(t, s1, `INSERT INTO d VALUES (2)`)
	if got := rowsText(must(t, s1, `SELECT count(*) FROM d`).rows); got != "0" {
		t.Errorf("autocommit rows: %s", got)
	}
	if translate.TempSchemaName(7) != "pg_temp_7" {
		t.Error("temporary schema name")
	}
	c.waitConverged(t)
}

// sessionWithPID opens a session with a chosen backend process id: two
// nodes number their sessions independently, and a dead session's pid may
// be handed out again.
func sessionWithPID(t *testing.T, e *Engine, pid uint32) pgwire.Session {
	t.Helper()
	s, err := e.NewSession(context.Background(), pgwire.SessionInfo{User: "postgres", Database: "postgres", ProcessID: pid})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A temporary schema named after a session's pid that the session did not
// create — another node's session's, or a leftover — resolves nothing for
// it, and its first temporary table starts from an empty schema.
func TestTempSchemaOfSamePIDIsNotInherited(t *testing.T) {
	c := newTestCluster(t)
	owner := newSession(t, c.leader)
	must(t, owner, `CREATE TEMP TABLE ghost (x int)`)
	must(t, owner, `INSERT INTO ghost VALUES (1)`)
	pid := owner.(*session).info.ProcessID
	// A second session with the same pid (as on another node, or after a
	// crash left the schema behind).
	twin := sessionWithPID(t, c.leader, pid)
	for _, sql := range []string{`SELECT * FROM ghost`, `SELECT * FROM pg_temp.ghost`, `SELECT * FROM ` + tempSchemaOf(owner) + `.ghost`} {
		if code := fails(t, twin, sql); code != pgerr.UndefinedTable {
			t.Errorf("%s from a session that created no temp table: SQLSTATE %s, want 42P01", sql, code)
		}
	}
	if got := rowsText(must(t, twin, `SELECT pg_my_temp_schema()`).rows); got != "0" {
		t.Errorf("pg_my_temp_schema before any temp table: %s", got)
	}
	// The twin's first temporary table clears the leftover.
	must(t, twin, `CREATE TEMP TABLE mine (y int)`)
	if code := fails(t, twin, `SELECT * FROM ghost`); code != pgerr.UndefinedTable {
		t.Errorf("leftover table after the first CREATE TEMP TABLE: SQLSTATE %s, want 42P01", code)
	}
	must(t, twin, `INSERT INTO mine VALUES (2)`)
	c.waitConverged(t)
}
