package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// flight is an effect whose claim applied in this term: Effect holds the row
// as the claim left it (in_flight, attempt n, token term).
type flight struct {
	effect Effect
	sink   *compiledSink
}

// attemptResult is what an attempt goroutine hands back to the loop.
type attemptResult struct {
	flight    flight
	res       Result
	permanent bool // no retry can succeed
	skipped   bool // nothing recorded: not sent, or cancelled by us
	notLeader bool // skipped because leadership was lost before the send
}

// run is one Run: the loop's state. Only the loop goroutine touches it,
// except results, which attempt goroutines send on.
type run struct {
	d      *Dispatcher
	term   uint64
	parent context.Context
	ctx    context.Context // attempts; cancelled on stop
	cancel context.CancelFunc

	results   chan attemptResult
	wg        sync.WaitGroup
	inflight  int
	bySink    map[string]int
	keys      map[string]struct{} // ordering keys with an attempt in flight
	outcomes  []attemptResult     // delivered or failed, not yet recorded
	firstOut  time.Time           // when the oldest unrecorded outcome arrived
	sinks     map[string]*compiledSink
	badLogged map[string]string // sink → configuration error already logged
	dirty     bool              // candidates may exist: run a claim round
	stopErr   error             // ErrFenced or ErrNotLeader: wind down
	lastStats time.Time
	wake      *time.Timer
	linger    *time.Timer
}

func newRun(parent context.Context, d *Dispatcher, term uint64) *run {
	ctx, cancel := context.WithCancel(parent)
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	return &run{
		d: d, term: term, parent: parent, ctx: ctx, cancel: cancel,
		results:   make(chan attemptResult, d.opts.MaxInFlight),
		bySink:    make(map[string]int),
		keys:      make(map[string]struct{}),
		sinks:     make(map[string]*compiledSink),
		badLogged: make(map[string]string),
		wake:      wake,
		linger:    linger,
	}
}

// loop is the dispatcher's driver: flush outcomes, claim, sleep.
func (r *run) loop() error {
	defer r.wake.Stop()
	defer r.linger.Stop()
	r.dirty = true
	for {
		if r.parent.Err() != nil {
			return r.windDown(nil, false)
		}
		r.drain()
		if r.shouldFlush() {
			if err := r.flush(r.parent); err != nil {
				return r.windDown(err, false)
			}
			r.dirty = true // capacity freed, ordering keys advanced
		}
		if r.stopErr != nil {
			return r.windDown(r.stopErr, r.stopErr == ErrFenced)
		}
		if r.dirty {
			more, err := r.claimRound()
			if err != nil {
				return r.windDown(err, false)
			}
			r.dirty = more
		}
		if !r.dirty {
			r.sleep()
		}
	}
}

// sleep waits for the next reason to act. Never a short poll: the timers are
// the next due time (armed by claimRound) and the outcome linger.
func (r *run) sleep() {
	select {
	case <-r.parent.Done():
	case <-r.d.notify:
		r.dirty = true
	case <-r.wake.C:
		r.dirty = true
	case <-r.linger.C:
	case res := <-r.results:
		r.handle(res)
	}
}

// drain takes every result that is ready without blocking.
func (r *run) drain() {
	for {
		select {
		case res := <-r.results:
			r.handle(res)
		default:
			return
		}
	}
}

func (r *run) handle(res attemptResult) {
	f := res.flight
	r.inflight--
	r.bySink[f.sink.sink.Name]--
	if f.effect.OrderingKey != "" {
		delete(r.keys, f.effect.OrderingKey)
	}
	// Freed capacity does not trigger a claim round by itself: the next
	// flush does, so one claim entry refills all the slots freed while the
	// outcomes lingered, instead of one claim entry per completion.
	switch {
	case res.skipped:
		r.dirty = true // nothing to flush for it; let the slot be reused
		if res.notLeader && r.stopErr == nil {
			r.stopErr = ErrNotLeader
			r.cancel()
		}
		return
	case res.res.Outcome == OutcomeFenced:
		r.d.m.fenced.WithLabelValues(f.sink.sink.Name).Inc()
		if r.stopErr == nil {
			r.d.log.Warn("outbox fenced: a sink has seen a newer term; stopping delivery in this term",
				zap.Uint64("term", r.term), zap.String("sink", f.sink.sink.Name), zap.String("effect", f.effect.ID))
			r.stopErr = ErrFenced
			r.cancel()
		}
		return
	case res.res.Outcome == OutcomeFailed:
		r.d.m.failures.WithLabelValues(f.sink.sink.Name).Inc()
	}
	if len(r.outcomes) == 0 {
		r.firstOut = time.Now()
		r.linger.Reset(r.d.opts.FlushLinger)
	}
	r.outcomes = append(r.outcomes, res)
}

// shouldFlush: outcomes share an entry unless waiting longer would only add
// latency (nothing else in flight), the batch is full, or the run is ending.
func (r *run) shouldFlush() bool {
	n := len(r.outcomes)
	return n > 0 && (r.inflight == 0 || n >= r.d.opts.MaxApplyBatch || r.stopErr != nil ||
		time.Since(r.firstOut) >= r.d.opts.FlushLinger)
}

// windDown cancels every attempt, waits for the goroutines, and for a fenced
// stop records the outcomes that completed before returning err.
func (r *run) windDown(err error, flushFirst bool) error {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case res := <-r.results:
			r.handle(res)
		case <-done:
			waiting = false
		}
	}
	r.drain()
	if flushFirst && len(r.outcomes) > 0 && r.parent.Err() == nil {
		if ferr := r.flush(r.parent); ferr != nil {
			r.d.log.Warn("outbox: could not record outcomes after being fenced", zap.Error(ferr))
		}
	}
	if r.parent.Err() != nil && !errors.Is(err, ErrFenced) {
		return nil // leadership ended: the normal way out
	}
	return err
}

// flush records unrecorded outcomes: acks in one batch of entries, failures
// in another.
func (r *run) flush(ctx context.Context) error {
	r.linger.Stop()
	now := r.d.store.Now()
	var acks, fails []Transition
	var ackRes, failRes []attemptResult
	for _, res := range r.outcomes {
		f := res.flight
		e := f.effect
		if res.res.Outcome == OutcomeDelivered {
			t, err := Ack(e, e.Attempts, r.term, now)
			if err != nil {
				panic(fmt.Sprintf("outbox: ack of our own claim refused: %v", err))
			}
			acks, ackRes = append(acks, t), append(ackRes, res)
			continue
		}
		t, err := Fail(e, Failure{
			Attempt: e.Attempts, Term: r.term, Err: res.res.Err, RetryAfter: res.res.RetryAfter,
			Permanent: res.permanent, Jitter: r.d.rnd.Float64(),
		}, f.sink.policy, now)
		if err != nil {
			panic(fmt.Sprintf("outbox: failure of our own claim refused: %v", err))
		}
		fails, failRes = append(fails, t), append(failRes, res)
	}
	r.outcomes = r.outcomes[:0]
	if err := r.record(ctx, KindAck, acks, ackRes, now); err != nil {
		return err
	}
	return r.record(ctx, KindFail, fails, failRes, now)
}

func (r *run) record(ctx context.Context, kind string, ts []Transition, res []attemptResult, now time.Time) error {
	for start := 0; start < len(ts); start += r.d.opts.MaxApplyBatch {
		end := min(start+r.d.opts.MaxApplyBatch, len(ts))
		applied, err := r.d.store.Apply(ctx, r.term, kind, ts[start:end])
		if err != nil {
			return fmt.Errorf("outbox: record %s entry: %w", kind, err)
		}
		if len(applied) != end-start {
			panic(fmt.Sprintf("outbox: Store.Apply answered %d results for %d transitions", len(applied), end-start))
		}
		for i, ok := range applied {
			r.observe(ts[start+i], res[start+i], ok, now)
		}
	}
	return nil
}

// observe updates metrics and logs for one recorded outcome.
func (r *run) observe(t Transition, res attemptResult, applied bool, now time.Time) {
	m, e, sink := r.d.m, res.flight.effect, res.flight.sink.sink.Name
	if !applied {
		m.staleOutcomes.Inc()
		return
	}
	switch t.To {
	case StatusDelivered:
		m.deliveries.WithLabelValues(sink).Inc()
		if !e.CreatedAt.IsZero() {
			m.deliveryLatency.Observe(max(now.Sub(e.CreatedAt).Seconds(), 0))
		}
	case StatusDead:
		m.deadLetters.WithLabelValues(sink).Inc()
		r.d.log.Warn("outbox effect dead-lettered", zap.String("effect", e.ID), zap.String("sink", sink),
			zap.Int("attempts", e.Attempts), zap.String("last_error", t.LastError))
	}
}
