package memnet

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

var seedFlag = flag.Uint64("memnet.seed", 0, "seed for randomized memnet tests (0: derive from the clock)")

// testSeed returns the seed for a randomized test and logs it for replay.
func testSeed(t testing.TB) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -memnet.seed=%d)", s, s)
	return s
}

// delivery is one event observed by a handler.
type delivery struct {
	at   uint64 // receiving node
	kind string // "msg", "unreachable", "snap"
	from uint64
	idx  uint64
	typ  raftpb.MessageType
	snap raft.SnapshotStatus
}

func (d delivery) String() string {
	return fmt.Sprintf("%d<-%d:%s:%v:%d:%d", d.at, d.from, d.kind, d.typ, d.idx, d.snap)
}

// recorder is a test-only replication.Handler that logs every event.
type recorder struct {
	id        uint64
	mu        sync.Mutex
	log       []delivery
	nmsgs     int
	sink      func(d delivery) // optional: sees every event in global order
	onProcess func(m raftpb.Message) error
	changed   chan struct{}
}

func newRecorder(id uint64) *recorder { return &recorder{id: id, changed: make(chan struct{})} }

func (r *recorder) add(d delivery) {
	if r.sink != nil {
		r.sink(d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, d)
	if d.kind == "msg" {
		r.nmsgs++
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Process(_ context.Context, m raftpb.Message) error {
	if r.onProcess != nil {
		if err := r.onProcess(m); err != nil {
			return err
		}
	}
	r.add(delivery{at: r.id, kind: "msg", from: m.From, idx: m.Index, typ: m.Type})
	return nil
}

func (r *recorder) ReportUnreachable(id uint64) {
	r.add(delivery{at: r.id, kind: "unreachable", from: id})
}

func (r *recorder) ReportSnapshot(id uint64, st raft.SnapshotStatus) {
	r.add(delivery{at: r.id, kind: "snap", from: id, snap: st})
}

func (r *recorder) events() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.log...)
}

func (r *recorder) msgCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nmsgs
}

func (r *recorder) msgs() []delivery {
	var out []delivery
	for _, d := range r.events() {
		if d.kind == "msg" {
			out = append(out, d)
		}
	}
	return out
}

func (r *recorder) count(kind string) int {
	n := 0
	for _, d := range r.events() {
		if d.kind == kind {
			n++
		}
	}
	return n
}

// waitFor blocks until cond holds, waking on every recorded event.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// cluster starts endpoints 1..size on n, all peered, each with a recorder.
func cluster(t *testing.T, n *Network, size int) []*recorder {
	t.Helper()
	recs := make([]*recorder, size+1)
	for i := 1; i <= size; i++ {
		recs[i] = newRecorder(uint64(i))
		ep := n.Endpoint(uint64(i))
		for j := 1; j <= size; j++ {
			if j != i {
				ep.AddPeer(uint64(j), fmt.Sprintf("node-%d", j))
			}
		}
		if err := ep.Start(recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

func msg(from, to, idx uint64) raftpb.Message {
	return raftpb.Message{Type: raftpb.MsgApp, From: from, To: to, Index: idx, Term: 1}
}

// memStore is a test-only SnapshotStore holding files in memory.
type memStore struct {
	mu      sync.Mutex
	files   map[string][]byte
	refuse  error
	onStore func(meta string)
}

func newMemStore() *memStore { return &memStore{files: map[string][]byte{}} }

func (s *memStore) put(meta string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[meta] = b
}

func (s *memStore) get(meta string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[meta]
	return b, ok
}

func (s *memStore) OpenSnapshot(meta []byte) (io.ReadCloser, int64, error) {
	b, ok := s.get(string(meta))
	if !ok {
		return nil, 0, fmt.Errorf("no snapshot %q", meta)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (s *memStore) ReceiveSnapshot(meta []byte, r io.Reader, size int64) error {
	if s.refuse != nil {
		return s.refuse
	}
	b, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return io.ErrUnexpectedEOF
	}
	s.put(string(meta), b)
	if s.onStore != nil {
		s.onStore(string(meta))
	}
	return nil
}
