package transport

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.etcd.io/raft/v3/raftpb"
)

const waitTimeout = 10 * time.Second

func TestOrderingPreservedPerPeer(t *testing.T) {
	const n = 20000
	a, _ := newTransport(t, 1, func(c *Config) { c.SendQueue = n })
	b, recB := newTransport(t, 2)
	connect(a, b)
	payload := make([]byte, 100)
	for i := uint64(0); i < n; i += 100 {
		batch := make([]raftpb.Message, 0, 100)
		for j := i; j < i+100; j++ {
			batch = append(batch, app(1, 2, j, payload))
		}
		a.Send(batch)
	}
	recB.waitUntil(t, waitTimeout, "all messages", func(r *recorder) bool { return len(r.msgs) == n })
	for i, m := range recB.messages() {
		if m.Index != uint64(i) || m.From != 1 || m.To != 2 || len(m.Entries) != 1 || len(m.Entries[0].Data) != 100 {
			t.Fatalf("message %d arrived as %+v", i, m)
		}
	}
	if got := counterValue(a.metrics.msgsSent.WithLabelValues("2")); got != n {
		t.Fatalf("sent counter = %v, want %d", got, n)
	}
	if got := counterValue(b.metrics.msgsRecv.WithLabelValues("1")); got != n {
		t.Fatalf("received counter = %v, want %d", got, n)
	}
}

func TestThreeNodeMeshAndPeerMeta(t *testing.T) {
	trs := make([]*Transport, 3)
	recs := make([]*recorder, 3)
	for i := range trs {
		trs[i], recs[i] = newTransport(t, uint64(i+1))
	}
	connect(trs...)
	const perPeer = 500
	for i := uint64(0); i < perPeer; i++ {
		for _, a := range trs {
			for _, b := range trs {
				if a != b {
					a.Send([]raftpb.Message{app(a.cfg.NodeID, b.cfg.NodeID, i, nil)})
				}
			}
		}
	}
	for i, rec := range recs {
		rec.waitUntil(t, waitTimeout, "mesh traffic", func(r *recorder) bool { return len(r.msgs) == 2*perPeer })
		next := map[uint64]uint64{}
		for _, m := range rec.messages() {
			if m.To != uint64(i+1) || m.Index != next[m.From] {
				t.Fatalf("node %d: got %d→%d index %d, want index %d", i+1, m.From, m.To, m.Index, next[m.From])
			}
			next[m.From]++
		}
	}
	for _, a := range trs {
		for _, b := range trs {
			if a == b {
				continue
			}
			meta := a.PeerMeta(b.cfg.NodeID)
			if meta["pg-addr"] != b.cfg.Meta["pg-addr"] {
				t.Fatalf("node %d sees meta %v for node %d, want %v", a.cfg.NodeID, meta, b.cfg.NodeID, b.cfg.Meta)
			}
		}
	}
	if trs[0].PeerMeta(99) != nil {
		t.Fatal("PeerMeta of a never-connected peer must be nil")
	}
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	a, recA := newTransport(t, 1)
	b, recB := newTransport(t, 2)
	addr := b.Addr().String()
	connect(a, b)
	a.Send([]raftpb.Message{app(1, 2, 1, nil)})
	recB.waitUntil(t, waitTimeout, "first message", func(r *recorder) bool { return len(r.msgs) == 1 })

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// While b is down, sends fail and a reports it unreachable.
	sendUntil(t, a, func() bool {
		recA.mu.Lock()
		defer recA.mu.Unlock()
		return recA.unreachable[2] > 0
	})

	b2, recB2 := newTransport(t, 2, func(c *Config) { c.ListenAddr = addr })
	_ = b2
	sendUntil(t, a, func() bool { return recB2.count() > 0 })
	m := recB2.messages()[0]
	if m.From != 1 || m.Type != raftpb.MsgApp {
		t.Fatalf("restarted peer got %+v", m)
	}
}

// sendUntil keeps sending a message from a to node 2, waiting for any
// recorder event between sends, until done holds. Raft behaves the same way:
// it retransmits on its own heartbeat schedule.
func sendUntil(t *testing.T, a *Transport, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(20 * time.Millisecond) // raft's retransmission cadence stand-in
	defer tick.Stop()
	for i := uint64(100); !done(); i++ {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached before deadline")
		}
		a.Send([]raftpb.Message{app(1, 2, i, nil)})
		<-tick.C
	}
}

// hangingListener accepts connections and never answers, so a dialer is
// stuck in its handshake.
func hangingListener(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln
}

func TestQueueOverflowDropsAndReportsUnreachable(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, recA := newTransport(t, 1, func(c *Config) {
		c.SendQueue = 4
		c.WriteTimeout = time.Minute
		c.Registerer = reg
	})
	ln := hangingListener(t)
	a.AddPeer(2, ln.Addr().String())
	msgs := make([]raftpb.Message, 100)
	for i := range msgs {
		msgs[i] = app(1, 2, uint64(i), nil)
	}
	start := time.Now()
	a.Send(msgs)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Send blocked for %v", d)
	}
	recA.waitUntil(t, waitTimeout, "unreachable report", func(r *recorder) bool { return r.unreachable[2] > 0 })
	// The writer holds at most one message in its stuck handshake and the
	// queue holds four, so at least 95 were dropped.
	if got := counterValue(a.metrics.drops.WithLabelValues("2", dropQueueFull)); got < 95 {
		t.Fatalf("queue_full drops = %v, want ≥ 95", got)
	}
	if !gathered(t, reg, "chr2_raft_transport_dropped_messages_total") {
		t.Fatal("drops not exported through the registerer")
	}
	// Close must not wait for the hung handshake.
	start = time.Now()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with a hung handshake", d)
	}
}

func TestUnknownPeerReportedUnreachable(t *testing.T) {
	a, recA := newTransport(t, 1)
	a.Send([]raftpb.Message{app(1, 42, 0, nil)})
	recA.waitUntil(t, waitTimeout, "unreachable report", func(r *recorder) bool { return r.unreachable[42] == 1 })
}

func TestWrongClusterRefused(t *testing.T) {
	a, recA := newTransport(t, 1)
	b, recB := newTransport(t, 2, func(c *Config) { c.ClusterID = 8 })
	connect(a, b)
	_, _, err := a.dialPeer(a.ctx, 2, b.Addr().String(), streamRaft)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("dial into another cluster: err = %v, want ErrRejected", err)
	}
	a.Send([]raftpb.Message{app(1, 2, 0, nil)})
	recA.waitUntil(t, waitTimeout, "unreachable report", func(r *recorder) bool { return r.unreachable[2] > 0 })
	if recB.count() != 0 {
		t.Fatal("a message crossed a cluster boundary")
	}
	if a.PeerMeta(2) != nil || b.PeerMeta(1) != nil {
		t.Fatal("meta recorded for a refused handshake")
	}
}

func TestWrongNodeAtAddressRefused(t *testing.T) {
	a, _ := newTransport(t, 1)
	b, _ := newTransport(t, 2)
	_, _, err := a.dialPeer(a.ctx, 3, b.Addr().String(), streamRaft)
	if !errors.Is(err, ErrWrongPeer) {
		t.Fatalf("err = %v, want ErrWrongPeer", err)
	}
}

func TestOversizedMessageDroppedAtSender(t *testing.T) {
	a, _ := newTransport(t, 1, func(c *Config) { c.MaxFrameBytes = minFrameLimit })
	b, recB := newTransport(t, 2)
	connect(a, b)
	a.Send([]raftpb.Message{app(1, 2, 0, make([]byte, minFrameLimit)), app(1, 2, 1, nil)})
	recB.waitUntil(t, waitTimeout, "the small message", func(r *recorder) bool { return len(r.msgs) == 1 })
	if recB.messages()[0].Index != 1 {
		t.Fatalf("got index %d, want the small message (1)", recB.messages()[0].Index)
	}
	if got := counterValue(a.metrics.drops.WithLabelValues("2", dropTooLarge)); got != 1 {
		t.Fatalf("too_large drops = %v", got)
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"zero node id":    {ListenAddr: "127.0.0.1:0"},
		"tiny frames":     {NodeID: 1, ListenAddr: "127.0.0.1:0", MaxFrameBytes: 10},
		"huge meta value": {NodeID: 1, ListenAddr: "127.0.0.1:0", Meta: map[string]string{"k": string(make([]byte, maxMetaValueBytes+1))}},
		"empty meta key":  {NodeID: 1, ListenAddr: "127.0.0.1:0", Meta: map[string]string{"": "v"}},
	} {
		if tr, err := New(cfg); !errors.Is(err, ErrConfig) {
			if tr != nil {
				_ = tr.Close()
			}
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	tr, err := New(Config{NodeID: 1, ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(newRecorder()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(newRecorder()); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	tr.Send([]raftpb.Message{app(1, 2, 0, nil)}) // after Close: silently dropped, no panic
}

func TestRemovePeerStopsTraffic(t *testing.T) {
	a, recA := newTransport(t, 1)
	b, recB := newTransport(t, 2)
	connect(a, b)
	a.Send([]raftpb.Message{app(1, 2, 0, nil)})
	recB.waitUntil(t, waitTimeout, "first message", func(r *recorder) bool { return len(r.msgs) == 1 })
	a.RemovePeer(2)
	a.Send([]raftpb.Message{app(1, 2, 1, nil)})
	recA.waitUntil(t, waitTimeout, "unreachable after removal", func(r *recorder) bool { return r.unreachable[2] > 0 })
	// Re-adding works again.
	a.AddPeer(2, b.Addr().String())
	a.Send([]raftpb.Message{app(1, 2, 2, nil)})
	recB.waitUntil(t, waitTimeout, "message after re-add", func(r *recorder) bool { return len(r.msgs) == 2 })
	if recB.messages()[1].Index != 2 {
		t.Fatalf("got index %d after re-add", recB.messages()[1].Index)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func gathered(t *testing.T, reg *prometheus.Registry, name string) bool {
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return true
		}
	}
	return false
}
