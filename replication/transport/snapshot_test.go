package transport

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func snapMsg(from, to uint64, meta string, index uint64) raftpb.Message {
	return raftpb.Message{
		Type: raftpb.MsgSnap, From: from, To: to, Term: 3,
		Snapshot: &raftpb.Snapshot{
			Data:     []byte(meta),
			Metadata: raftpb.SnapshotMetadata{Index: index, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}}},
		},
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSnapshotStreamDeliveredIntact(t *testing.T) {
	const size = 5<<20 + 12345 // several chunks and a partial last one
	storeA, storeB := newMemStore(), newMemStore()
	file := randomBytes(1, size)
	storeA.put("snap-100", file)
	a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	connect(a, b)

	storedBeforeProcess := make(chan bool, 1)
	recB.setOnProcess(func(m raftpb.Message) error {
		if m.Type == raftpb.MsgSnap {
			got, ok := storeB.get(string(m.Snapshot.Data))
			storedBeforeProcess <- ok && bytes.Equal(got, file)
		}
		return nil
	})
	a.Send([]raftpb.Message{snapMsg(1, 2, "snap-100", 100)})
	recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
	if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFinish {
		t.Fatalf("sender reported %v, want SnapshotFinish", st)
	}
	if !<-storedBeforeProcess {
		t.Fatal("MsgSnap reached the handler before the file was stored intact")
	}
	if got := recB.messages(); len(got) != 1 || got[0].Snapshot.Metadata.Index != 100 {
		t.Fatalf("receiver handler saw %d messages: %+v", len(got), got)
	}
}

func TestSnapshotFailuresReported(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(sender, receiver *memStore) (meta string, receiverHasStore bool)
	}{
		{"receiver store refuses", func(s, r *memStore) (string, bool) {
			s.put("m", randomBytes(2, 300<<10))
			r.receiveErr = errStoreRefused
			return "m", true
		}},
		{"sender cannot open", func(s, r *memStore) (string, bool) { return "missing", true }},
		{"file shorter than advertised", func(s, r *memStore) (string, bool) {
			s.put("m", randomBytes(3, 100<<10))
			s.sizeLie = 10
			return "m", true
		}},
		{"file longer than advertised", func(s, r *memStore) (string, bool) {
			s.put("m", randomBytes(4, 100<<10))
			s.sizeLie = -10
			return "m", true
		}},
		{"receiver has no store", func(s, r *memStore) (string, bool) {
			s.put("m", []byte("x"))
			return "m", false
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storeA, storeB := newMemStore(), newMemStore()
			meta, withStore := tc.prepare(storeA, storeB)
			a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
			b, recB := newTransport(t, 2, func(c *Config) {
				if withStore {
					c.Snapshots = storeB
				}
			})
			connect(a, b)
			a.Send([]raftpb.Message{snapMsg(1, 2, meta, 5)})
			recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
			if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFailure {
				t.Fatalf("sender reported %v, want SnapshotFailure", st)
			}
			if _, ok := storeB.get(meta); ok {
				t.Fatal("receiver stored a snapshot from a failed stream")
			}
			// The failed stream did not deliver the MsgSnap, and the raft
			// stream beside it still works.
			a.Send([]raftpb.Message{app(1, 2, 9, nil)})
			recB.waitUntil(t, waitTimeout, "message after failure", func(r *recorder) bool { return len(r.msgs) == 1 })
			if m := recB.messages()[0]; m.Type != raftpb.MsgApp {
				t.Fatalf("receiver handler got %v", m.Type)
			}
		})
	}
}

func TestSnapshotFailsWhenHandlerRefuses(t *testing.T) {
	storeA, storeB := newMemStore(), newMemStore()
	storeA.put("m", []byte("state"))
	a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	recB.setOnProcess(func(raftpb.Message) error { return errors.New("raft node stopped") })
	connect(a, b)
	a.Send([]raftpb.Message{snapMsg(1, 2, "m", 5)})
	recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
	if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFailure {
		t.Fatalf("sender reported %v, want SnapshotFailure", st)
	}
}

// A snapshot stream must not delay heartbeats: the receiver's store blocks
// mid-stream while raft messages keep flowing on the other connection.
func TestSnapshotDoesNotBlockRaftStream(t *testing.T) {
	storeA, storeB := newMemStore(), newMemStore()
	storeA.put("big", randomBytes(5, 8<<20))
	entered := make(chan struct{})
	storeB.block, storeB.entered = make(chan struct{}), entered
	a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	connect(a, b)
	a.Send([]raftpb.Message{snapMsg(1, 2, "big", 5)})
	<-entered
	for i := uint64(0); i < 100; i++ {
		a.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 3, Commit: i}})
	}
	recB.waitUntil(t, waitTimeout, "heartbeats during snapshot", func(r *recorder) bool { return len(r.msgs) == 100 })
	close(storeB.block)
	recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
	if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFinish {
		t.Fatalf("sender reported %v", st)
	}
}

func TestDuplicateMsgSnapDropped(t *testing.T) {
	storeA, storeB := newMemStore(), newMemStore()
	storeA.put("m", []byte("state"))
	entered := make(chan struct{})
	storeB.block, storeB.entered = make(chan struct{}), entered
	a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
	b, _ := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	connect(a, b)
	a.Send([]raftpb.Message{snapMsg(1, 2, "m", 5)})
	<-entered
	a.Send([]raftpb.Message{snapMsg(1, 2, "m", 5)})
	if got := counterValue(a.metrics.drops.WithLabelValues("2", dropSnapshotBusy)); got != 1 {
		t.Fatalf("duplicate drops = %v, want 1", got)
	}
	close(storeB.block)
	recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
	// After the report, a new MsgSnap starts a new stream.
	a.Send([]raftpb.Message{snapMsg(1, 2, "m", 6)})
	recA.waitUntil(t, waitTimeout, "second report", func(r *recorder) bool { return len(r.snaps[2]) == 2 })
	if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFinish || st[1] != raft.SnapshotFinish {
		t.Fatalf("statuses %v", st)
	}
}

// A stream whose end checksum is wrong is refused before Process.
func TestSnapshotChecksumMismatchRejected(t *testing.T) {
	storeB := newMemStore()
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	c := rawDial(t, b)
	fr := rawHandshake(t, c, streamSnapshot, 1)
	sm := snapMsg(1, 2, "m", 5)
	p, _ := sm.Marshal()
	var out []byte
	out = appendFrame(out, frameMsg, p)
	out = appendFrame(out, frameSnapBegin, encodeU64(10))
	out = appendFrame(out, frameSnapChunk, []byte("0123456789"))
	out = appendFrame(out, frameSnapEnd, encodeU32(12345))
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	typ, payload, err := fr.next(maxControlFrameBytes)
	if err != nil || typ != frameSnapAck {
		t.Fatalf("type %d err %v, want ack", typ, err)
	}
	status, reason, _ := decodeCodeText(payload)
	if status != snapAckFail {
		t.Fatalf("ack status %d (%q), want failure", status, reason)
	}
	if recB.count() != 0 {
		t.Fatal("MsgSnap delivered despite checksum mismatch")
	}
	if _, ok := storeB.get("m"); ok {
		t.Fatal("store kept a corrupt snapshot")
	}
}

func TestEmptySnapshotFile(t *testing.T) {
	storeA, storeB := newMemStore(), newMemStore()
	storeA.put("empty", []byte{})
	a, recA := newTransport(t, 1, func(c *Config) { c.Snapshots = storeA })
	b, recB := newTransport(t, 2, func(c *Config) { c.Snapshots = storeB })
	connect(a, b)
	a.Send([]raftpb.Message{snapMsg(1, 2, "empty", 1)})
	recA.waitUntil(t, waitTimeout, "snapshot report", func(r *recorder) bool { return len(r.snaps[2]) == 1 })
	if st := recA.snapshotStatuses(2); st[0] != raft.SnapshotFinish {
		t.Fatalf("statuses %v", st)
	}
	if recB.count() != 1 {
		t.Fatalf("handler saw %d messages", recB.count())
	}
}
