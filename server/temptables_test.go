package server

import (
	"context"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Temporary tables through the wire: a leader session's tables are dropped
// through the log when it disconnects (on every node), and a session on a
// follower — whose writes run in another session on the leader — refuses
// them with 0A000 instead of creating tables it could not see.
func TestTempTablesOverTheWire(t *testing.T) {
	fc := newFaultCluster(t, testSeed(t))
	ctx := context.Background()
	l := fc.leader()
	lid := l.Status().NodeID
	f := followerOf(fc, lid)
	lconn, other := connect(t, l), connect(t, l)
	for _, sql := range []string{
		`CREATE TABLE target (x int)`,
		`CREATE TEMP TABLE scratch (x int)`,
		`INSERT INTO scratch VALUES (1), (2)`,
		`INSERT INTO target SELECT x FROM scratch`,
	} {
		if _, err := lconn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := queryErr(other, `SELECT * FROM scratch`); !isCode(err, "42P01") {
		t.Errorf("another session sees scratch: %v", err)
	}
	fconn := connect(t, f)
	if err := queryErr(fconn, `CREATE TEMP TABLE scratch (x int)`); !isCode(err, "0A000") {
		t.Errorf("CREATE TEMP TABLE on a follower: %v", err)
	}
	if _, err := fconn.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := fconn.Exec(ctx, `INSERT INTO target VALUES (3)`); err != nil {
		t.Fatal(err)
	}
	if err := queryErr(fconn, `CREATE TEMP TABLE scratch2 (x int)`); !isCode(err, "0A000") {
		t.Errorf("CREATE TEMP TABLE in a forwarded block: %v", err)
	}
	if _, err := fconn.Exec(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if tempSchemas(l) != 1 {
		t.Fatalf("leader has %d temporary schemas, want 1", tempSchemas(l))
	}
	if err := lconn.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range fc.nodes {
		waitFor(t, 5*time.Second, "temporary schema dropped on every node", func() bool { return tempSchemas(s) == 0 })
	}
}

// followerOf returns a node of fc other than the leader lid.
func followerOf(fc *faultCluster, lid uint64) *Server {
	for id, s := range fc.nodes {
		if id != lid {
			return s
		}
	}
	return nil
}

func tempSchemas(s *Server) int {
	n := 0
	for _, nsp := range s.engine.Catalog().Namespaces() {
		if translate.IsTempSchema(nsp.Name) {
			n++
		}
	}
	return n
}
