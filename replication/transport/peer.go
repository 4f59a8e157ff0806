package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

const (
	// maxBatchBytes stops draining the queue into one write; beyond this the
	// syscall cost is already amortised and a bigger buffer only adds latency.
	maxBatchBytes = 256 << 10
	// retainOutBytes caps the encode buffer kept between batches.
	retainOutBytes = 4 << 20
	minDialBackoff = 50 * time.Millisecond
	maxDialBackoff = time.Second
)

// peer owns the outbound raft stream to one node: a bounded queue drained by
// one writer goroutine (run). Fields below "writer-only" are touched only by
// that goroutine.
type peer struct {
	t      *Transport
	id     uint64
	log    *zap.Logger
	queue  chan raftpb.Message
	ctx    context.Context // cancelled by stop; aborts a dial or handshake in progress
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	addr string
	conn net.Conn // current connection, so stop and setAddress can break it

	// writer-only
	out       []byte
	backoff   time.Duration
	retryAt   time.Time
	connected bool   // for logging transitions only
	lastErr   string // last logged dial error, to log changes only

	sentMsgs, sentBytes                                prometheus.Counter
	dropQueueFull, dropDisconnected, dropFrameTooLarge prometheus.Counter
}

func newPeer(t *Transport, id uint64, addr string) *peer {
	l := peerLabel(id)
	ctx, cancel := context.WithCancel(t.ctx)
	return &peer{
		t: t, id: id, addr: addr, ctx: ctx, cancel: cancel,
		log:               t.log.With(zap.Uint64("peer", id)),
		queue:             make(chan raftpb.Message, t.cfg.SendQueue),
		done:              make(chan struct{}),
		backoff:           minDialBackoff,
		sentMsgs:          t.metrics.msgsSent.WithLabelValues(l),
		sentBytes:         t.metrics.bytesSent.WithLabelValues(l),
		dropQueueFull:     t.metrics.drops.WithLabelValues(l, dropQueueFull),
		dropDisconnected:  t.metrics.drops.WithLabelValues(l, dropDisconnected),
		dropFrameTooLarge: t.metrics.drops.WithLabelValues(l, dropTooLarge),
	}
}

func (p *peer) address() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

func (p *peer) setAddress(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr == addr {
		return
	}
	p.addr = addr
	if p.conn != nil {
		_ = p.conn.Close() // the writer notices on its next write and redials
	}
}

// stop ends the writer goroutine and waits for it.
func (p *peer) stop() {
	p.cancel()
	p.mu.Lock()
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.mu.Unlock()
	<-p.done
}

func (p *peer) run() {
	defer close(p.done)
	defer p.closeConn()
	for {
		select {
		case <-p.ctx.Done():
			return
		case m := <-p.queue:
			p.handle(m)
		}
	}
}

func (p *peer) handle(first raftpb.Message) {
	conn := p.ensureConn()
	if conn == nil {
		p.dropDisconnected.Inc()
		p.t.reporter.mark(p.id)
		return
	}
	n, err := p.writeBatch(conn, first)
	if err != nil {
		p.dropDisconnected.Add(float64(n))
		p.t.reporter.mark(p.id)
		p.disconnect(conn, err)
	}
}

// ensureConn returns the live connection, dialing if the backoff allows.
// While backing off it returns nil and the caller drops the message: raft
// retransmits, and holding stale messages would only delay fresh ones.
func (p *peer) ensureConn() net.Conn {
	p.mu.Lock()
	conn, addr := p.conn, p.addr
	p.mu.Unlock()
	if conn != nil {
		return conn
	}
	if time.Now().Before(p.retryAt) {
		return nil
	}
	conn, _, err := p.t.dialPeer(p.ctx, p.id, addr, streamRaft)
	if err != nil {
		p.scheduleRetry()
		if msg := err.Error(); msg != p.lastErr || p.connected {
			p.log.Warn("cannot connect to raft peer", zap.String("addr", addr), zap.Error(err))
			p.lastErr = msg
		}
		p.connected = false
		return nil
	}
	p.mu.Lock()
	if p.ctx.Err() != nil {
		p.mu.Unlock()
		_ = conn.Close()
		return nil
	}
	p.conn = conn
	p.mu.Unlock()
	p.backoff, p.lastErr, p.connected = minDialBackoff, "", true
	p.log.Info("connected to raft peer", zap.String("addr", addr))
	p.t.wg.Add(1)
	go func() { defer p.t.wg.Done(); watchForClose(conn) }()
	return conn
}

// watchForClose reads from an outbound stream on which the peer never
// writes; any return (EOF, reset, stray bytes) closes the connection, so the
// writer learns of a dead peer at its next write instead of after the kernel
// buffer fills.
func watchForClose(conn net.Conn) {
	var b [1]byte
	_, _ = conn.Read(b[:])
	_ = conn.Close()
}

func (p *peer) scheduleRetry() {
	jitter := time.Duration(rand.Int64N(int64(p.backoff)/5 + 1))
	p.retryAt = time.Now().Add(p.backoff + jitter)
	p.backoff = min(2*p.backoff, maxDialBackoff)
}

func (p *peer) disconnect(conn net.Conn, err error) {
	p.mu.Lock()
	if p.conn == conn {
		p.conn = nil
	}
	p.mu.Unlock()
	_ = conn.Close()
	p.log.Warn("raft peer connection lost", zap.Error(err))
	p.connected = false
	p.scheduleRetry()
}

func (p *peer) closeConn() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
}

// writeBatch encodes first plus whatever is already queued (up to
// maxBatchBytes) and writes it with one syscall. It returns how many messages
// the batch held, so a failed write can count them as dropped.
func (p *peer) writeBatch(conn net.Conn, first raftpb.Message) (msgs int, err error) {
	p.out = p.out[:0]
	if p.appendMsg(first) {
		msgs++
	}
drain:
	for len(p.out) < maxBatchBytes {
		select {
		case m := <-p.queue:
			if p.appendMsg(m) {
				msgs++
			}
		default:
			break drain
		}
	}
	if msgs == 0 {
		return 0, nil
	}
	_ = conn.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout))
	_, err = conn.Write(p.out)
	if err == nil {
		p.sentMsgs.Add(float64(msgs))
		p.sentBytes.Add(float64(len(p.out)))
	}
	if cap(p.out) > retainOutBytes {
		p.out = nil
	}
	return msgs, err
}

// appendMsg encodes one message frame onto p.out. A message too large for a
// frame is dropped here: the receiver would refuse it and close the stream.
func (p *peer) appendMsg(m raftpb.Message) bool {
	size := m.Size()
	if size > p.t.cfg.MaxFrameBytes {
		p.dropFrameTooLarge.Inc()
		p.log.Error("dropping raft message larger than MaxFrameBytes",
			zap.Stringer("type", m.Type), zap.Int("bytes", size), zap.Int("limit", p.t.cfg.MaxFrameBytes))
		return false
	}
	start := len(p.out)
	p.out = slices.Grow(p.out, frameHeaderLen+size)[:start+frameHeaderLen+size]
	payload := p.out[start+frameHeaderLen:]
	if _, err := m.MarshalToSizedBuffer(payload); err != nil {
		panic(fmt.Sprintf("transport: marshal of %v failed after Size: %v", m.Type, err))
	}
	putFrameHeader(p.out[start:], frameMsg, payload)
	return true
}

// dialPeer opens a connection of the given kind and completes the handshake:
// it checks that the address answers as node id of our cluster and records
// the meta the peer advertised.
func (t *Transport) dialPeer(ctx context.Context, id uint64, addr string, kind byte) (net.Conn, *frameReader, error) {
	if addr == "" {
		return nil, nil, fmt.Errorf("%w: no address for peer %d", ErrConfig, id)
	}
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	configureConn(conn)
	// A peer that accepts but never answers must not hold up stop or Close
	// for the whole handshake timeout.
	abort := context.AfterFunc(ctx, func() { _ = conn.Close() })
	h, fr, err := t.handshake(conn, kind)
	if !abort() && err == nil {
		err = ctx.Err()
	}
	if err == nil && (h.ClusterID != t.cfg.ClusterID || h.NodeID != id) {
		err = fmt.Errorf("%w: expected node %d cluster %d, got node %d cluster %d",
			ErrWrongPeer, id, t.cfg.ClusterID, h.NodeID, h.ClusterID)
	}
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	t.setPeerMeta(id, h.Meta)
	return conn, fr, nil
}

func (t *Transport) handshake(conn net.Conn, kind byte) (hello, *frameReader, error) {
	_ = conn.SetDeadline(time.Now().Add(t.cfg.WriteTimeout))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	if err := writeFrame(conn, frameHello, t.localHello(kind)); err != nil {
		return hello{}, nil, err
	}
	fr := newFrameReader(conn, t.cfg.MaxFrameBytes)
	typ, payload, err := fr.next(maxControlFrameBytes)
	if err != nil {
		return hello{}, nil, err
	}
	switch typ {
	case frameReject:
		code, reason, err := decodeCodeText(payload)
		if err != nil {
			return hello{}, nil, err
		}
		return hello{}, nil, fmt.Errorf("%w: code %d: %s", ErrRejected, code, reason)
	case frameHello:
		h, err := decodeHello(payload)
		if err != nil {
			return hello{}, nil, err
		}
		if h.Version != protocolVersion || h.Kind != streamReply {
			return hello{}, nil, fmt.Errorf("%w: reply version %d kind %d", ErrBadHello, h.Version, h.Kind)
		}
		return h, fr, nil
	default:
		return hello{}, nil, fmt.Errorf("%w: type %d during handshake", ErrBadFrame, typ)
	}
}
