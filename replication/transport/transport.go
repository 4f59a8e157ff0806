package transport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/replication"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout     = time.Second
	DefaultSendQueue       = 4096
	DefaultMaxFrameBytes   = 64 << 20
	DefaultWriteTimeout    = 5 * time.Second
	DefaultSnapshotTimeout = time.Minute
	// minFrameLimit keeps MaxFrameBytes large enough for a handshake and a
	// useful snapshot chunk.
	minFrameLimit = 64 << 10
)

var (
	// ErrClosed is returned by Start on a closed transport.
	ErrClosed = errors.New("transport: closed")
	// ErrConfig reports an unusable Config.
	ErrConfig = errors.New("transport: invalid config")
	// ErrRejected reports that the peer refused our handshake.
	ErrRejected = errors.New("transport: handshake rejected by peer")
	// ErrWrongPeer reports that the address answered with another node id or
	// cluster id than expected.
	ErrWrongPeer = errors.New("transport: address answered as a different node")
	// ErrSnapshot reports a failed snapshot stream.
	ErrSnapshot = errors.New("transport: snapshot stream failed")
)

// Config configures a Transport. Zero values take the documented defaults.
type Config struct {
	NodeID     uint64
	ClusterID  uint64
	ListenAddr string            // --raft-addr; "127.0.0.1:0" picks a free port
	Meta       map[string]string // advertised in the handshake, e.g. {"pg-addr": "..."}
	Snapshots  replication.SnapshotStore
	Logger     *zap.Logger
	// Registerer receives the transport's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer

	DialTimeout   time.Duration // default 1s
	SendQueue     int           // per-peer queue length in messages; default 4096
	MaxFrameBytes int           // default 64 MiB; larger frames are a protocol error
	// WriteTimeout bounds one batch write and the handshake; a peer that
	// stops reading for this long is disconnected. Default 5s.
	WriteTimeout time.Duration
	// SnapshotTimeout bounds each step of a snapshot stream (a chunk read or
	// write) and the wait for the receiver's ack, which includes its fsync.
	// Default 1 minute.
	SnapshotTimeout time.Duration
}

func (c *Config) fillDefaults() error {
	if c.NodeID == 0 {
		return fmt.Errorf("%w: node id must be non-zero", ErrConfig)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.SendQueue <= 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.MaxFrameBytes < minFrameLimit {
		return fmt.Errorf("%w: MaxFrameBytes %d below minimum %d", ErrConfig, c.MaxFrameBytes, minFrameLimit)
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.SnapshotTimeout <= 0 {
		c.SnapshotTimeout = DefaultSnapshotTimeout
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if _, err := encodeHello(hello{Meta: c.Meta}); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// Transport is the TCP implementation of replication.Transport.
type Transport struct {
	cfg      Config
	log      *zap.Logger
	metrics  *metrics
	ln       net.Listener
	reporter *unreachableReporter

	ctx    context.Context // cancelled by Close; parent of every Process call
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	started     bool
	closed      bool
	handler     replication.Handler
	peers       map[uint64]*peer
	peerMeta    map[uint64]map[string]string
	conns       map[net.Conn]struct{} // inbound and snapshot connections, closed by Close
	inboundRaft map[uint64]net.Conn   // the current inbound raft stream per peer
	snapSending map[uint64]bool       // peers with a snapshot stream in flight
}

var _ replication.Transport = (*Transport)(nil)

// New validates cfg and binds the listener, so Addr is known before Start.
// Nothing is accepted until Start.
func New(cfg Config) (*Transport, error) {
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", cfg.ListenAddr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		cfg:         cfg,
		log:         cfg.Logger.With(zap.Uint64("node_id", cfg.NodeID)),
		metrics:     m,
		ln:          ln,
		reporter:    newUnreachableReporter(),
		ctx:         ctx,
		cancel:      cancel,
		peers:       make(map[uint64]*peer),
		peerMeta:    make(map[uint64]map[string]string),
		conns:       make(map[net.Conn]struct{}),
		inboundRaft: make(map[uint64]net.Conn),
		snapSending: make(map[uint64]bool),
	}
	t.cfg.Meta = maps.Clone(cfg.Meta)
	return t, nil
}

// Addr is the bound listen address (useful with port 0).
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Start begins accepting inbound connections and delivering to h.
func (t *Transport) Start(h replication.Handler) error {
	if h == nil {
		return fmt.Errorf("%w: nil handler", ErrConfig)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if t.started {
		return fmt.Errorf("%w: started twice", ErrConfig)
	}
	t.started, t.handler = true, h
	t.wg.Add(2)
	go func() { defer t.wg.Done(); t.reporter.run(t.ctx, h) }()
	go func() { defer t.wg.Done(); t.acceptLoop() }()
	t.log.Info("raft transport listening", zap.Stringer("addr", t.ln.Addr()))
	return nil
}

// Send queues messages; it never blocks. A full peer queue or an unknown
// peer drops the message and reports the peer unreachable (asynchronously,
// so the Handler may be called from any goroutine but never from Send).
func (t *Transport) Send(msgs []raftpb.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	for i := range msgs {
		m := msgs[i]
		p := t.peers[m.To]
		if m.Type == raftpb.MsgSnap {
			t.startSnapshotLocked(m, p)
			continue
		}
		if p == nil {
			t.metrics.drop(m.To, dropUnknownPeer)
			t.reporter.mark(m.To)
			continue
		}
		select {
		case p.queue <- m:
		default:
			p.dropQueueFull.Inc()
			t.reporter.mark(m.To)
		}
	}
}

// startSnapshotLocked launches the stream for one MsgSnap. At most one stream
// per peer is in flight: raft does not send another MsgSnap to a peer until
// the first is reported, so a second one is a duplicate and is dropped.
func (t *Transport) startSnapshotLocked(m raftpb.Message, p *peer) {
	if t.snapSending[m.To] {
		t.log.Debug("dropping duplicate MsgSnap while a stream is in flight", zap.Uint64("peer", m.To))
		t.metrics.drop(m.To, dropSnapshotBusy)
		return
	}
	addr := ""
	if p != nil {
		addr = p.address()
	}
	t.snapSending[m.To] = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		status := t.runSnapshotSend(m, addr)
		// Clear the in-flight mark before reporting: raft may answer a
		// failure with a fresh MsgSnap at once, which must not be taken
		// for a duplicate.
		t.mu.Lock()
		delete(t.snapSending, m.To)
		t.mu.Unlock()
		t.reportSnapshot(m.To, status)
	}()
}

// AddPeer records or updates the raft address of a peer. Changing the address
// drops the current connection so the next message dials the new one.
func (t *Transport) AddPeer(id uint64, addr string) {
	if id == t.cfg.NodeID || id == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if p, ok := t.peers[id]; ok {
		p.setAddress(addr)
		return
	}
	p := newPeer(t, id, addr)
	t.peers[id] = p
	t.wg.Add(1)
	go func() { defer t.wg.Done(); p.run() }()
}

// RemovePeer stops the peer's writer and closes its connection. Queued
// messages are discarded.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// PeerMeta returns a copy of what the peer advertised in its last handshake,
// or nil if it never completed one with us.
func (t *Transport) PeerMeta(id uint64) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.peerMeta[id])
}

func (t *Transport) setPeerMeta(id uint64, meta map[string]string) {
	t.mu.Lock()
	t.peerMeta[id] = meta
	t.mu.Unlock()
}

// Close stops every goroutine and closes every connection. It is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	peers := make([]*peer, 0, len(t.peers))
	for _, p := range t.peers {
		peers = append(peers, p)
	}
	t.peers = map[uint64]*peer{}
	for c := range t.conns {
		_ = c.Close()
	}
	t.mu.Unlock()

	t.cancel()
	err := t.ln.Close()
	for _, p := range peers {
		p.stop()
	}
	t.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// trackConn registers a connection so Close can break it; it returns false
// (and closes c) if the transport is already closed.
func (t *Transport) trackConn(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

// replaceInboundRaft makes c the peer's inbound raft stream and closes the
// previous one: a peer that redialed has abandoned it, and reading both at
// once could reorder its tail against the new stream.
func (t *Transport) replaceInboundRaft(from uint64, c net.Conn) {
	t.mu.Lock()
	old := t.inboundRaft[from]
	t.inboundRaft[from] = c
	t.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
}

func (t *Transport) dropInboundRaft(from uint64, c net.Conn) {
	t.mu.Lock()
	if t.inboundRaft[from] == c {
		delete(t.inboundRaft, from)
	}
	t.mu.Unlock()
}

func (t *Transport) untrackConn(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	_ = c.Close()
}

// reportSnapshot tells the handler how a stream ended, unless the transport
// is closing (the node is shutting down and no longer tracks the peer).
func (t *Transport) reportSnapshot(id uint64, status raft.SnapshotStatus) {
	t.mu.Lock()
	h := t.handler
	t.mu.Unlock()
	if h != nil && t.ctx.Err() == nil {
		h.ReportSnapshot(id, status)
	}
}

// localHello is this node's handshake for the given stream kind.
func (t *Transport) localHello(kind byte) []byte {
	b, err := encodeHello(hello{
		Version: protocolVersion, Kind: kind,
		ClusterID: t.cfg.ClusterID, NodeID: t.cfg.NodeID, Meta: t.cfg.Meta,
	})
	if err != nil {
		panic(fmt.Sprintf("transport: meta validated in New no longer encodes: %v", err))
	}
	return b
}

// configureConn disables Nagle (we batch ourselves) and enables keepalive so
// an idle inbound stream from a dead peer is eventually noticed.
func configureConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
		_ = tc.SetKeepAlivePeriod(15 * time.Second)
	}
}
