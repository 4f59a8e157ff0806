package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap/zaptest"
)

// recorder is a test-only replication.Handler that records everything.
type recorder struct {
	mu          sync.Mutex
	msgs        []raftpb.Message
	unreachable map[uint64]int
	snaps       map[uint64][]raft.SnapshotStatus
	changed     chan struct{} // closed and replaced on every event
	onProcess   func(m raftpb.Message) error
}

func newRecorder() *recorder {
	return &recorder{unreachable: map[uint64]int{}, snaps: map[uint64][]raft.SnapshotStatus{}, changed: make(chan struct{})}
}

func (r *recorder) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Process(_ context.Context, m raftpb.Message) error {
	r.mu.Lock()
	hook := r.onProcess
	r.mu.Unlock()
	if hook != nil {
		if err := hook(m); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	r.notifyLocked()
	return nil
}

func (r *recorder) setOnProcess(f func(m raftpb.Message) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onProcess = f
}

func (r *recorder) ReportUnreachable(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unreachable[id]++
	r.notifyLocked()
}

func (r *recorder) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps[id] = append(r.snaps[id], status)
	r.notifyLocked()
}

// waitUntil blocks until cond (evaluated under the recorder's lock) holds or
// the deadline passes. It wakes on every recorded event, never on a timer.
func (r *recorder) waitUntil(t testing.TB, timeout time.Duration, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func (r *recorder) messages() []raftpb.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]raftpb.Message(nil), r.msgs...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func (r *recorder) snapshotStatuses(id uint64) []raft.SnapshotStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]raft.SnapshotStatus(nil), r.snaps[id]...)
}

// memStore is a test-only SnapshotStore keeping files in memory, keyed by the
// snapshot metadata bytes.
type memStore struct {
	mu         sync.Mutex
	files      map[string][]byte
	received   map[string]bool
	receiveErr error
	sizeLie    int64         // added to the advertised size by OpenSnapshot
	block      chan struct{} // if set, ReceiveSnapshot waits for it to close
	entered    chan struct{} // if set, closed when ReceiveSnapshot starts
}

func newMemStore() *memStore {
	return &memStore{files: map[string][]byte{}, received: map[string]bool{}}
}

func (s *memStore) put(meta string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[meta] = data
}

func (s *memStore) get(meta string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[meta]
	return b, ok && s.received[meta]
}

func (s *memStore) OpenSnapshot(meta []byte) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[string(meta)]
	if !ok {
		return nil, 0, fmt.Errorf("no snapshot %q", meta)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)) + s.sizeLie, nil
}

func (s *memStore) ReceiveSnapshot(meta []byte, r io.Reader, size int64) error {
	s.mu.Lock()
	if s.entered != nil {
		close(s.entered)
		s.entered = nil
	}
	s.mu.Unlock()
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	fail := s.receiveErr
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	// Never trust size for an allocation: the stream may be hostile.
	b, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return io.ErrUnexpectedEOF
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[string(meta)] = b
	s.received[string(meta)] = true
	return nil
}

var errStoreRefused = errors.New("test store refuses snapshots")

type tcfg func(*Config)

// newTransport starts a transport on a loopback port with a recorder.
func newTransport(t testing.TB, id uint64, opts ...tcfg) (*Transport, *recorder) {
	t.Helper()
	cfg := Config{
		NodeID: id, ClusterID: 7, ListenAddr: "127.0.0.1:0",
		Meta:   map[string]string{"pg-addr": fmt.Sprintf("127.0.0.1:%d", 5430+id)},
		Logger: zaptest.NewLogger(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%d): %v", id, err)
	}
	rec := newRecorder()
	if err := tr.Start(rec); err != nil {
		t.Fatalf("Start(%d): %v", id, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, rec
}

func connect(trs ...*Transport) {
	for _, a := range trs {
		for _, b := range trs {
			if a != b {
				a.AddPeer(b.cfg.NodeID, b.Addr().String())
			}
		}
	}
}

func app(from, to, index uint64, payload []byte) raftpb.Message {
	return raftpb.Message{
		Type: raftpb.MsgApp, From: from, To: to, Term: 1, Index: index,
		Entries: []raftpb.Entry{{Term: 1, Index: index + 1, Data: payload}},
	}
}
