package outbox

// Test-only: an in-memory Store below the Store seam. It applies transitions
// with Transition.ApplyTo (the reference CAS semantics) and computes
// candidates with the same pure helpers a real store must honour.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type applyRecord struct {
	kind string
	n    int
}

type memStore struct {
	mu      sync.Mutex
	rows    []*Effect // seq order
	live    []*Effect // rows that may still be unfinished, seq order (pruned lazily)
	byID    map[string]*Effect
	sinks   map[string]Sink
	nextSeq int64
	last    time.Time
	applies []applyRecord
	// candCalls counts Candidates calls: one per claim round.
	candCalls atomic.Int64
	// hook, if set, runs before an Apply commits; a non-nil error aborts it.
	hook func(kind string, ts []Transition) error
	// onApply, if set, runs after an Apply committed (outside the lock).
	onApply func(kind string, ts []Transition, applied []bool)
	// applyDelay models the latency of a consensus round (benchmarks).
	applyDelay time.Duration
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{byID: make(map[string]*Effect), sinks: make(map[string]Sink)}
}

func (s *memStore) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *memStore) nowLocked() time.Time {
	now := time.Now().Round(0)
	if now.Before(s.last) {
		now = s.last
	}
	s.last = now
	return now
}

func (s *memStore) addSink(sk Sink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sinks[sk.Name] = sk
}

// insert commits a new effect like an INSERT would: seq, created_at and the
// default id and status are assigned by the "engine".
func (s *memStore) insert(e Effect) Effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextSeq++
	e.Seq = s.nextSeq
	if e.ID == "" {
		e.ID = fmt.Sprintf("eff-%06d", e.Seq)
	}
	if e.Status == "" {
		e.Status = StatusPending
	}
	if e.Payload == nil {
		e.Payload = []byte(fmt.Sprintf(`{"n":%d}`, e.Seq))
	}
	e.CreatedAt = dbTime(s.nowLocked())
	row := e
	s.rows = append(s.rows, &row)
	s.live = append(s.live, &row)
	s.byID[e.ID] = &row
	return e
}

// update runs an operator-style change on one row.
func (s *memStore) update(id string, f func(e *Effect)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.byID[id])
}

func (s *memStore) get(id string) Effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.byID[id]
}

func (s *memStore) applyCount(kind string) (calls, transitions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.applies {
		if a.kind == kind {
			calls++
			transitions += a.n
		}
	}
	return calls, transitions
}

// Candidates is written independently of SelectHeads (a single pass in seq
// order: the first unfinished row of a key is its head), so the differential
// test against SQLStore compares two implementations of the rule.
func (s *memStore) Candidates(_ context.Context, q CandidateQuery) ([]Effect, error) {
	defer s.candCalls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil && len(s.rows) > 0 { // rows added directly by a test
		s.live = append(s.live, s.rows...)
	}
	// Delivered is final (no operator path leads out of it): drop the
	// delivered prefix so benchmarks stay linear.
	for len(s.live) > 0 && s.live[0].Status == StatusDelivered {
		s.live = s.live[1:]
	}
	var out []Effect
	keys := make(map[string]struct{})
	taken := make(map[string]int)
	for _, r := range s.live {
		if len(out) >= q.Limit {
			break
		}
		if !r.Status.Unfinished() {
			continue
		}
		if r.OrderingKey != "" {
			if _, seen := keys[r.OrderingKey]; seen {
				continue // not the head of its key
			}
			keys[r.OrderingKey] = struct{}{}
		}
		if taken[r.Sink] < q.Quota[r.Sink] && Claimable(*r, q.Term, q.Now) {
			taken[r.Sink]++
			out = append(out, *r)
		}
	}
	return out, nil
}

func (s *memStore) NextWake(_ context.Context, now time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, r := range s.rows {
		if r.Status != StatusPending && r.Status != StatusRetry {
			continue
		}
		for _, t := range []time.Time{r.RunAt, r.NextAttemptAt} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next, nil
}

func (s *memStore) Backlog(context.Context) (int64, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	var oldest time.Time
	for _, r := range s.rows {
		if r.Status == StatusPending || r.Status == StatusRetry {
			if n == 0 {
				oldest = r.CreatedAt
			}
			n++
		}
	}
	return n, oldest, nil
}

func (s *memStore) Sinks(context.Context) (map[string]Sink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Sink, len(s.sinks))
	for k, v := range s.sinks {
		out[k] = v
	}
	return out, nil
}

func (s *memStore) Apply(_ context.Context, term uint64, kind string, ts []Transition) ([]bool, error) {
	s.mu.Lock()
	if s.hook != nil {
		if err := s.hook(kind, ts); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	applied := make([]bool, len(ts))
	for i, t := range ts {
		if t.Kind != kind {
			s.mu.Unlock()
			return nil, fmt.Errorf("memstore: %s transition in %s entry", t.Kind, kind)
		}
		if r := s.byID[t.EffectID]; r != nil {
			applied[i] = t.ApplyTo(r)
		}
	}
	s.applies = append(s.applies, applyRecord{kind: kind, n: len(ts)})
	hook, delay := s.onApply, s.applyDelay
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay) // models commit latency, not a wait for a condition
	}
	if hook != nil {
		hook(kind, slices.Clone(ts), applied)
	}
	return applied, nil
}

// waitFor polls cond until it holds or the deadline passes. Polling the
// test's own condition (not the code under test) with a deadline is the
// "wait with deadline" rule.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// headsOf computes the heads map of SelectHeads from complete rows: the
// reference for what a Store passes to SelectHeads.
func headsOf(rows []Effect) map[string]int64 {
	heads := make(map[string]int64)
	for _, e := range rows {
		if e.OrderingKey == "" || !e.Status.Unfinished() {
			continue
		}
		if h, ok := heads[e.OrderingKey]; !ok || e.Seq < h {
			heads[e.OrderingKey] = e.Seq
		}
	}
	return heads
}
