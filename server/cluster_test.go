package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/internal/testnet"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// testCluster runs several nodes in this process over loopback TCP.
type testCluster struct {
	t     *testing.T
	dirs  map[uint64]string
	cfgs  map[uint64]Config
	nodes map[uint64]*Server
}

func loopbackAddr(t *testing.T) string {
	t.Helper()
	addr, err := testnet.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func newTestCluster(t *testing.T, size int, tweak func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dirs: map[uint64]string{}, cfgs: map[uint64]Config{}, nodes: map[uint64]*Server{}}
	peers := map[uint64]string{}
	for id := uint64(1); id <= uint64(size); id++ {
		peers[id] = loopbackAddr(t)
	}
	for id := uint64(1); id <= uint64(size); id++ {
		cfg := Config{DataDir: filepath.Join(t.TempDir(), fmt.Sprint(id)), NodeID: id, PGAddr: loopbackAddr(t),
			RaftAddr: peers[id], HTTPAddr: loopbackAddr(t), Peers: peers, TickInterval: 20 * time.Millisecond,
			Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(fmt.Sprintf("n%d", id))}
		if tweak != nil {
			tweak(&cfg)
		}
		c.cfgs[id] = cfg
		c.start(id)
	}
	t.Cleanup(func() {
		for _, s := range c.nodes {
			s.Stop()
		}
	})
	return c
}

func (c *testCluster) start(id uint64) {
	c.t.Helper()
	s, err := Start(c.cfgs[id])
	if err != nil {
		c.t.Fatalf("start node %d: %v", id, err)
	}
	c.nodes[id] = s
}

func (c *testCluster) stop(id uint64) {
	c.nodes[id].Stop()
	delete(c.nodes, id)
}

// leader waits for a ready leader among the running nodes.
func (c *testCluster) leader() *Server {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.nodes {
			st := s.Status()
			if st.Role == "leader" && st.Ready {
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no ready leader")
	return nil
}

func connect(t *testing.T, s *Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), "postgres://postgres@"+s.PGAddr()+"/postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// converge waits until every running node applied the same index and then
// compares their full state dumps.
func (c *testCluster) converge() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var want uint64
		same := true
		for _, s := range c.nodes {
			st := s.Status()
			if want == 0 {
				want = st.CommitIndex
			}
			if st.AppliedIndex != want || st.CommitIndex != want {
				same = false
			}
		}
		if same {
			break
		}
		if time.Now().After(deadline) {
			for id, s := range c.nodes {
				c.t.Logf("node %d: %+v", id, s.Status())
			}
			c.t.Fatal("nodes did not converge")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var first string
	var firstID uint64
	for id, s := range c.nodes {
		d, err := s.Engine().Dump()
		if err != nil {
			c.t.Fatal(err)
		}
		if first == "" {
			first, firstID = d, id
			continue
		}
		if d != first {
			c.t.Fatalf("node %d and node %d hold different state:\n%s", firstID, id, lineDiff(first, d))
		}
	}
}

func TestClusterReplicatesFailsOverAndCatchesUpBySnapshot(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.SnapshotEntries, cfg.KeepEntries = 40, 5 })
	ctx := context.Background()
	l := c.leader()
	conn := connect(t, l)
	if _, err := conn.Exec(ctx, `CREATE TABLE kv (k int PRIMARY KEY, v text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := conn.Exec(ctx, `INSERT INTO kv VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	c.converge()

	// Kill the leader; a new one takes over and accepts writes.
	old := l.Status().NodeID
	c.stop(old)
	l2 := c.leader()
	conn2 := connect(t, l2)
	for i := 20; i < 120; i++ {
		if _, err := conn2.Exec(ctx, `INSERT INTO kv VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The old leader comes back far behind: the log it needs was compacted,
	// so it is sent a snapshot.
	c.start(old)
	c.converge()
	if st := c.nodes[old].Status(); st.FirstIndex <= 20 {
		t.Fatalf("restarted node's log starts at %d: it caught up without a snapshot", st.FirstIndex)
	}
	var n int64
	if err := connect(t, c.nodes[old]).QueryRow(ctx, `SELECT count(*) FROM kv`).Scan(&n); err != nil || n != 120 {
		t.Fatalf("restarted node reads %d rows (%v)", n, err)
	}
}

// Clients may connect to any node: a follower runs linearizable reads
// itself and sends writes and read-write transactions to the leader.
func TestFollowerForwardsWritesAndReadsLinearizably(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := context.Background()
	l := c.leader()
	var f *Server
	for _, s := range c.nodes {
		if s != l {
			f = s
			break
		}
	}
	conn := connect(t, f)
	if _, err := conn.Exec(ctx, `CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO acct VALUES (1, 100), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	// Read-your-writes on the follower right after the forwarded write.
	var b int
	if err := conn.QueryRow(ctx, `SELECT balance FROM acct WHERE id = $1`, 1).Scan(&b); err != nil || b != 100 {
		t.Fatalf("follower read %d (%v)", b, err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `SELECT balance FROM acct WHERE id = 1`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE acct SET balance = balance - 30 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE acct SET balance = balance + 30 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var total, one int
	if err := conn.QueryRow(ctx, `SELECT sum(balance), max(balance) FILTER (WHERE id = 1) FROM acct`).Scan(&total, &one); err != nil {
		t.Fatal(err)
	}
	if total != 100 || one != 70 {
		t.Fatalf("after transfer: total %d, acct1 %d", total, one)
	}
	// An error inside a forwarded block fails the block; ROLLBACK recovers.
	tx, _ = conn.Begin(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO acct VALUES (1, 5)`); err == nil {
		t.Fatal("duplicate key accepted")
	}
	tx.Rollback(ctx)
	followerBlockSeesItsOwnSchemaChanges(t, conn)
	c.converge()
}

// followerBlockSeesItsOwnSchemaChanges runs a block on a follower that
// creates and alters a table and uses it before COMMIT: only the leader's
// open transaction knows the table, so the follower must take the
// statements' descriptions from the leader.
func followerBlockSeesItsOwnSchemaChanges(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO acct VALUES (3, 7)`) // forwarding starts with a write
	mustExec(`CREATE TABLE fresh (id serial PRIMARY KEY, v text NOT NULL)`)
	var id int
	if err := tx.QueryRow(ctx, `INSERT INTO fresh (v) VALUES ($1) RETURNING id`, "a").Scan(&id); err != nil || id != 1 {
		t.Fatalf("insert into a table created in the block: id %d, %v", id, err)
	}
	mustExec(`ALTER TABLE fresh ADD COLUMN note text DEFAULT 'n'`)
	var v, note string
	if err := tx.QueryRow(ctx, `SELECT * FROM fresh WHERE id = $1`, 1).Scan(&id, &v, &note); err != nil || note != "n" {
		t.Fatalf("select * after ADD COLUMN in the block: %q %q %v", v, note, err)
	}
	if _, err := tx.Exec(ctx, `SELECT nope FROM fresh`); err == nil || !strings.Contains(err.Error(), "42703") {
		t.Fatalf("unknown column in a forwarded block: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("rollback of the forwarded block: %v", err)
	}
	// The same through one simple-protocol message, committed this time.
	if _, err := conn.Exec(ctx, `BEGIN; CREATE TABLE fresh (id int PRIMARY KEY); INSERT INTO fresh VALUES (1), (2); `+
		`ALTER TABLE fresh ADD COLUMN w int DEFAULT 5; UPDATE fresh SET w = w + id; COMMIT`); err != nil {
		t.Fatalf("block in one simple query: %v", err)
	}
	var sum int
	if err := conn.QueryRow(ctx, `SELECT sum(w) FROM fresh`).Scan(&sum); err != nil || sum != 13 {
		t.Fatalf("after the committed block: sum %d, %v", sum, err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM acct WHERE id = 3`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled-back row visible: %d, %v", n, err)
	}
}

func httpDo(t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, out)
	}
	return string(out)
}

// A node joins a running cluster and another leaves, while writes go on.
func TestMembershipAddAndRemoveOnline(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ctx := context.Background()
	conn := connect(t, c.leader())
	if _, err := conn.Exec(ctx, `CREATE TABLE w (id serial PRIMARY KEY, at int)`); err != nil {
		t.Fatal(err)
	}
	stopWrites := make(chan struct{})
	writes := make(chan error, 1)
	go func() {
		var err error
		for i := 0; err == nil; i++ {
			select {
			case <-stopWrites:
				writes <- nil
				return
			default:
			}
			_, err = conn.Exec(ctx, `INSERT INTO w (at) VALUES ($1)`, i)
		}
		writes <- err
	}()

	cfg := Config{DataDir: filepath.Join(t.TempDir(), "4"), NodeID: 4, PGAddr: loopbackAddr(t), RaftAddr: loopbackAddr(t),
		HTTPAddr: loopbackAddr(t), Join: c.nodes[2].HTTPAddr(), TickInterval: 20 * time.Millisecond,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("n4")}
	c.cfgs[4] = cfg
	c.start(4)
	httpDo(t, http.MethodPost, "http://"+c.nodes[3].HTTPAddr()+"/members",
		fmt.Sprintf(`{"node_id": 4, "raft_addr": %q}`, cfg.RaftAddr))
	waitCaughtUp(t, c.nodes[4], c.leader())

	// Remove a follower that is not the one our writer talks to.
	victim := uint64(0)
	for id, s := range c.nodes {
		if s.Status().Role != "leader" && id != 4 {
			victim = id
		}
	}
	httpDo(t, http.MethodDelete, fmt.Sprintf("http://%s/members/%d", c.nodes[4].HTTPAddr(), victim), "")
	// The removed node rarely hears that its removal committed (the leader
	// stops talking to it first); it finds out from a leader's status and
	// stops by itself.
	select {
	case <-c.nodes[victim].Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("removed node %d still running: %+v", victim, c.nodes[victim].Status())
	}
	if !c.nodes[victim].Removed() || c.nodes[victim].Halted() != nil {
		t.Fatalf("node %d stopped without knowing it was removed (halted: %v)", victim, c.nodes[victim].Halted())
	}
	c.stop(victim)
	close(stopWrites)
	if err := <-writes; err != nil {
		t.Fatalf("writes during membership changes: %v", err)
	}
	if got := c.leader().Status().Voters; len(got) != 3 {
		t.Fatalf("voters %v", got)
	}
	c.converge()
}

func waitCaughtUp(t *testing.T, n, leader *Server) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st := n.Status(); st.AppliedIndex > 0 && st.AppliedIndex >= leader.Status().CommitIndex-5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not catch up: %+v vs leader %+v", n.Status().NodeID, n.Status(), leader.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Without a quorum, writes and linearizable reads on the minority side fail
// within a bounded time with a documented SQLSTATE; they never hang (G8).
func TestMinorityRefusesWithinBoundedTime(t *testing.T) {
	seed := testSeed(t)
	fc := newFaultCluster(t, seed)
	ctx := context.Background()
	l := fc.leader()
	conn := connect(t, l)
	if _, err := conn.Exec(ctx, `CREATE TABLE r (k int PRIMARY KEY, v int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO r VALUES (1, 1)`); err != nil {
		t.Fatal(err)
	}
	fc.net.Isolate(l.Status().NodeID)
	for _, sql := range []string{`INSERT INTO r VALUES (2, 2)`, `SELECT v FROM r WHERE k = 1`} {
		start := time.Now()
		_, err := conn.Exec(ctx, sql)
		took := time.Since(start)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%s on an isolated node: %v", sql, err)
		}
		if pe.Code != "57P03" && pe.Code != "08007" {
			t.Fatalf("%s: SQLSTATE %s (%s), want 57P03 or 08007", sql, pe.Code, pe.Message)
		}
		if took > 15*time.Second {
			t.Fatalf("%s took %v to fail", sql, took)
		}
		t.Logf("%s failed after %v with %s: %s", sql, took.Round(time.Millisecond), pe.Code, pe.Message)
	}
	fc.net.Heal()
	fc.converge()
}

// lineDiff shows the lines that differ between two dumps.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d:\n  - %s\n  + %s", i+1, x, y))
		}
		if len(out) > 20 {
			break
		}
	}
	return strings.Join(out, "\n")
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
