package memnet

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/chr2sql/chr2sql/replication"
)

// stepNode is a test-only synchronous raft driver: a RawNode on
// MemoryStorage whose Handler steps the RawNode directly (Step mode runs
// handlers on the test goroutine). Its state machine is the list of applied
// payloads; snapshots store that list in the node's memStore.
type stepNode struct {
	id       uint64
	voters   []uint64
	rn       *raft.RawNode
	storage  *raft.MemoryStorage
	ep       replication.Transport
	store    *memStore
	applied  []string
	snapRecv int
}

func (s *stepNode) Process(_ context.Context, m raftpb.Message) error { return s.rn.Step(m) }
func (s *stepNode) ReportUnreachable(id uint64)                       { s.rn.ReportUnreachable(id) }
func (s *stepNode) ReportSnapshot(id uint64, st raft.SnapshotStatus)  { s.rn.ReportSnapshot(id, st) }

type stepCluster struct {
	t     *testing.T
	net   *Network
	nodes []*stepNode // index = id - 1
	round int
}

func newStepCluster(t *testing.T, seed uint64, size int) *stepCluster {
	c := &stepCluster{t: t, net: New(Options{Seed: seed})}
	t.Cleanup(c.net.Close)
	var voters []uint64
	for i := 1; i <= size; i++ {
		voters = append(voters, uint64(i))
	}
	for _, id := range voters {
		storage := raft.NewMemoryStorage()
		if err := storage.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
			Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters}}}); err != nil {
			t.Fatal(err)
		}
		rn, err := raft.NewRawNode(&raft.Config{
			ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: storage,
			MaxSizePerMsg: 4 << 10, MaxInflightMsgs: 16, CheckQuorum: true, PreVote: true,
			Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
		})
		if err != nil {
			t.Fatal(err)
		}
		n := &stepNode{id: id, voters: voters, rn: rn, storage: storage, store: newMemStore()}
		c.net.SetEndpointConfig(id, EndpointConfig{Snapshots: n.store})
		n.ep = c.net.Endpoint(id)
		for _, p := range voters {
			if p != id {
				n.ep.AddPeer(p, fmt.Sprintf("n%d", p))
			}
		}
		if err := n.ep.Start(n); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
	}
	return c
}

// step ticks every node, flushes every Ready and delivers what is due.
func (c *stepCluster) step() {
	c.round++
	for _, n := range c.nodes {
		n.rn.Tick()
		c.flush(n)
	}
	c.net.Advance(time.Millisecond)
	c.net.DeliverAll()
	for _, n := range c.nodes {
		c.flush(n)
	}
}

func (c *stepCluster) flush(n *stepNode) {
	for n.rn.HasReady() {
		rd := n.rn.Ready()
		if !raft.IsEmptySnap(rd.Snapshot) {
			if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
				c.t.Fatal(err)
			}
			file, ok := n.store.get(string(rd.Snapshot.Data))
			if !ok {
				c.t.Fatalf("node %d: raft applied snapshot %q its store never received", n.id, rd.Snapshot.Data)
			}
			n.applied = strings.Split(string(file), "\n")
			n.snapRecv++
		}
		if err := n.storage.Append(rd.Entries); err != nil {
			c.t.Fatal(err)
		}
		if !raft.IsEmptyHardState(rd.HardState) {
			_ = n.storage.SetHardState(rd.HardState)
		}
		n.ep.Send(rd.Messages)
		for _, e := range rd.CommittedEntries {
			if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
				n.applied = append(n.applied, string(e.Data))
			}
		}
		n.rn.Advance(rd)
	}
}

// runUntil steps until cond holds, failing after maxRounds.
func (c *stepCluster) runUntil(what string, maxRounds int, cond func() bool) {
	c.t.Helper()
	for i := 0; i < maxRounds; i++ {
		if cond() {
			return
		}
		c.step()
	}
	c.t.Fatalf("after %d rounds (seed %d): still waiting for %s", maxRounds, c.net.Seed(), what)
}

// leader returns the node that leads in the highest term among those given.
func (c *stepCluster) leader(among ...uint64) *stepNode {
	var best *stepNode
	var bestTerm uint64
	for _, id := range among {
		n := c.nodes[id-1]
		st := n.rn.BasicStatus()
		if st.RaftState == raft.StateLeader && st.Term >= bestTerm {
			best, bestTerm = n, st.Term
		}
	}
	return best
}

func (c *stepCluster) propose(n *stepNode, from, to int) {
	for i := from; i < to; i++ {
		if err := n.rn.Propose([]byte(fmt.Sprintf("e%03d", i))); err != nil {
			c.t.Fatal(err)
		}
	}
	c.flush(n)
}

func (c *stepCluster) appliedAtLeast(count int, ids ...uint64) func() bool {
	return func() bool {
		for _, id := range ids {
			if len(c.nodes[id-1].applied) < count {
				return false
			}
		}
		return true
	}
}

func (c *stepCluster) checkIdentical(count int) {
	c.t.Helper()
	var want []string
	for i := 0; i < count; i++ {
		want = append(want, fmt.Sprintf("e%03d", i))
	}
	for _, n := range c.nodes {
		if got := strings.Join(n.applied, ","); got != strings.Join(want, ",") {
			c.t.Fatalf("node %d applied %s", n.id, got)
		}
	}
}

// TestRaftOverMemnet runs three RawNodes through a lossy, reordering,
// duplicating Step-mode network: election, commit, leader isolation and
// re-election, heal, and catch-up of a lagging node through a snapshot.
// It runs several network seeds (CHR2_MEMNET_SEEDS raises the count for a
// soak). Raft draws its election timeouts from crypto/rand, so a seed
// replays the network's faults exactly but not raft's timing.
func TestRaftOverMemnet(t *testing.T) {
	base := testSeed(t)
	runs := 10
	if v, err := strconv.Atoi(os.Getenv("CHR2_MEMNET_SEEDS")); err == nil && v > 0 {
		runs = v
	}
	for i := uint64(0); i < uint64(runs); i++ {
		t.Run(fmt.Sprintf("seed=%d", base+i), func(t *testing.T) { raftScenario(t, base+i) })
	}
}

func raftScenario(t *testing.T, seed uint64) {
	c := newStepCluster(t, seed, 3)
	c.net.SetFaults(Faults{DropRate: 0.05, DuplicateRate: 0.05, ReorderRate: 0.1, MaxDelay: 3 * time.Millisecond})
	all := []uint64{1, 2, 3}

	c.runUntil("a leader", 500, func() bool { return c.leader(all...) != nil })
	lead := c.leader(all...)
	c.propose(lead, 0, 20)
	c.runUntil("20 entries everywhere", 1000, c.appliedAtLeast(20, all...))

	// Isolate the leader: the other two elect a new one and commit without it.
	c.net.Isolate(lead.id)
	var rest []uint64
	for _, id := range all {
		if id != lead.id {
			rest = append(rest, id)
		}
	}
	oldTerm := lead.rn.BasicStatus().Term
	c.runUntil("a new leader in the majority", 1000, func() bool {
		l := c.leader(rest...)
		return l != nil && l.rn.BasicStatus().Term > oldTerm
	})
	lead2 := c.leader(rest...)
	c.propose(lead2, 20, 40)
	c.runUntil("40 entries on the majority", 1000, c.appliedAtLeast(40, rest...))
	if got := len(lead.applied); got != 20 {
		t.Fatalf("isolated old leader applied %d entries, want 20", got)
	}

	// The old leader stays cut off while the new leader compacts its log, so
	// on healing it can only catch up through a snapshot.
	name := fmt.Sprintf("snap-%d", lead2.rn.Status().Applied)
	lead2.store.put(name, []byte(strings.Join(lead2.applied, "\n")))
	cs := raftpb.ConfState{Voters: all}
	applied := lead2.rn.Status().Applied
	if _, err := lead2.storage.CreateSnapshot(applied, &cs, []byte(name)); err != nil {
		t.Fatal(err)
	}
	if err := lead2.storage.Compact(applied); err != nil {
		t.Fatal(err)
	}
	c.net.Heal()
	c.runUntil("old leader catches up by snapshot", 2000, func() bool { return lead.snapRecv > 0 && len(lead.applied) >= 40 })
	l := c.leader(all...)
	c.propose(l, 40, 60)
	c.runUntil("60 entries everywhere", 2000, c.appliedAtLeast(60, all...))
	c.checkIdentical(60)
	t.Logf("rounds %d, leaders %d then %d, stats %+v", c.round, lead.id, lead2.id, c.net.Stats())
	if s := c.net.Stats(); s.SnapshotsOK == 0 || s.DroppedRandom == 0 || s.Duplicated == 0 || s.Reordered == 0 {
		t.Fatalf("faults or snapshots not exercised: %+v", s)
	}
}
