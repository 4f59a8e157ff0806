package clients

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	processedPattern = regexp.MustCompile(`number of transactions actually processed: (\d+)/(\d+)`)
	failedPattern    = regexp.MustCompile(`number of failed transactions: (\d+)`)
)

// TestPgbench initialises the pgbench schema (DROP, CREATE, client-side
// COPY, VACUUM, primary keys) and runs each built-in script with several
// clients in each query mode; every transaction must be processed and none
// may fail.
func TestPgbench(t *testing.T) {
	pgbench := requireTool(t, "pgbench")
	n := startNode(t)
	if out, err := runTool(t, n.pgEnv(), 5*time.Minute, "", pgbench, "-i", "-s", "1", "-q"); err != nil {
		t.Fatalf("pgbench -i: %v\n%s\n%s", err, out, n.log())
	}
	var accounts int
	if err := n.connect(t).QueryRow(testCtx(t), "SELECT count(*) FROM pgbench_accounts").Scan(&accounts); err != nil || accounts != 100000 {
		t.Fatalf("after pgbench -i: %d accounts, %v", accounts, err)
	}
	const clients, perClient = 4, 50
	runs := []struct{ script, mode string }{
		{"tpcb-like", "simple"}, {"simple-update", "extended"}, {"select-only", "prepared"}, {"tpcb-like", "prepared"},
	}
	for _, r := range runs {
		t.Run(r.script+"/"+r.mode, func(t *testing.T) {
			out, err := runTool(t, n.pgEnv(), 5*time.Minute, "", pgbench, "-n", "-b", r.script, "-M", r.mode,
				"-c", strconv.Itoa(clients), "-j", "2", "-t", strconv.Itoa(perClient))
			if err != nil {
				t.Fatalf("pgbench -b %s -M %s: %v\n%s", r.script, r.mode, err, out)
			}
			m := processedPattern.FindStringSubmatch(out)
			want := fmt.Sprint(clients * perClient)
			if m == nil || m[1] != want || m[2] != want {
				t.Fatalf("transactions processed: %v, want %s/%s\n%s", m, want, want, out)
			}
			if f := failedPattern.FindStringSubmatch(out); f == nil || f[1] != "0" {
				t.Fatalf("failed transactions: %v\n%s", f, out)
			}
		})
	}
	// Every script's delta lands in pgbench_history and in one account;
	// tpcb-like also adds it to one teller and one branch.
	var a, h, tl, b int64
	err := n.connect(t).QueryRow(testCtx(t), `SELECT (SELECT sum(abalance) FROM pgbench_accounts),
		(SELECT sum(delta) FROM pgbench_history), (SELECT sum(tbalance) FROM pgbench_tellers),
		(SELECT sum(bbalance) FROM pgbench_branches)`).Scan(&a, &h, &tl, &b)
	if err != nil || a != h || tl != b {
		t.Fatalf("balances diverge: accounts %d history %d tellers %d branches %d (%v)", a, h, tl, b, err)
	}
}
