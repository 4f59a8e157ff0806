package outbox

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// minWake keeps a store that reports an already-due wake time from turning
// the loop into a spin.
const minWake = time.Millisecond

// claimRound reads candidates, claims a batch in one entry and starts the
// attempts whose claim applied. more reports that the batch was full and
// another round may find more right away.
func (r *run) claimRound() (more bool, err error) {
	o := r.d.opts
	if r.inflight >= o.MaxInFlight {
		return false, nil // a result will free capacity and mark us dirty
	}
	if err := r.refreshSinks(); err != nil {
		return false, err
	}
	now := r.d.store.Now()
	q := r.query(now)
	var cands []Effect
	if len(q.Quota) > 0 {
		var err error
		if cands, err = r.d.store.Candidates(r.parent, q); err != nil {
			return false, fmt.Errorf("outbox: read candidates: %w", err)
		}
	}
	picked, ts := r.pick(cands, now)
	if len(ts) > 0 {
		applied, err := r.d.store.Apply(r.parent, r.term, KindClaim, ts)
		if err != nil {
			// Ambiguous or refused: send nothing from this batch. A claim
			// that did commit leaves an orphan the next term re-claims.
			return false, fmt.Errorf("outbox: claim entry: %w", err)
		}
		if len(applied) != len(ts) {
			panic(fmt.Sprintf("outbox: Store.Apply answered %d results for %d claims", len(applied), len(ts)))
		}
		for i, ok := range applied {
			if ok {
				r.start(picked[i], ts[i])
			}
		}
	}
	more = len(cands) >= q.Limit && len(ts) > 0 && r.inflight < o.MaxInFlight
	if !more {
		if err := r.armWake(now); err != nil {
			return false, err
		}
	}
	r.maybeStats()
	return more, nil
}

// query asks for as many effects as each usable sink has free slots, and no
// more than ClaimBatch or the global in-flight cap allow.
func (r *run) query(now time.Time) CandidateQuery {
	limit := min(r.d.opts.ClaimBatch, r.d.opts.MaxInFlight-r.inflight)
	q := CandidateQuery{Now: now, Term: r.term, Limit: limit, Quota: make(map[string]int, len(r.sinks))}
	for name, cs := range r.sinks {
		if cs.err != nil {
			r.d.m.sinkErrors.WithLabelValues(name).Inc()
			continue
		}
		if free := cs.concurrency - r.bySink[name]; free > 0 && limit > 0 {
			q.Quota[name] = min(free, limit)
		}
	}
	return q
}

// pick chooses the candidates that fit: a usable sink with free concurrency,
// the global in-flight cap, and one attempt per ordering key.
func (r *run) pick(cands []Effect, now time.Time) ([]flight, []Transition) {
	var picked []flight
	var ts []Transition
	perSink := make(map[string]int)
	keys := make(map[string]struct{})
	for _, c := range cands {
		if r.inflight+len(ts) >= r.d.opts.MaxInFlight {
			break
		}
		cs := r.usableSink(c.Sink)
		if cs == nil || r.bySink[c.Sink]+perSink[c.Sink] >= cs.concurrency {
			continue
		}
		if c.OrderingKey != "" {
			if _, busy := r.keys[c.OrderingKey]; busy {
				continue
			}
			if _, taken := keys[c.OrderingKey]; taken {
				continue
			}
		}
		t, err := Claim(c, r.term, now)
		if err != nil {
			r.d.log.Debug("outbox: store offered an effect that is not claimable", zap.Error(err))
			continue
		}
		perSink[c.Sink]++
		if c.OrderingKey != "" {
			keys[c.OrderingKey] = struct{}{}
		}
		picked = append(picked, flight{effect: c, sink: cs})
		ts = append(ts, t)
	}
	return picked, ts
}

// usableSink returns the compiled sink, or nil when its effects cannot be
// delivered now. The store only offers sinks that were in the quota, so nil
// here means the configuration changed under us or the store misbehaved.
func (r *run) usableSink(name string) *compiledSink {
	if cs := r.sinks[name]; cs != nil && cs.err == nil {
		return cs
	}
	return nil
}

// refreshSinks re-reads chr2.sinks, recompiling only changed rows.
func (r *run) refreshSinks() error {
	rows, err := r.d.store.Sinks(r.parent)
	if err != nil {
		return fmt.Errorf("outbox: read sinks: %w", err)
	}
	next := make(map[string]*compiledSink, len(rows))
	for name, s := range rows {
		if old := r.sinks[name]; old != nil && old.sink == s {
			next[name] = old
			continue
		}
		cs := r.d.compile(s)
		next[name] = cs
		if cs.err != nil && r.badLogged[name] != cs.err.Error() {
			r.badLogged[name] = cs.err.Error()
			r.d.log.Error("outbox: not delivering effects of sink until its configuration is fixed",
				zap.String("sink", name), zap.Error(cs.err))
		}
	}
	r.sinks = next
	return nil
}

// start launches the attempt for a claim that applied.
func (r *run) start(f flight, t Transition) {
	before := f.effect
	if !t.ApplyTo(&f.effect) {
		panic(fmt.Sprintf("outbox: claim of %s applied in the store but not to the row it was built from", before.ID))
	}
	if before.Status == StatusInFlight {
		r.d.m.duplicates.Inc() // an older leader may have delivered it already
	}
	r.inflight++
	r.bySink[f.sink.sink.Name]++
	if f.effect.OrderingKey != "" {
		r.keys[f.effect.OrderingKey] = struct{}{}
	}
	r.wg.Add(1)
	go r.attempt(f)
}

// attempt runs in its own goroutine: last-moment leadership check, send,
// report. It never touches the loop's state except through results.
func (r *run) attempt(f flight) {
	defer r.wg.Done()
	out := attemptResult{flight: f}
	switch {
	case r.ctx.Err() != nil:
		out.skipped = true
	case !r.d.lead.StillLeader(r.term):
		out.skipped, out.notLeader = true, true
	case len(f.effect.Payload) > r.d.opts.MaxPayloadBytes:
		out.permanent = true
		out.res = Result{Err: fmt.Sprintf("payload of %d bytes exceeds the %d-byte limit", len(f.effect.Payload), r.d.opts.MaxPayloadBytes)}
	default:
		out.res = r.send(f)
		if r.ctx.Err() != nil && out.res.Outcome == OutcomeFailed {
			out.skipped = true // we cancelled it; not the sink's failure
		}
	}
	r.results <- out
}

func (r *run) send(f flight) Result {
	e, s := f.effect, f.sink
	r.d.m.attempts.WithLabelValues(s.sink.Name).Inc()
	ctx, cancel := context.WithTimeout(r.ctx, s.timeout)
	defer cancel()
	began := time.Now()
	res := r.d.opts.Sender.Send(ctx, Request{
		EffectID: e.ID, Attempt: e.Attempts, Term: r.term, OrderingKey: e.OrderingKey,
		Payload: e.Payload, URL: s.sink.URL, Key: s.key,
	})
	r.d.m.attemptDuration.Observe(time.Since(began).Seconds())
	return res
}

// armWake sets the wake timer to the next due run_at/next_attempt_at, or
// MaxIdle when nothing is scheduled.
func (r *run) armWake(now time.Time) error {
	next, err := r.d.store.NextWake(r.parent, now)
	if err != nil {
		return fmt.Errorf("outbox: read next wake time: %w", err)
	}
	d := r.d.opts.MaxIdle
	if !next.IsZero() {
		d = min(d, max(next.Sub(now), minWake))
	}
	r.wake.Reset(d)
	return nil
}

// maybeStats refreshes the backlog gauges at most every StatsInterval. A
// failed read only leaves the gauges stale: metrics must not stop delivery.
func (r *run) maybeStats() {
	if time.Since(r.lastStats) < r.d.opts.StatsInterval {
		return
	}
	r.lastStats = time.Now()
	n, oldest, err := r.d.store.Backlog(r.parent)
	if err != nil {
		r.d.log.Debug("outbox: backlog read failed", zap.Error(err))
		return
	}
	r.d.m.setBacklog(n, oldest)
}
