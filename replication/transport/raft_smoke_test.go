package transport

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap/zaptest"
)

// raftNode is a test-only driver: a raft.RawNode on raft.MemoryStorage run by
// one goroutine, fed by a TCP Transport. Its state machine is the ordered
// list of applied entry payloads; snapshots serialise that list into the
// node's memStore under the name carried in Snapshot.Data.
type raftNode struct {
	id      uint64
	voters  []uint64
	tr      *Transport
	store   *memStore
	storage *raft.MemoryStorage
	rn      *raft.RawNode

	inbox  chan raftpb.Message
	events chan func() // reports and proposals, run on the node goroutine
	stop   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	applied  []string
	lead     uint64
	snapRecv int
	changed  chan struct{}
}

func newRaftNode(t *testing.T, id uint64, voters []uint64, unstarted bool) *raftNode {
	t.Helper()
	store := newMemStore()
	tr, err := New(Config{NodeID: id, ClusterID: 7, ListenAddr: "127.0.0.1:0", Snapshots: store,
		Logger: zaptest.NewLogger(t).Named(fmt.Sprint("n", id)), WriteTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	storage := raft.NewMemoryStorage()
	if err := storage.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
		Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters}}}); err != nil {
		t.Fatal(err)
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID: id, ElectionTick: 10, HeartbeatTick: 1, Storage: storage,
		MaxSizePerMsg: 64 << 10, MaxInflightMsgs: 64, CheckQuorum: true, PreVote: true,
		Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &raftNode{id: id, voters: voters, tr: tr, store: store, storage: storage, rn: rn,
		inbox: make(chan raftpb.Message, 4096), events: make(chan func(), 1024),
		stop: make(chan struct{}), done: make(chan struct{}), changed: make(chan struct{})}
	t.Cleanup(n.shutdown)
	if !unstarted {
		n.start(t)
	}
	return n
}

func (n *raftNode) start(t *testing.T) {
	if err := n.tr.Start(n); err != nil {
		t.Fatal(err)
	}
	go n.run()
}

func (n *raftNode) shutdown() {
	select {
	case <-n.stop:
		return
	default:
	}
	close(n.stop)
	_ = n.tr.Close()
	select {
	case <-n.done:
	case <-time.After(waitTimeout):
		panic("raft node did not stop")
	}
}

// Process, ReportUnreachable and ReportSnapshot implement replication.Handler
// by handing work to the node goroutine.
func (n *raftNode) Process(ctx context.Context, m raftpb.Message) error {
	select {
	case n.inbox <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stop:
		return fmt.Errorf("node %d stopped", n.id)
	}
}

func (n *raftNode) ReportUnreachable(id uint64) {
	n.post(func() { n.rn.ReportUnreachable(id) })
}

func (n *raftNode) ReportSnapshot(id uint64, st raft.SnapshotStatus) {
	n.post(func() { n.rn.ReportSnapshot(id, st) })
}

func (n *raftNode) post(f func()) {
	select {
	case n.events <- f:
	case <-n.stop:
	}
}

func (n *raftNode) propose(data string) {
	n.post(func() { _ = n.rn.Propose([]byte(data)) })
}

func (n *raftNode) run() {
	defer close(n.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
			n.rn.Tick()
		case m := <-n.inbox:
			_ = n.rn.Step(m)
		case f := <-n.events:
			f()
		}
		for n.rn.HasReady() {
			n.handleReady(n.rn.Ready())
		}
	}
}

func (n *raftNode) handleReady(rd raft.Ready) {
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			panic(err)
		}
		n.restore(rd.Snapshot)
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		panic(err)
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		_ = n.storage.SetHardState(rd.HardState)
	}
	n.tr.Send(rd.Messages)
	n.mu.Lock()
	for _, e := range rd.CommittedEntries {
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			n.applied = append(n.applied, string(e.Data))
		}
	}
	if rd.SoftState != nil {
		n.lead = rd.SoftState.Lead
	}
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
	n.rn.Advance(rd)
}

func (n *raftNode) restore(s raftpb.Snapshot) {
	file, ok := n.store.get(string(s.Data))
	if !ok {
		panic(fmt.Sprintf("node %d: raft applied snapshot %q that the store never received", n.id, s.Data))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.applied = nil
	if len(file) > 0 {
		n.applied = strings.Split(string(file), "\n")
	}
	n.snapRecv++
}

// compact snapshots the applied state into the node's store and drops the
// log behind it, so a lagging peer can only catch up through MsgSnap.
func (n *raftNode) compact(t *testing.T) {
	done := make(chan error, 1)
	n.post(func() {
		st := n.rn.Status()
		n.mu.Lock()
		file := []byte(strings.Join(n.applied, "\n"))
		n.mu.Unlock()
		name := fmt.Sprintf("snap-%d-%d", n.id, st.Applied)
		n.store.put(name, file)
		cs := raftpb.ConfState{Voters: n.voters} // membership is static in this test
		if _, err := n.storage.CreateSnapshot(st.Applied, &cs, []byte(name)); err != nil {
			done <- err
			return
		}
		done <- n.storage.Compact(st.Applied)
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func (n *raftNode) waitUntil(t *testing.T, what string, cond func(n *raftNode) bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		ok, ch := cond(n), n.changed
		n.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("node %d: timed out waiting for %s", n.id, what)
		}
	}
}

func waitLeader(t *testing.T, nodes []*raftNode) *raftNode {
	t.Helper()
	var lead uint64
	nodes[0].waitUntil(t, "a leader", func(n *raftNode) bool { lead = n.lead; return lead != 0 })
	for _, n := range nodes {
		if n.id == lead {
			return n
		}
	}
	t.Fatalf("leader %d is not among the running nodes", lead)
	return nil
}

// TestRaftOverTCP runs three RawNodes over real TCP transports: two elect a
// leader and commit while the third is down; the leader compacts its log;
// the third starts and can catch up only through a streamed snapshot; then
// all three commit more and hold identical state.
func TestRaftOverTCP(t *testing.T) {
	voters := []uint64{1, 2, 3}
	nodes := []*raftNode{newRaftNode(t, 1, voters, false), newRaftNode(t, 2, voters, false), newRaftNode(t, 3, voters, true)}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.tr.AddPeer(b.id, b.tr.Addr().String())
			}
		}
	}
	lead := waitLeader(t, nodes[:2])
	for i := 0; i < 50; i++ {
		lead.propose(fmt.Sprintf("e%03d", i))
	}
	for _, n := range nodes[:2] {
		n.waitUntil(t, "50 entries", func(n *raftNode) bool { return len(n.applied) == 50 })
	}
	lead.compact(t)

	nodes[2].start(t)
	nodes[2].waitUntil(t, "snapshot catch-up", func(n *raftNode) bool { return n.snapRecv == 1 && len(n.applied) >= 50 })
	for i := 50; i < 100; i++ {
		lead.propose(fmt.Sprintf("e%03d", i))
	}
	var want []string
	for i := 0; i < 100; i++ {
		want = append(want, fmt.Sprintf("e%03d", i))
	}
	for _, n := range nodes {
		n.waitUntil(t, "100 entries", func(n *raftNode) bool { return len(n.applied) == 100 })
		n.mu.Lock()
		got := strings.Join(n.applied, ",")
		n.mu.Unlock()
		if got != strings.Join(want, ",") {
			t.Fatalf("node %d applied %s", n.id, got)
		}
	}
}
