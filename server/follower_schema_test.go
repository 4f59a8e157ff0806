package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chr2sql/chr2sql/replication/memnet"
)

// linkDelay holds back every message from the leader to one follower, so
// that follower applies each commit this long after the leader acknowledged
// it. It is below the election timeout (10 ticks of 20 ms), so the follower
// keeps its leader.
const linkDelay = 150 * time.Millisecond

// A table created (or a column added) through the leader is usable at once
// through a lagging follower: the schema is part of the state a
// linearizable statement must see, so a follower that cannot translate a
// statement waits for its read barrier and translates again.
func TestLaggingFollowerSeesNewSchema(t *testing.T) {
	seed := testSeed(t)
	fc := newFaultCluster(t, seed)
	ctx := context.Background()
	l := fc.leader()
	lid := l.Status().NodeID
	f := followerOf(fc, lid)
	lconn, fconn, local := connect(t, l), connect(t, f), connect(t, f)
	if _, err := local.Exec(ctx, `SET chr2.read_consistency = 'local'`); err != nil {
		t.Fatal(err)
	}
	fc.net.SetLinkFaults(lid, f.Status().NodeID, memnet.Faults{MinDelay: linkDelay, MaxDelay: linkDelay})
	proved := false
	for round := 0; round < 5 && !proved; round++ {
		table := fmt.Sprintf("fresh%d", round)
		if _, err := lconn.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY)`, table)); err != nil {
			t.Fatal(err)
		}
		// The follower's own state does not know the table yet …
		lagging := isCode(queryErr(local, `SELECT count(*) FROM `+table), "42P01")
		// … and a linearizable statement through it still finds it.
		var n int
		if err := fconn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatalf("round %d: linearizable read of a new table on a follower: %v", round, err)
		}
		if _, err := lconn.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN c int DEFAULT 7`, table)); err != nil {
			t.Fatal(err)
		}
		if _, err := lconn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s VALUES (1)`, table)); err != nil {
			t.Fatal(err)
		}
		lagging = lagging && isCode(queryErr(local, `SELECT c FROM `+table), "42703")
		var c int
		if err := fconn.QueryRow(ctx, `SELECT c FROM `+table+` WHERE id = $1`, 1).Scan(&c); err != nil || c != 7 {
			t.Fatalf("round %d: new column through a follower: %d, %v", round, c, err)
		}
		proved = lagging
	}
	if !proved {
		t.Fatalf("the follower never lagged behind the leader (link delay %v); the test proved nothing", linkDelay)
	}
	fc.net.ClearLinkFaults()
	fc.converge()
}

func queryErr(conn *pgx.Conn, sql string) error {
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}
