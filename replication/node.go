package replication

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/vfs"
	"github.com/chr2sql/chr2sql/wal"
)

// Errors returned to proposers and readers.
var (
	ErrStopped   = errors.New("replication: node stopped")
	ErrNotLeader = errors.New("replication: not the leader")
)

// Entry is a committed log entry handed to the state machine.
type Entry struct {
	Index, Term uint64
	Type        raftpb.EntryType
	Data        []byte
}

// StateMachine is what the node applies committed entries to.
type StateMachine interface {
	// Apply applies entries in log order; an error halts the node.
	Apply(entries []Entry) error
	// AppliedIndex is the highest index durably applied.
	AppliedIndex() uint64
	// SetLeadership reports a role change; readyIndex is the index of the
	// new leader's first entry in term.
	SetLeadership(leader bool, term, readyIndex uint64)
}

// Config configures a Node.
type Config struct {
	NodeID    uint64
	ClusterID uint64
	DataDir   string
	FS        vfs.FS
	// Peers are the initial voters (id → raft address), this node
	// included; empty means a single-node cluster. Ignored once the node has
	// state.
	Peers        map[uint64]string
	Transport    Transport
	StateMachine StateMachine
	Logger       *zap.Logger
	// TickInterval is raft's logical clock; ElectionTicks and
	// HeartbeatTicks count in it.
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// MaxBatchBytes bounds the entries appended per Ready.
	MaxBatchBytes uint64
	// SnapshotEntries: take a snapshot every this many applied entries (0
	// disables). KeepEntries are kept in the log behind a snapshot for
	// followers that are only a little behind.
	SnapshotEntries uint64
	KeepEntries     uint64
	// Join starts a node that an existing cluster will add: it does not
	// bootstrap a configuration of its own and waits for the leader.
	Join bool
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 10
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = 1
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = 4 << 20
	}
	if c.FS == nil {
		c.FS = vfs.OS
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = 10000
	}
	if c.KeepEntries == 0 {
		c.KeepEntries = 1000
	}
}

// Status is a point-in-time view of the node.
type Status struct {
	NodeID       uint64 `json:"node_id"`
	Role         string `json:"role"`
	Term         uint64 `json:"term"`
	LeaderID     uint64 `json:"leader_id"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	LastIndex    uint64 `json:"last_index"`
	FirstIndex   uint64 `json:"first_index"`
	Voters       []uint64
	Halted       string `json:"halted,omitempty"`
}

type proposal struct {
	batch [][]byte
	cc    *raftpb.ConfChange
	res   chan proposeResult // buffered: the raft loop never blocks on it
}

// proposeResult is the raft loop's answer: how many batch entries raft
// accepted, and why it refused the next one.
type proposeResult struct {
	appended int
	err      error
}

type readRequest struct {
	ch chan readResult
}

type readResult struct {
	index uint64
	err   error
}

type peerReport struct {
	id     uint64
	status raft.SnapshotStatus
	snap   bool
}

// Node runs one raft member. One goroutine (run) owns the RawNode and does
// all storage I/O; a second (applier) hands committed entries to the state
// machine, so a slow apply never delays heartbeats.
type Node struct {
	cfg   Config
	log   *zap.Logger
	rn    *raft.RawNode
	store *durableLog
	sm    StateMachine

	propc   chan proposal
	recvc   chan raftpb.Message
	readc   chan readRequest
	reportc chan peerReport
	applyc  chan applyTask
	snapc   chan snapshotDone
	stopc   chan struct{}
	donec   chan struct{}
	applied chan struct{}

	reads *readBatcher

	confHistory   []confAt // raft loop only
	lastSnapIndex atomic.Uint64
	snapshotting  atomic.Bool
	snapWG        sync.WaitGroup // a state machine copy in progress
	removed       atomic.Bool
	leaderChanges atomic.Uint64
	knownPeers    sync.Map // id → raft address handed to the transport

	status atomic.Pointer[Status]
	halted atomic.Pointer[error]
	stopMu sync.Mutex
	stop   bool
	wg     sync.WaitGroup
}

// Start opens the node's durable state and starts it.
func Start(cfg Config) (*Node, error) {
	cfg.defaults()
	snap, err := latestSnapshot(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	store, fresh, err := openDurableLog(cfg.FS, cfg.DataDir, snap)
	if err != nil {
		return nil, err
	}
	pre := &Node{cfg: cfg, log: cfg.Logger, store: store, sm: cfg.StateMachine}
	if err := pre.recoverSnapshot(snap); err != nil {
		store.close()
		return nil, err
	}
	if snap != nil {
		if err := store.reloadAfterRecovery(snap); err != nil {
			store.close()
			return nil, err
		}
	}
	applied := cfg.StateMachine.AppliedIndex()
	if err := store.initHardState(applied); err != nil {
		store.close()
		return nil, err
	}
	if err := store.foldConfChanges(applied); err != nil {
		store.close()
		return nil, err
	}
	rcfg := &raft.Config{
		ID:                        cfg.NodeID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   store,
		Applied:                   applied,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxCommittedSizePerReady:  cfg.MaxBatchBytes,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		DisableProposalForwarding: true,
		StepDownOnRemoval:         true,
		Logger:                    newRaftLogger(cfg.Logger),
	}
	rn, err := raft.NewRawNode(rcfg)
	if err != nil {
		store.close()
		return nil, fmt.Errorf("replication: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, rn: rn, store: store, sm: cfg.StateMachine,
		propc: make(chan proposal, 1024), recvc: make(chan raftpb.Message, 4096), readc: make(chan readRequest, 1024),
		reportc: make(chan peerReport, 256), applyc: make(chan applyTask, 1024), snapc: make(chan snapshotDone, 1),
		stopc: make(chan struct{}),
		donec: make(chan struct{}), applied: make(chan struct{}, 1)}
	n.reads = newReadBatcher()
	n.recordConfState(applied, store.confState)
	if snap != nil {
		n.lastSnapIndex.Store(snap.Metadata.Index)
	}
	peers := cfg.Peers
	if len(peers) == 0 {
		peers = map[uint64]string{cfg.NodeID: ""}
	}
	if fresh && !cfg.Join {
		if err := n.bootstrap(peers); err != nil {
			store.close()
			return nil, err
		}
	}
	if !fresh {
		peers = store.peerAddrs // --peers is ignored once the node has state
	}
	for id, addr := range peers {
		if id != cfg.NodeID && addr != "" {
			cfg.Transport.AddPeer(id, addr)
			n.knownPeers.Store(id, addr)
		}
	}
	n.publishStatus()
	if err := cfg.Transport.Start(n); err != nil {
		store.close()
		return nil, err
	}
	n.wg.Add(2)
	go n.run()
	go n.applier()
	return n, nil
}

// bootstrap writes the initial configuration of a new cluster.
func (n *Node) bootstrap(peers map[uint64]string) error {
	ids := make([]uint64, 0, len(peers))
	for id := range peers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	rp := make([]raft.Peer, len(ids))
	for i, id := range ids {
		rp[i] = raft.Peer{ID: id, Context: []byte(peers[id])}
	}
	if err := n.rn.Bootstrap(rp); err != nil {
		return fmt.Errorf("replication: bootstrap: %w", err)
	}
	n.log.Info("replication: bootstrapped a new cluster", zap.Uint64s("voters", ids))
	return nil
}

// Stop stops the node and closes its storage and transport.
func (n *Node) Stop() {
	n.stopMu.Lock()
	if n.stop {
		n.stopMu.Unlock()
		return
	}
	n.stop = true
	n.stopMu.Unlock()
	close(n.stopc)
	n.wg.Wait()
	n.snapWG.Wait()
	n.cfg.Transport.Close()
	n.store.close()
}

// WALStats returns the log's cumulative write counters.
func (n *Node) WALStats() wal.Stats { return n.store.wal.Stats() }

// LeaderChanges counts the leader changes this node observed.
func (n *Node) LeaderChanges() uint64 { return n.leaderChanges.Load() }

// Removed reports whether this node applied its own removal from the
// cluster.
func (n *Node) Removed() bool { return n.removed.Load() }

// Done is closed when the node stops (on Stop, a halt, or its removal).
func (n *Node) Done() <-chan struct{} { return n.donec }

// Halted returns the error that halted the node, if any.
func (n *Node) Halted() error {
	if p := n.halted.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *Node) halt(err error) {
	if n.halted.CompareAndSwap(nil, &err) {
		n.log.Error("replication: node halted", zap.Error(err))
	}
}

// Status returns the latest published raft status with the state
// machine's current applied index.
func (n *Node) Status() Status {
	st := *n.status.Load()
	st.AppliedIndex = n.sm.AppliedIndex()
	if err := n.Halted(); err != nil {
		st.Halted = err.Error()
	}
	return st
}

// Propose appends data to the log if this node is the leader.
func (n *Node) Propose(ctx context.Context, data []byte) error {
	_, err := n.ProposeBatch(ctx, [][]byte{data})
	return err
}

// ProposeBatch appends the entries of batch in order, in one step of the
// raft loop, so they share one WAL fsync and one round of messages. It
// returns how many were accepted: on an error, those after them were not.
func (n *Node) ProposeBatch(ctx context.Context, batch [][]byte) (int, error) {
	r := n.submit(ctx, proposal{batch: batch, res: make(chan proposeResult, 1)})
	return r.appended, r.err
}

// ProposeConfChange proposes a membership change (leader only).
func (n *Node) ProposeConfChange(ctx context.Context, cc raftpb.ConfChange) error {
	return n.submit(ctx, proposal{cc: &cc, res: make(chan proposeResult, 1)}).err
}

// ChangeMembership proposes adding (addr != "") or removing a voter and
// waits until the change is applied here. One change at a time.
func (n *Node) ChangeMembership(ctx context.Context, id uint64, addr string) error {
	cc := raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: id}
	if addr != "" {
		cc = raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: id, Context: []byte(addr)}
	}
	if err := n.ProposeConfChange(ctx, cc); err != nil {
		return err
	}
	for {
		voters := n.Status().Voters
		in := false
		for _, v := range voters {
			in = in || v == id
		}
		if in == (addr != "") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replication: membership change not applied in time: %w", ctx.Err())
		case <-n.donec:
			if n.Removed() && addr == "" && id == n.cfg.NodeID {
				return nil
			}
			return ErrStopped
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (n *Node) submit(ctx context.Context, p proposal) proposeResult {
	if err := n.Halted(); err != nil {
		return proposeResult{err: err}
	}
	select {
	case n.propc <- p:
	case <-ctx.Done():
		return proposeResult{err: ctx.Err()}
	case <-n.donec:
		return proposeResult{err: ErrStopped}
	}
	select {
	case r := <-p.res:
		if errors.Is(r.err, raft.ErrProposalDropped) {
			r.err = ErrNotLeader
		}
		return r
	case <-ctx.Done():
		return proposeResult{err: ctx.Err()}
	case <-n.donec:
		return proposeResult{err: ErrStopped}
	}
}

// ReadIndex returns an index at least as high as every write acknowledged
// before the call; a read that waits for it to apply is linearizable.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	req := readRequest{ch: make(chan readResult, 1)}
	select {
	case n.readc <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.donec:
		return 0, ErrStopped
	}
	select {
	case r := <-req.ch:
		return r.index, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.donec:
		return 0, ErrStopped
	}
}

// Process implements Handler: a message from a peer.
func (n *Node) Process(ctx context.Context, m raftpb.Message) error {
	n.learnPeer(m.From)
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.donec:
		return ErrStopped
	}
}

// ReportUnreachable implements Handler.
func (n *Node) ReportUnreachable(id uint64) {
	select {
	case n.reportc <- peerReport{id: id}:
	default:
	}
}

// ReportSnapshot implements Handler.
func (n *Node) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	select {
	case n.reportc <- peerReport{id: id, status: status, snap: true}:
	case <-n.donec:
	}
}

var _ Handler = (*Node)(nil)

// learnPeer adds the raft address a peer advertised in its handshake when
// none is known yet: a node that joins an existing cluster learns where to
// answer the leader before the configuration changes naming the members
// reach it.
func (n *Node) learnPeer(id uint64) {
	if id == 0 || id == n.cfg.NodeID {
		return
	}
	if _, known := n.knownPeers.Load(id); known {
		return
	}
	if addr := n.cfg.Transport.PeerMeta(id)["raft-addr"]; addr != "" {
		n.cfg.Transport.AddPeer(id, addr)
		n.knownPeers.Store(id, addr)
	}
}
