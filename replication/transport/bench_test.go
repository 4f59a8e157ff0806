package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Benchmarks compare the transport against yardsticks on the same loopback:
// a bare TCP stream of the same frames (BenchmarkYardstickRawStream) and a
// bare TCP ping-pong (BenchmarkYardstickRawRoundTrip). Report the ratio
// transport/yardstick, never absolute numbers in assertions.

const benchEntryBytes = 128

// countingHandler counts messages and wakes a waiter; optionally it answers
// heartbeats through reply.
type countingHandler struct {
	n     atomic.Int64
	wake  chan struct{}
	reply func(m raftpb.Message)
}

func newCountingHandler() *countingHandler { return &countingHandler{wake: make(chan struct{}, 1)} }

func (h *countingHandler) Process(_ context.Context, m raftpb.Message) error {
	if h.reply != nil {
		h.reply(m)
	}
	h.n.Add(1)
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return nil
}
func (h *countingHandler) ReportUnreachable(uint64)                   {}
func (h *countingHandler) ReportSnapshot(uint64, raft.SnapshotStatus) {}

func benchPair(b *testing.B, ha, hb *countingHandler) (*Transport, *Transport) {
	mk := func(id uint64, h *countingHandler) *Transport {
		tr, err := New(Config{NodeID: id, ClusterID: 1, ListenAddr: "127.0.0.1:0", Logger: zap.NewNop(), SendQueue: 8192})
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.Start(h); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	a, c := mk(1, ha), mk(2, hb)
	a.AddPeer(2, c.Addr().String())
	c.AddPeer(1, a.Addr().String())
	return a, c
}

func waitCount(b *testing.B, h *countingHandler, atLeast int64) {
	deadline := time.After(30 * time.Second)
	for h.n.Load() < atLeast {
		select {
		case <-h.wake:
		case <-deadline:
			b.Fatalf("received %d of %d messages (drops?)", h.n.Load(), atLeast)
		}
	}
}

// BenchmarkMessages measures one-way raft message throughput (MsgApp with one
// 128-byte entry), with the sender kept within a window so nothing is dropped.
func BenchmarkMessages(b *testing.B) {
	hb := newCountingHandler()
	a, _ := benchPair(b, newCountingHandler(), hb)
	const batch, window = 256, 4096
	msgs := make([]raftpb.Message, batch)
	for i := range msgs {
		msgs[i] = app(1, 2, uint64(i), make([]byte, benchEntryBytes))
	}
	a.Send(msgs[:1]) // connect outside the timed region
	waitCount(b, hb, 1)
	hb.n.Store(0)
	b.SetBytes(int64(msgs[0].Size()))
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		n := min(batch, b.N-sent)
		waitCount(b, hb, int64(sent+n-window))
		a.Send(msgs[:n])
		sent += n
	}
	waitCount(b, hb, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkRoundTrip measures heartbeat → heartbeat-response round trips.
func BenchmarkRoundTrip(b *testing.B) {
	ha, hb := newCountingHandler(), newCountingHandler()
	var peerB *Transport
	hb.reply = func(m raftpb.Message) {
		peerB.Send([]raftpb.Message{{Type: raftpb.MsgHeartbeatResp, From: 2, To: 1, Term: m.Term}})
	}
	a, c := benchPair(b, ha, hb)
	peerB = c
	hbMsg := []raftpb.Message{{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 5, Commit: 100}}
	a.Send(hbMsg)
	waitCount(b, ha, 1)
	ha.n.Store(0)
	b.ResetTimer()
	start := time.Now()
	for i := 1; i <= b.N; i++ {
		a.Send(hbMsg)
		waitCount(b, ha, int64(i))
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rtt/s")
}

func rawPair(b *testing.B) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); accepted <- c }()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c2 := <-accepted
	b.Cleanup(func() { _ = c1.Close(); _ = c2.Close() })
	return c1, c2
}

// BenchmarkYardstickRawStream is the yardstick for BenchmarkMessages: the same
// frames marshalled, written through one bufio.Writer and decoded on the
// other side, with no queue, handshake or goroutine hand-off.
func BenchmarkYardstickRawStream(b *testing.B) {
	c1, c2 := rawPair(b)
	m := app(1, 2, 0, make([]byte, benchEntryBytes))
	b.SetBytes(int64(m.Size()))
	done := make(chan int)
	go func() {
		fr := newFrameReader(c2, DefaultMaxFrameBytes)
		n := 0
		for {
			_, p, err := fr.next(0)
			if err != nil {
				done <- n
				return
			}
			var got raftpb.Message
			_ = got.Unmarshal(p)
			n++
		}
	}()
	b.ResetTimer()
	start := time.Now()
	bw := bufio.NewWriterSize(c1, 64<<10)
	buf := make([]byte, 0, 1024)
	for i := 0; i < b.N; i++ {
		p, _ := m.Marshal()
		buf = appendFrame(buf[:0], frameMsg, p)
		_, _ = bw.Write(buf)
	}
	_ = bw.Flush()
	_ = c1.(*net.TCPConn).CloseWrite()
	if n := <-done; n != b.N {
		b.Fatalf("raw stream delivered %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkYardstickRawRoundTrip is the yardstick for BenchmarkRoundTrip: one
// frame each way on a bare connection, read and written by the same
// goroutines, no queues.
func BenchmarkYardstickRawRoundTrip(b *testing.B) {
	c1, c2 := rawPair(b)
	ping := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 5, Commit: 100}
	pp, _ := ping.Marshal()
	frame := appendFrame(nil, frameMsg, pp)
	go func() {
		fr := newFrameReader(c2, DefaultMaxFrameBytes)
		for {
			if _, _, err := fr.next(0); err != nil {
				return
			}
			if _, err := c2.Write(frame); err != nil {
				return
			}
		}
	}()
	fr := newFrameReader(c1, DefaultMaxFrameBytes)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c1.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, _, err := fr.next(0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rtt/s")
	_ = io.Closer(c1).Close()
}
