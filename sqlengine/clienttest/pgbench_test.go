package clienttest

import (
	"fmt"
	"regexp"
	"testing"
	"time"
)

var failedTx = regexp.MustCompile(`number of failed transactions: (\d+)`)

// TestPgbenchThroughFollower initialises pgbench's schema through a
// follower of a three-node cluster (COPY forwarded to the leader, then
// ALTER TABLE … ADD PRIMARY KEY rebuilding the tables), runs the TPC-B-like
// script on the follower and the leader at once, and checks that every
// node holds the same balances: each transaction's delta lands in one
// account, teller, branch and history row.
func TestPgbenchThroughFollower(t *testing.T) {
	pgbench := requireTool(t, "pgbench")
	c := startCluster(t, 3)
	leader, follower := c.leader(), c.follower()
	out, errOut, err := runTool(t, libpqEnv(follower.PGAddr(), "postgres"), 5*time.Minute, "", pgbench, "-i", "-s", "1", "-q")
	if err != nil {
		t.Fatalf("pgbench -i: %v\n%s%s", err, out, errOut)
	}
	done := make(chan error, 2)
	for _, s := range []string{follower.PGAddr(), leader.PGAddr()} {
		go func() {
			out, errOut, err := runTool(t, libpqEnv(s, "postgres"), 5*time.Minute, "", pgbench,
				"-n", "-c", "2", "-j", "2", "-t", "40", "-M", "prepared")
			if m := failedTx.FindStringSubmatch(out); err == nil && (m == nil || m[1] != "0") {
				err = fmt.Errorf("failed transactions reported")
			}
			if err != nil {
				err = fmt.Errorf("pgbench on %s: %v\n%s%s", s, err, out, errOut)
			}
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	const sums = `SELECT (SELECT count(*) FROM pgbench_history), (SELECT sum(abalance) FROM pgbench_accounts),
		(SELECT sum(delta) FROM pgbench_history), (SELECT sum(tbalance) FROM pgbench_tellers),
		(SELECT sum(bbalance) FROM pgbench_branches), (SELECT count(*) FROM pgbench_accounts)`
	for id, s := range c.nodes {
		var history, accounts int64
		var a, h, tl, b int64
		if err := connect(t, s).QueryRow(ctx(t), sums).Scan(&history, &a, &h, &tl, &b, &accounts); err != nil {
			t.Fatalf("node %d: %v", id, err)
		}
		if history != 160 || accounts != 100000 || a != h || h != tl || tl != b {
			t.Errorf("node %d: history rows %d, accounts %d, balances accounts %d history %d tellers %d branches %d",
				id, history, accounts, a, h, tl, b)
		}
	}
}
