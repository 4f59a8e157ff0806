package memnet

import (
	"context"
	"errors"
	"io"
	"maps"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/chr2sql/chr2sql/replication"
)

var (
	// ErrStarted is returned by a second Start on the same endpoint.
	ErrStarted = errors.New("memnet: endpoint already started")
	// ErrClosed is returned by Start on a closed endpoint or network.
	ErrClosed = errors.New("memnet: endpoint closed")
)

// endpoint is one incarnation of a node on the network. Fields are guarded by
// the network's mutex.
type endpoint struct {
	n       *Network
	id      uint64
	gen     uint64
	peers   map[uint64]string
	handler replication.Handler
	ctx     context.Context
	cancel  context.CancelFunc
	closed  bool

	// RealTime mode only.
	inbox     []*item
	inboxMsgs int
	inboxWake chan struct{}
	done      chan struct{}
}

var _ replication.Transport = (*endpoint)(nil)

// Endpoint returns node id's transport. While that endpoint is open, the same
// one is returned; after it is closed, a new incarnation is created, and
// messages sent to the old one are lost.
func (n *Network) Endpoint(id uint64) replication.Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.endpoints[id]; e != nil && !e.closed {
		return e
	}
	n.gens[id]++
	ctx, cancel := context.WithCancel(context.Background())
	e := &endpoint{
		n: n, id: id, gen: n.gens[id], peers: map[uint64]string{},
		ctx: ctx, cancel: cancel, inboxWake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	n.endpoints[id] = e
	return e
}

func (e *endpoint) Start(h replication.Handler) error {
	n := e.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed || n.closed {
		return ErrClosed
	}
	if e.handler != nil {
		return ErrStarted
	}
	e.handler = h
	n.everOpen[e.id] = true
	if n.opts.Mode == RealTime {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); e.drain() }()
	} else {
		close(e.done)
	}
	return nil
}

// Send decides each message's fate now (see the package doc) and never
// blocks on delivery. Snapshot files are read from the sender's store here.
func (e *endpoint) Send(msgs []raftpb.Message) {
	n := e.n
	snaps := e.readSnapshots(msgs)
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed {
		return
	}
	for i, m := range msgs {
		n.stats.Sent++
		it := &item{kind: itemMsg, src: e.id, srcGen: e.gen, dst: m.To, dstGen: n.gens[m.To], msg: m}
		if m.Type == raftpb.MsgSnap {
			if snaps[i].err != nil {
				n.stats.SnapshotsFailed++
				n.reportLocked(e.id, e.gen, m.To, itemSnapStatus, raft.SnapshotFailure)
				continue
			}
			it.snap = snaps[i].data
		}
		if _, ok := e.peers[m.To]; !ok {
			n.stats.DroppedUnknown++
			n.lostLocked(it, true)
			continue
		}
		if n.blockedLocked(e.id, m.To) {
			n.stats.DroppedBlocked++
			n.lostLocked(it, true)
			continue
		}
		f := n.faultsLocked(e.id, m.To)
		if n.rng.Float64() < f.DropRate {
			n.stats.DroppedRandom++
			n.lostLocked(it, false)
			continue
		}
		dup := m.Type != raftpb.MsgSnap && n.rng.Float64() < f.DuplicateRate
		n.scheduleMsgLocked(it, f)
		if dup {
			n.stats.Duplicated++
			cp := *it
			cp.key = 0
			n.scheduleMsgLocked(&cp, f)
		}
	}
}

type snapRead struct {
	data []byte
	err  error
}

// readSnapshots loads the file of every MsgSnap before the network lock is
// taken, so a store is never called under it.
func (e *endpoint) readSnapshots(msgs []raftpb.Message) []snapRead {
	var out []snapRead
	for i, m := range msgs {
		if m.Type != raftpb.MsgSnap {
			continue
		}
		if out == nil {
			out = make([]snapRead, len(msgs))
		}
		out[i] = e.readSnapshot(m)
	}
	return out
}

func (e *endpoint) readSnapshot(m raftpb.Message) snapRead {
	e.n.mu.Lock()
	store := e.n.configs[e.id].Snapshots
	e.n.mu.Unlock()
	if store == nil || m.Snapshot == nil {
		return snapRead{err: errors.New("memnet: no snapshot store or empty MsgSnap")}
	}
	rc, size, err := store.OpenSnapshot(m.Snapshot.Data)
	if err != nil {
		return snapRead{err: err}
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err == nil && int64(len(data)) != size {
		err = errors.New("memnet: snapshot file size differs from the advertised size")
	}
	return snapRead{data: data, err: err}
}

func (e *endpoint) AddPeer(id uint64, addr string) {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	e.peers[id] = addr
}

func (e *endpoint) RemovePeer(id uint64) {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	delete(e.peers, id)
}

// PeerMeta returns the peer's configured meta once that peer has started an
// endpoint at least once (a real peer advertises it in its handshake).
func (e *endpoint) PeerMeta(id uint64) map[string]string {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	if !e.n.everOpen[id] {
		return nil
	}
	return maps.Clone(e.n.configs[id].Meta)
}

// Close stops delivery to this incarnation; pending messages to it are lost.
// In RealTime mode it waits for the endpoint's delivery goroutine, so it must
// not be called from inside this endpoint's own Handler.
func (e *endpoint) Close() error {
	n := e.n
	n.mu.Lock()
	if e.closed {
		n.mu.Unlock()
		return nil
	}
	e.closed = true
	e.cancel()
	started := e.handler != nil
	n.mu.Unlock()
	select {
	case e.inboxWake <- struct{}{}:
	default:
	}
	if started {
		<-e.done
	}
	return nil
}

// drain is the RealTime delivery goroutine of one endpoint: it delivers its
// inbox in order until the endpoint closes.
func (e *endpoint) drain() {
	defer close(e.done)
	n := e.n
	for {
		n.mu.Lock()
		if e.closed {
			n.mu.Unlock()
			return
		}
		batch := e.inbox
		e.inbox, e.inboxMsgs = nil, 0
		n.mu.Unlock()
		for _, it := range batch {
			n.deliver(it)
		}
		if len(batch) == 0 {
			<-e.inboxWake
		}
	}
}
