package replication

import (
	"encoding/binary"

	"go.etcd.io/raft/v3"
)

// readBatcher coalesces linearizable read requests: requests that arrive
// while a ReadIndex round is in flight wait for the next round, which one
// raft ReadIndex call serves for all of them. (A request may not join a
// round issued before it arrived: that round's index could predate a write
// the request must observe.) It is owned by the raft loop.
type readBatcher struct {
	waiting  []readRequest
	inflight []readRequest
	id       uint64
	ticks    int // ticks since the in-flight round was issued
}

func newReadBatcher() *readBatcher { return &readBatcher{} }

func (b *readBatcher) add(r readRequest) { b.waiting = append(b.waiting, r) }

// issue starts a round for the waiting requests if none is in flight.
func (b *readBatcher) issue(rn *raft.RawNode) {
	if len(b.inflight) > 0 || len(b.waiting) == 0 {
		return
	}
	b.id++
	var ctx [8]byte
	binary.BigEndian.PutUint64(ctx[:], b.id)
	b.inflight, b.waiting = b.waiting, nil
	b.ticks = 0
	rn.ReadIndex(ctx[:])
}

// resolve answers the in-flight round when raft reports its read state.
func (b *readBatcher) resolve(states []raft.ReadState) {
	for _, rs := range states {
		if len(rs.RequestCtx) != 8 || binary.BigEndian.Uint64(rs.RequestCtx) != b.id {
			continue
		}
		for _, r := range b.inflight {
			r.ch <- readResult{index: rs.Index}
		}
		b.inflight = nil
	}
}

// tick fails a round that got no answer in limit ticks (raft drops read
// requests silently when there is no leader); its requests retry in the
// next round.
func (b *readBatcher) tick(limit int) {
	if len(b.inflight) == 0 {
		return
	}
	b.ticks++
	if b.ticks >= limit {
		b.failInflight(ErrNotLeader)
	}
}

// leaderChanged fails the in-flight round: a new leader never answers the
// old one's request.
func (b *readBatcher) leaderChanged() {
	if len(b.inflight) > 0 {
		b.waiting = append(b.inflight, b.waiting...)
		b.inflight = nil
	}
}

func (b *readBatcher) failInflight(err error) {
	for _, r := range b.inflight {
		r.ch <- readResult{err: err}
	}
	b.inflight = nil
}

func (b *readBatcher) failAll(err error) {
	b.failInflight(err)
	for _, r := range b.waiting {
		r.ch <- readResult{err: err}
	}
	b.waiting = nil
}
