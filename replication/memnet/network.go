package memnet

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/replication"
)

// Mode selects how messages are delivered.
type Mode int

const (
	// Step delivers only when the test calls DeliverOne or DeliverAll.
	Step Mode = iota
	// RealTime delivers from goroutines as delays expire.
	RealTime
)

// DefaultQueueLen bounds an endpoint's inbox in RealTime mode.
const DefaultQueueLen = 4096

// Options configure a Network.
type Options struct {
	Seed     uint64
	Mode     Mode
	QueueLen int // RealTime inbox bound per endpoint (messages); default 4096
	Logger   *zap.Logger
}

// Faults describe how one directed link (or every link) misbehaves. Rates
// are probabilities in [0, 1]; delay is uniform in [MinDelay, MaxDelay].
type Faults struct {
	DropRate      float64
	DuplicateRate float64
	ReorderRate   float64
	MinDelay      time.Duration
	MaxDelay      time.Duration
}

func (f Faults) validate() {
	for _, r := range []float64{f.DropRate, f.DuplicateRate, f.ReorderRate} {
		if r < 0 || r > 1 || r != r {
			panic(fmt.Sprintf("memnet: fault rate %v outside [0, 1]", r))
		}
	}
	if f.MinDelay < 0 || f.MaxDelay < f.MinDelay {
		panic(fmt.Sprintf("memnet: bad delay range [%v, %v]", f.MinDelay, f.MaxDelay))
	}
}

// Stats count what the network did. Messages and snapshots only; reports to
// handlers are not counted.
type Stats struct {
	Sent            uint64 // messages passed to Send
	Delivered       uint64 // handed to a Handler (duplicates included)
	Duplicated      uint64 // extra copies scheduled
	Reordered       uint64 // messages allowed to be overtaken
	Delayed         uint64 // messages scheduled with a non-zero delay
	DroppedRandom   uint64 // lost to DropRate
	DroppedBlocked  uint64 // lost to a partition, isolation or cut
	DroppedClosed   uint64 // destination closed, restarted or never created
	DroppedOverflow uint64 // RealTime inbox full
	DroppedUnknown  uint64 // sender never called AddPeer for the destination
	SnapshotsOK     uint64
	SnapshotsFailed uint64
}

// EndpointConfig is what a real node would pass to transport.New.
type EndpointConfig struct {
	Meta      map[string]string
	Snapshots replication.SnapshotStore
}

type link struct{ from, to uint64 }

// Network is a simulated network between endpoints identified by node id.
type Network struct {
	opts Options
	log  *zap.Logger

	mu         sync.Mutex
	rng        *rand.Rand
	virtualNow time.Duration // Step mode clock
	startedAt  time.Time     // RealTime mode epoch
	seq        uint64
	pending    itemHeap
	defaults   Faults
	linkFaults map[link]Faults
	lastAt     map[link]time.Duration // per-link FIFO clamp
	group      map[uint64]int
	isolated   map[uint64]bool
	cuts       map[link]bool
	endpoints  map[uint64]*endpoint
	gens       map[uint64]uint64
	everOpen   map[uint64]bool
	configs    map[uint64]EndpointConfig
	unreach    map[link]bool // reports already queued: {reportee, peer}
	stats      Stats
	closed     bool

	wake chan struct{} // RealTime: pending heap changed
	wg   sync.WaitGroup
}

// New creates a network. In RealTime mode it starts the scheduler goroutine;
// call Close to stop it.
func New(opts Options) *Network {
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	n := &Network{
		opts:       opts,
		log:        opts.Logger.With(zap.Uint64("memnet_seed", opts.Seed)),
		rng:        rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		startedAt:  time.Now(),
		linkFaults: map[link]Faults{},
		lastAt:     map[link]time.Duration{},
		group:      map[uint64]int{},
		isolated:   map[uint64]bool{},
		cuts:       map[link]bool{},
		endpoints:  map[uint64]*endpoint{},
		gens:       map[uint64]uint64{},
		everOpen:   map[uint64]bool{},
		configs:    map[uint64]EndpointConfig{},
		unreach:    map[link]bool{},
		wake:       make(chan struct{}, 1),
	}
	if opts.Mode == RealTime {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.schedule() }()
	}
	return n
}

// Seed returns the seed the network was created with, for test logs.
func (n *Network) Seed() uint64 { return n.opts.Seed }

// SetEndpointConfig sets the meta and snapshot store of node id. It may be
// called before or after Endpoint(id); it applies to later sends.
func (n *Network) SetEndpointConfig(id uint64, cfg EndpointConfig) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cfg.Meta = maps.Clone(cfg.Meta)
	n.configs[id] = cfg
}

// SetFaults sets the faults of every link without a per-link override.
func (n *Network) SetFaults(f Faults) {
	f.validate()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.defaults = f
}

// SetLinkFaults overrides the faults of the directed link from → to.
func (n *Network) SetLinkFaults(from, to uint64, f Faults) {
	f.validate()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.linkFaults[link{from, to}] = f
}

// ClearLinkFaults removes every per-link override.
func (n *Network) ClearLinkFaults() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.linkFaults)
}

// Partition splits the network: nodes in different groups cannot exchange
// messages in either direction. Nodes not named in any group form one more
// group together. It replaces the previous partition (isolations and cuts
// stay).
func (n *Network) Partition(groups ...[]uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.group)
	for i, g := range groups {
		for _, id := range g {
			if _, dup := n.group[id]; dup {
				panic(fmt.Sprintf("memnet: node %d named in two partition groups", id))
			}
			n.group[id] = i + 1
		}
	}
	n.log.Debug("partition", zap.Any("groups", groups))
}

// Isolate cuts node id off from every other node, both directions.
func (n *Network) Isolate(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[id] = true
}

// Cut drops every message on the directed link from → to (one-way).
func (n *Network) Cut(from, to uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cuts[link{from, to}] = true
}

// PartitionOneWay cuts every link from a node in from to a node in to; the
// reverse direction keeps working.
func (n *Network) PartitionOneWay(from, to []uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range from {
		for _, b := range to {
			n.cuts[link{a, b}] = true
		}
	}
}

// Restore removes the cut on from → to.
func (n *Network) Restore(from, to uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cuts, link{from, to})
}

// Heal removes partitions, isolations and cuts. Faults stay configured.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.group)
	clear(n.isolated)
	clear(n.cuts)
}

// Stats returns a copy of the counters.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// Pending is the number of scheduled messages and reports not yet delivered.
func (n *Network) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pending.Len()
}

// Now is the network clock: virtual time in Step mode, time since New in
// RealTime mode.
func (n *Network) Now() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nowLocked()
}

func (n *Network) nowLocked() time.Duration {
	if n.opts.Mode == Step {
		return n.virtualNow
	}
	return time.Since(n.startedAt)
}

// Close closes every endpoint and stops the RealTime scheduler.
func (n *Network) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	eps := make([]*endpoint, 0, len(n.endpoints))
	for _, e := range n.endpoints {
		eps = append(eps, e)
	}
	n.mu.Unlock()
	for _, e := range eps {
		_ = e.Close()
	}
	n.signal()
	n.wg.Wait()
}

func (n *Network) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// blockedLocked reports whether a partition, isolation or cut stops from → to.
func (n *Network) blockedLocked(from, to uint64) bool {
	if from == to {
		return false
	}
	if n.isolated[from] || n.isolated[to] || n.group[from] != n.group[to] {
		return true
	}
	return n.cuts[link{from, to}]
}

func (n *Network) faultsLocked(from, to uint64) Faults {
	if f, ok := n.linkFaults[link{from, to}]; ok {
		return f
	}
	return n.defaults
}
