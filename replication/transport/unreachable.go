package transport

import (
	"context"
	"sync"

	"github.com/chr2sql/chr2sql/replication"
)

// unreachableReporter decouples "this peer is unreachable" from the Handler
// call. Send runs on the raft loop's goroutine; calling the Handler from
// there could deadlock a node whose ReportUnreachable feeds that same loop.
// Marks are coalesced per peer, so a burst of drops costs one report.
type unreachableReporter struct {
	mu      sync.Mutex
	pending map[uint64]struct{}
	order   []uint64 // report in the order peers were first marked
	wake    chan struct{}
}

func newUnreachableReporter() *unreachableReporter {
	return &unreachableReporter{pending: make(map[uint64]struct{}), wake: make(chan struct{}, 1)}
}

// mark never blocks.
func (u *unreachableReporter) mark(id uint64) {
	u.mu.Lock()
	if _, ok := u.pending[id]; !ok {
		u.pending[id] = struct{}{}
		u.order = append(u.order, id)
	}
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

func (u *unreachableReporter) run(ctx context.Context, h replication.Handler) {
	for {
		u.mu.Lock()
		ids := u.order
		u.order = nil
		clear(u.pending)
		u.mu.Unlock()
		for _, id := range ids {
			h.ReportUnreachable(id)
		}
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		}
	}
}
