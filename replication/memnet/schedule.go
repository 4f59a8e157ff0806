package memnet

import (
	"bytes"
	"container/heap"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

type itemKind uint8

const (
	itemMsg itemKind = iota
	itemUnreachable
	itemSnapStatus
)

// reorderWindow bounds how many later messages may overtake a reordered one.
const reorderWindow = 8

// item is a scheduled delivery: a message to dst, or a report to dst about
// peer.
type item struct {
	at     time.Duration
	key    uint64 // ordering among items due at the same time; seq unless reordered
	seq    uint64
	kind   itemKind
	dst    uint64
	dstGen uint64
	src    uint64 // sender of a message
	srcGen uint64
	peer   uint64 // subject of a report
	status raft.SnapshotStatus
	msg    raftpb.Message
	snap   []byte // the snapshot file travelling with a MsgSnap
}

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.seq < b.seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

func (n *Network) pushLocked(it *item) {
	n.seq++
	it.seq = n.seq
	if it.key == 0 {
		it.key = it.seq
	}
	heap.Push(&n.pending, it)
	if n.opts.Mode == RealTime {
		n.signal()
	}
}

// scheduleMsgLocked applies delay and reordering to one message copy.
func (n *Network) scheduleMsgLocked(it *item, f Faults) {
	now := n.nowLocked()
	delay := f.MinDelay
	if f.MaxDelay > f.MinDelay {
		delay += time.Duration(n.rng.Int64N(int64(f.MaxDelay-f.MinDelay) + 1))
	}
	if delay > 0 {
		n.stats.Delayed++
	}
	it.at = now + delay
	l := link{it.src, it.dst}
	if f.ReorderRate > 0 && n.rng.Float64() < f.ReorderRate {
		n.stats.Reordered++
		// Push the key 2..9 positions behind the seq pushLocked will assign,
		// so later messages due at the same time overtake this one.
		nextSeq := n.seq + 1
		it.key = nextSeq + 2 + n.rng.Uint64N(reorderWindow)
		if n.opts.Mode == RealTime {
			hold := max(f.MaxDelay, time.Millisecond)
			it.at += time.Duration(n.rng.Int64N(int64(hold))) + 1
		}
	} else {
		it.at = max(it.at, n.lastAt[l])
		n.lastAt[l] = it.at
	}
	n.pushLocked(it)
}

// reportLocked queues a report for endpoint dst (incarnation gen).
func (n *Network) reportLocked(dst, gen, peer uint64, kind itemKind, status raft.SnapshotStatus) {
	if kind == itemUnreachable {
		l := link{dst, peer}
		if n.unreach[l] {
			return
		}
		n.unreach[l] = true
	}
	n.pushLocked(&item{at: n.nowLocked(), kind: kind, dst: dst, dstGen: gen, peer: peer, status: status})
}

// lostLocked accounts for a message that will not arrive and tells the sender
// what a real transport would notice.
func (n *Network) lostLocked(it *item, notice bool) {
	if notice {
		n.reportLocked(it.src, it.srcGen, it.dst, itemUnreachable, 0)
	}
	if it.msg.Type == raftpb.MsgSnap {
		n.stats.SnapshotsFailed++
		n.reportLocked(it.src, it.srcGen, it.dst, itemSnapStatus, raft.SnapshotFailure)
	}
}

// Advance moves the Step-mode clock forward. Messages whose delay has passed
// become deliverable; nothing is delivered by Advance itself.
func (n *Network) Advance(d time.Duration) {
	if n.opts.Mode != Step {
		panic("memnet: Advance is only for Step mode")
	}
	if d < 0 {
		panic(fmt.Sprintf("memnet: Advance(%v)", d))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.virtualNow += d
}

// NextDue returns the network time at which the next pending item becomes
// deliverable, and false if nothing is pending.
func (n *Network) NextDue() (time.Duration, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pending.Len() == 0 {
		return 0, false
	}
	return n.pending[0].at, true
}

// DeliverOne delivers the first deliverable item in network order and
// reports whether there was one. Step mode only.
func (n *Network) DeliverOne() bool {
	n.mustStep("DeliverOne")
	n.mu.Lock()
	if n.pending.Len() == 0 || n.pending[0].at > n.nowLocked() {
		n.mu.Unlock()
		return false
	}
	it := heap.Pop(&n.pending).(*item)
	n.mu.Unlock()
	n.deliver(it)
	return true
}

// DeliverAll delivers every item deliverable when it is called, in network
// order, and returns how many it delivered. Items sent by handlers during the
// call wait for the next call, so a handler that answers synchronously cannot
// make it loop forever. Step mode only.
func (n *Network) DeliverAll() int {
	n.mustStep("DeliverAll")
	n.mu.Lock()
	now := n.nowLocked()
	var batch []*item
	for n.pending.Len() > 0 && n.pending[0].at <= now {
		batch = append(batch, heap.Pop(&n.pending).(*item))
	}
	n.mu.Unlock()
	for _, it := range batch {
		n.deliver(it)
	}
	return len(batch)
}

func (n *Network) mustStep(op string) {
	if n.opts.Mode != Step {
		panic("memnet: " + op + " is only for Step mode")
	}
}

// deliver hands one item to its endpoint's handler. It is called without the
// lock; partitions and the destination's incarnation are re-checked first.
func (n *Network) deliver(it *item) {
	n.mu.Lock()
	ep := n.endpoints[it.dst]
	alive := ep != nil && ep.gen == it.dstGen && ep.handler != nil && !ep.closed
	if it.kind == itemUnreachable {
		delete(n.unreach, link{it.dst, it.peer})
	}
	if it.kind != itemMsg {
		n.mu.Unlock()
		if alive {
			if it.kind == itemUnreachable {
				ep.handler.ReportUnreachable(it.peer)
			} else {
				ep.handler.ReportSnapshot(it.peer, it.status)
			}
		}
		return
	}
	switch {
	case !alive:
		n.stats.DroppedClosed++
		n.lostLocked(it, true)
		n.mu.Unlock()
		return
	case n.blockedLocked(it.src, it.dst):
		n.stats.DroppedBlocked++
		n.lostLocked(it, true)
		n.mu.Unlock()
		return
	}
	n.stats.Delivered++
	h, ctx, store := ep.handler, ep.ctx, n.configs[it.dst].Snapshots
	n.mu.Unlock()

	if it.msg.Type != raftpb.MsgSnap {
		_ = h.Process(ctx, it.msg)
		return
	}
	err := fmt.Errorf("memnet: node %d has no SnapshotStore", it.dst)
	if store != nil {
		err = store.ReceiveSnapshot(it.msg.Snapshot.Data, bytes.NewReader(it.snap), int64(len(it.snap)))
	}
	if err == nil {
		err = h.Process(ctx, it.msg)
	}
	status := raft.SnapshotFinish
	n.mu.Lock()
	if err != nil {
		status = raft.SnapshotFailure
		n.stats.SnapshotsFailed++
	} else {
		n.stats.SnapshotsOK++
	}
	n.reportLocked(it.src, it.srcGen, it.dst, itemSnapStatus, status)
	n.mu.Unlock()
}

// schedule is the RealTime scheduler: it moves due items, in network order,
// into their destination's inbox, and sleeps until the next one is due.
func (n *Network) schedule() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return
		}
		now := n.nowLocked()
		for n.pending.Len() > 0 && n.pending[0].at <= now {
			n.routeLocked(heap.Pop(&n.pending).(*item))
		}
		wait := time.Hour
		if n.pending.Len() > 0 {
			wait = n.pending[0].at - now
		}
		n.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// routeLocked appends a due item to its destination endpoint's inbox, or
// drops it if the endpoint is gone or its inbox is full.
func (n *Network) routeLocked(it *item) {
	ep := n.endpoints[it.dst]
	if ep == nil || ep.gen != it.dstGen || ep.closed || ep.handler == nil {
		if it.kind == itemMsg {
			n.stats.DroppedClosed++
			n.lostLocked(it, true)
		} else if it.kind == itemUnreachable {
			delete(n.unreach, link{it.dst, it.peer})
		}
		return
	}
	if it.kind == itemMsg && ep.inboxMsgs >= n.opts.QueueLen {
		n.stats.DroppedOverflow++
		n.lostLocked(it, true)
		return
	}
	if it.kind == itemMsg {
		ep.inboxMsgs++
	}
	ep.inbox = append(ep.inbox, it)
	select {
	case ep.inboxWake <- struct{}{}:
	default:
	}
}
