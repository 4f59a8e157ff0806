package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// cluster is a set of chr2sql processes.
type cluster struct {
	t     *testing.T
	nodes map[uint64]*node
}

func newCluster(t *testing.T, size int) *cluster {
	c := &cluster{t: t, nodes: map[uint64]*node{}}
	var peers []string
	for id := uint64(1); id <= uint64(size); id++ {
		n := newNode(t, id)
		c.nodes[id] = n
		peers = append(peers, fmt.Sprintf("%d=%s", id, n.raftAddr))
	}
	for _, n := range c.nodes {
		n.peers = strings.Join(peers, ",")
		n.start()
	}
	for _, n := range c.nodes {
		n.waitReady(30 * time.Second)
	}
	return c
}

type nodeStatus struct {
	NodeID       uint64   `json:"node_id"`
	Role         string   `json:"role"`
	Term         uint64   `json:"term"`
	LeaderID     uint64   `json:"leader_id"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	Voters       []uint64 `json:"voters"`
	Ready        bool     `json:"ready"`
}

func (n *node) status() (nodeStatus, error) {
	var st nodeStatus
	resp, err := http.Get("http://" + n.httpAddr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// leader waits until one running node reports itself a ready leader.
func (c *cluster) leader() *node {
	c.t.Helper()
	var found *node
	waitFor(c.t, 30*time.Second, "a ready leader", func() bool {
		for _, n := range c.nodes {
			if n.cmd == nil {
				continue
			}
			if st, err := n.status(); err == nil && st.Role == "leader" && st.Ready {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// writer inserts rows through one connection and records which commits
// were acknowledged.
type writer struct {
	mu    sync.Mutex
	acked []int
	stop  chan struct{}
	done  chan struct{}
}

func startWriter(t *testing.T, addrs func() []string) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var conn *pgx.Conn
		for i := 1; ; i++ {
			select {
			case <-w.stop:
				if conn != nil {
					conn.Close(context.Background())
				}
				return
			default:
			}
			if conn == nil {
				for _, a := range addrs() {
					c, err := pgx.Connect(context.Background(), "postgres://postgres@"+a+"/postgres?connect_timeout=1")
					if err == nil {
						conn = c
						break
					}
				}
				if conn == nil {
					time.Sleep(50 * time.Millisecond) // every node refused; try again shortly
					continue
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := conn.Exec(ctx, `INSERT INTO w (n) VALUES ($1)`, i)
			cancel()
			if err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, i)
				w.mu.Unlock()
				continue
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || conn.IsClosed() {
				conn.Close(context.Background())
				conn = nil
			}
		}
	}()
	return w
}

func (w *writer) finish() []int {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// rowsOn returns every n in table w on a node, read locally.
func rowsOn(t *testing.T, n *node) map[int]bool {
	t.Helper()
	out, err := n.psql("SET chr2.read_consistency = 'local'", "SELECT n FROM w ORDER BY n")
	if err != nil {
		t.Fatalf("node %d: %v: %s", n.id, err, out)
	}
	got := map[int]bool{}
	for _, line := range strings.Fields(out) {
		var v int
		fmt.Sscan(line, &v)
		got[v] = true
	}
	return got
}

func (c *cluster) pgAddrs() []string {
	var out []string
	ids := make([]uint64, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if c.nodes[id].cmd != nil {
			out = append(out, c.nodes[id].pgAddr)
		}
	}
	return out
}

// waitApplied waits until every running node applied the leader's commit index.
func (c *cluster) waitApplied() {
	c.t.Helper()
	l := c.leader()
	st, err := l.status()
	if err != nil {
		c.t.Fatal(err)
	}
	waitFor(c.t, 30*time.Second, "all nodes applied the commit index", func() bool {
		for _, n := range c.nodes {
			if n.cmd == nil {
				continue
			}
			s, err := n.status()
			if err != nil || s.AppliedIndex < st.CommitIndex {
				return false
			}
		}
		return true
	})
}

// TestClusterKillLeaderAndChangeMembership: three processes; a writer keeps
// inserting while the leader is killed with kill -9; every acknowledged row
// is on every node afterwards; the killed node restarts and catches up; a
// new node joins and an old one leaves while writes go on.
func TestClusterKillLeaderAndChangeMembership(t *testing.T) {
	c := newCluster(t, 3)
	l := c.leader()
	l.mustPSQL("CREATE TABLE w (n int PRIMARY KEY)")
	w := startWriter(t, c.pgAddrs)
	waitFor(t, 20*time.Second, "first writes", func() bool { return w.count() > 20 })

	killed := l.id
	l.kill()
	nl := c.leader()
	before := w.count()
	waitFor(t, 30*time.Second, "writes after the leader died", func() bool { return w.count() > before+20 })
	if nl.id == killed {
		t.Fatal("killed node still leads")
	}
	c.nodes[killed].start()
	c.nodes[killed].waitReady(30 * time.Second)

	// A fourth node joins; then one of the original followers leaves.
	n4 := newNode(t, 4)
	n4.extra = []string{"--join", nl.httpAddr}
	n4.start()
	if out, err := exec.Command(binary, "member", "add", "--http-addr", nl.httpAddr, "--node-id", "4",
		"--raft-addr", n4.raftAddr).CombinedOutput(); err != nil {
		t.Fatalf("member add: %v: %s", err, out)
	}
	c.nodes[4] = n4
	n4.waitReady(30 * time.Second)
	var leaving *node
	for id, n := range c.nodes {
		if id != 4 && id != nl.id && n.cmd != nil {
			leaving = n
			break
		}
	}
	if out, err := exec.Command(binary, "member", "remove", "--http-addr", n4.httpAddr, "--node-id",
		fmt.Sprint(leaving.id)).CombinedOutput(); err != nil {
		t.Fatalf("member remove: %v: %s", err, out)
	}
	// The removed node finds out from a leader's /status and exits 0 by
	// itself, saying why (cmd/chr2sql, server/removal.go).
	select {
	case <-leaving.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("removed node %d still running:\n%s", leaving.id, leaving.log())
	}
	if code := leaving.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(leaving.log(), "was removed from the cluster") {
		t.Fatalf("removed node %d exited with %d:\n%s", leaving.id, code, leaving.log())
	}
	leaving.cmd = nil
	delete(c.nodes, leaving.id)
	before = w.count()
	waitFor(t, 30*time.Second, "writes after the membership changes", func() bool { return w.count() > before+20 })

	acked := w.finish()
	c.waitApplied()
	for id, n := range c.nodes {
		got := rowsOn(t, n)
		for _, v := range acked {
			if !got[v] {
				t.Fatalf("node %d lost acknowledged write %d (%d acked)", id, v, len(acked))
			}
		}
	}
	st, _ := c.leader().status()
	if len(st.Voters) != 3 {
		t.Fatalf("voters after the changes: %v", st.Voters)
	}
	t.Logf("%d acknowledged writes, all present on nodes %v", len(acked), st.Voters)
}
