package replication_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/chr2sql/chr2sql/fence"
	. "github.com/chr2sql/chr2sql/replication"
	"github.com/chr2sql/chr2sql/replication/memnet"
	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/vfs/faultfs"
)

// listSM is a TEST-ONLY state machine: it appends every normal entry's
// data to a list, keeps its applied index in memory (as if its state were
// lost with the process unless snapshotted) and snapshots to a file.
type listSM struct {
	mu      sync.Mutex
	applied uint64
	appTerm uint64
	items   []string
	leader  bool
	term    uint64
}

func (s *listSM) Apply(ents []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range ents {
		if e.Index != s.applied+1 {
			return fmt.Errorf("listSM: gap: applied %d, got %d", s.applied, e.Index)
		}
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 {
			s.items = append(s.items, string(e.Data))
		}
		s.applied, s.appTerm = e.Index, e.Term
	}
	return nil
}

func (s *listSM) AppliedIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

func (s *listSM) SetLeadership(leader bool, term, _ uint64) {
	s.mu.Lock()
	s.leader, s.term = leader, term
	s.mu.Unlock()
}

func (s *listSM) Snapshot(_ context.Context, path string) (uint64, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := fmt.Sprintf("%d %d\n%s", s.applied, s.appTerm, strings.Join(s.items, "\n"))
	return s.applied, s.appTerm, os.WriteFile(path, []byte(body), 0o644)
}

func (s *listSM) Restore(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Sscan(lines[0], &s.applied, &s.appTerm)
	s.items = nil
	for _, l := range lines[1:] {
		if l != "" {
			s.items = append(s.items, l)
		}
	}
	return nil
}

func (s *listSM) snapshot() (uint64, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied, append([]string(nil), s.items...)
}

// group is three Nodes on a memnet network with faultfs logs.
type group struct {
	t     *testing.T
	net   *memnet.Network
	dirs  map[uint64]string
	fs    map[uint64]*faultfs.FS
	sms   map[uint64]*listSM
	nodes map[uint64]*Node
}

func newGroup(t *testing.T, seed uint64) *group {
	g := &group{t: t, net: memnet.New(memnet.Options{Seed: seed, Mode: memnet.RealTime}), dirs: map[uint64]string{},
		fs: map[uint64]*faultfs.FS{}, sms: map[uint64]*listSM{}, nodes: map[uint64]*Node{}}
	for id := uint64(1); id <= 3; id++ {
		g.dirs[id] = t.TempDir()
	}
	// Registered after the TempDirs so it runs before their removal
	// (cleanups run last-in first-out): nodes stop writing first.
	t.Cleanup(func() {
		for _, n := range g.nodes {
			n.Stop()
		}
		g.net.Close()
	})
	for id := uint64(1); id <= 3; id++ {
		g.fs[id] = faultfs.New(int64(seed + id))
		g.sms[id] = &listSM{}
		g.start(id)
	}
	return g
}

func (g *group) start(id uint64) {
	g.t.Helper()
	g.net.SetEndpointConfig(id, memnet.EndpointConfig{Snapshots: NewSnapshotStore(g.dirs[id])})
	n, err := Start(Config{NodeID: id, ClusterID: 7, DataDir: g.dirs[id], FS: g.fs[id],
		Peers: map[uint64]string{1: "a", 2: "b", 3: "c"}, Transport: g.net.Endpoint(id), StateMachine: g.sms[id],
		TickInterval: 10 * time.Millisecond, SnapshotEntries: 50, KeepEntries: 10})
	if err != nil {
		g.t.Fatalf("start %d: %v", id, err)
	}
	g.nodes[id] = n
}

func (g *group) leader() *Node {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range g.nodes {
			if st := n.Status(); st.Role == "leader" {
				return n
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.t.Fatal("no leader")
	return nil
}

// propose retries a proposal on the current leader until it is appended.
func (g *group) propose(data string) {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := g.leader().Propose(context.Background(), []byte(data)); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.t.Fatalf("could not propose %q", data)
}

// converged waits for every running node to apply the same items.
func (g *group) converged(want int) []string {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var first []string
		ok := true
		for _, id := range g.ids() {
			_, items := g.sms[id].snapshot()
			if first == nil {
				first = items
			}
			if len(items) < want || strings.Join(items, ",") != strings.Join(first, ",") {
				ok = false
			}
		}
		if ok {
			return first
		}
		if time.Now().After(deadline) {
			for _, id := range g.ids() {
				a, items := g.sms[id].snapshot()
				g.t.Logf("node %d applied %d: %d items", id, a, len(items))
			}
			g.t.Fatal("not converged")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (g *group) ids() []uint64 {
	ids := make([]uint64, 0, len(g.nodes))
	for id := range g.nodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func TestElectsCommitsAndSurvivesLeaderIsolation(t *testing.T) {
	g := newGroup(t, 11)
	for i := 0; i < 20; i++ {
		g.propose(fmt.Sprint("a", i))
	}
	g.converged(20)
	old := g.leader()
	oldTerm := old.Status().Term
	g.net.Isolate(old.Status().NodeID)
	// The isolated leader steps down (CheckQuorum); the others elect.
	deadline := time.Now().Add(10 * time.Second)
	for old.Status().Role == "leader" {
		if time.Now().After(deadline) {
			t.Fatal("isolated leader never stepped down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := old.Propose(context.Background(), []byte("zombie")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed leader accepted a proposal: %v", err)
	}
	var nl *Node
	for nl == nil || nl == old {
		nl = g.leader()
		time.Sleep(5 * time.Millisecond)
	}
	if nl.Status().Term <= oldTerm {
		t.Fatalf("new leader's term %d not above %d", nl.Status().Term, oldTerm)
	}
	for i := 0; i < 20; i++ {
		g.propose(fmt.Sprint("b", i))
	}
	g.net.Heal()
	items := g.converged(40)
	for _, it := range items {
		if it == "zombie" {
			t.Fatal("a deposed leader's proposal was applied")
		}
	}
}

// A follower that loses its un-fsynced log in a crash and restarts far
// behind catches up (by snapshot, the log having been compacted).
func TestCrashedFollowerCatchesUp(t *testing.T) {
	g := newGroup(t, 12)
	g.propose("first")
	g.converged(1)
	l := g.leader()
	var f uint64
	for _, id := range g.ids() {
		if id != l.Status().NodeID {
			f = id
			break
		}
	}
	g.fs[f].CrashAfter(0)
	g.nodes[f].Stop()
	delete(g.nodes, f)
	g.fs[f].Crash()
	g.sms[f] = &listSM{} // its in-memory state died with it
	for i := 0; i < 150; i++ {
		g.propose(fmt.Sprint("x", i))
	}
	// Wait until the leader compacted the log the follower would need.
	deadline := time.Now().Add(10 * time.Second)
	for g.leader().Status().FirstIndex <= 10 {
		if time.Now().After(deadline) {
			t.Fatalf("leader never compacted its log: %+v", g.leader().Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.start(f)
	g.converged(151)
	if st := g.nodes[f].Status(); st.FirstIndex <= 2 {
		t.Fatalf("restarted follower log starts at %d; expected a snapshot install", st.FirstIndex)
	}
}

func TestRefusesLogWithoutManifest(t *testing.T) {
	dir := t.TempDir()
	sm := &listSM{}
	net := memnet.New(memnet.Options{Seed: 1, Mode: memnet.RealTime})
	defer net.Close()
	n, err := Start(Config{NodeID: 1, ClusterID: 1, DataDir: dir, Transport: net.Endpoint(1), StateMachine: sm,
		TickInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Status().Role != "leader" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := n.Propose(context.Background(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	n.Stop()
	if err := os.Remove(filepath.Join(dir, fence.FileName)); err != nil {
		t.Fatal(err)
	}
	_, err = Start(Config{NodeID: 1, ClusterID: 1, DataDir: dir, FS: vfs.OS, Transport: net.Endpoint(1),
		StateMachine: &listSM{}})
	if !errors.Is(err, ErrNoManifest) {
		t.Fatalf("start without manifest: %v", err)
	}
}

// TestProposeBatchSharesOneFsync: the entries of one batch are appended in
// one Ready and so share one WAL fsync — the group commit the SQL writer
// relies on for throughput.
func TestProposeBatchSharesOneFsync(t *testing.T) {
	sm := &listSM{}
	net := memnet.New(memnet.Options{Seed: 1, Mode: memnet.RealTime})
	defer net.Close()
	n, err := Start(Config{NodeID: 1, ClusterID: 1, DataDir: t.TempDir(), Transport: net.Endpoint(1), StateMachine: sm,
		TickInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for n.Status().Role != "leader" || n.Status().AppliedIndex < n.Status().CommitIndex {
		if time.Now().After(deadline) {
			t.Fatalf("no leader: %+v", n.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := n.Status().AppliedIndex
	before := n.WALStats()
	batch := make([][]byte, 50)
	for i := range batch {
		batch[i] = []byte(fmt.Sprint("b", i))
	}
	if got, err := n.ProposeBatch(context.Background(), batch); err != nil || got != len(batch) {
		t.Fatalf("ProposeBatch: %d, %v", got, err)
	}
	for n.Status().AppliedIndex < start+uint64(len(batch)) {
		if time.Now().After(deadline) {
			t.Fatalf("batch not applied: %+v", n.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// One append (one write, one group-commit wait) holds the whole batch.
	// FsyncRounds is not compared: the background preparation of the spare
	// segment fdatasyncs too, whenever it runs.
	after := n.WALStats()
	if after.Records-before.Records != uint64(len(batch)) || after.Appends-before.Appends != 1 {
		t.Fatalf("batch of %d: %d records in %d appends", len(batch),
			after.Records-before.Records, after.Appends-before.Appends)
	}
}
