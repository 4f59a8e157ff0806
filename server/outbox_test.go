package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/examples/receiver/receiver"
	"github.com/chr2sql/chr2sql/outbox"
)

// sendLog records every attempt a node's dispatcher actually sent.
type sendLog struct {
	mu    sync.Mutex
	sends []sentAttempt
}

type sentAttempt struct {
	node uint64
	term uint64
	id   string
	at   time.Time
}

// recordingSender wraps the real webhook sender (a real HTTP client) and
// notes the moment each request leaves.
type recordingSender struct {
	node  uint64
	log   *sendLog
	inner outbox.Sender
}

func (r recordingSender) Send(ctx context.Context, req outbox.Request) outbox.Result {
	r.log.mu.Lock()
	r.log.sends = append(r.log.sends, sentAttempt{node: r.node, term: req.Term, id: req.EffectID, at: time.Now()})
	r.log.mu.Unlock()
	return r.inner.Send(ctx, req)
}

// fencedSink is the example receiver (fencing-aware, deduplicating) behind
// a real HTTP server that can be slowed down, and that counts refusals.
type fencedSink struct {
	srv     *httptest.Server
	h       *receiver.Handler
	mu      sync.Mutex
	delay   time.Duration
	refused map[uint64]int // token → 409 answers
	got     int
}

func newFencedSink(t *testing.T) *fencedSink {
	h, err := receiver.New(receiver.Config{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &fencedSink{h: h, refused: map[uint64]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		d := s.delay
		s.got++
		s.mu.Unlock()
		if d > 0 {
			select {
			case <-time.After(d): // a slow sink keeps attempts in flight
			case <-r.Context().Done():
				return
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusConflict {
			tok, _ := strconv.ParseUint(r.Header.Get("Chr2-Fencing-Token"), 10, 64)
			s.mu.Lock()
			s.refused[tok]++
			s.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fencedSink) setDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

func (s *fencedSink) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// TestPartitionedLeaderStopsDelivering cuts the leader off from the
// majority while it has deliveries in flight. The new leader re-claims the
// orphaned effects under its own token; the old leader sends nothing once
// the new leader could exist (its sends all precede the new leader's first
// claim), and the fencing-aware sink refuses whatever old-token request
// arrives after it accepted a newer token. Every effect is delivered.
func TestPartitionedLeaderStopsDelivering(t *testing.T) {
	seed := testSeed(t)
	sends := &sendLog{}
	fc := newFaultClusterWith(t, seed, func(cfg *Config) {
		cfg.Outbox.Sender = recordingSender{node: cfg.NodeID, log: sends, inner: outbox.NewWebhookSender(nil, nil)}
	})
	sink := newFencedSink(t)
	ctx := context.Background()
	l1 := fc.leader()
	conn := connect(t, l1)
	if _, err := conn.Exec(ctx, `INSERT INTO chr2.sinks (name, url, timeout_ms) VALUES ('s', $1, 2000)`, sink.srv.URL); err != nil {
		t.Fatal(err)
	}
	sink.setDelay(400 * time.Millisecond)
	const effects = 12
	ids := make([]string, 0, effects)
	for i := 0; i < effects; i++ {
		var id string
		if err := conn.QueryRow(ctx, `INSERT INTO chr2.effects (sink, payload) VALUES ('s', $1) RETURNING id`,
			`{"n": `+strconv.Itoa(i)+`}`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	waitFor(t, 10*time.Second, "deliveries in flight", func() bool { return sink.requests() > 0 })
	oldTerm := l1.Status().Term
	old := l1.Status().NodeID
	fc.net.Isolate(old)
	t.Logf("isolated leader %d (term %d) with %d requests in flight", old, oldTerm, sink.requests())

	var l2 *Server
	waitFor(t, 15*time.Second, "a new leader", func() bool {
		for id, s := range fc.nodes {
			if st := s.Status(); id != old && st.Role == "leader" && st.Ready {
				l2 = s
				return true
			}
		}
		return false
	})
	sink.setDelay(0)
	conn2 := connect(t, l2)
	waitFor(t, 30*time.Second, "every effect delivered", func() bool {
		var n int
		err := conn2.QueryRow(ctx, `SELECT count(*) FROM chr2.effects WHERE status = 'delivered'`).Scan(&n)
		return err == nil && n == effects
	})
	newTerm := l2.Status().Term
	var firstClaim time.Time
	if err := conn2.QueryRow(ctx, `SELECT min(claimed_at) FROM chr2.effects WHERE fencing_token = $1`,
		int64(newTerm)).Scan(&firstClaim); err != nil {
		t.Fatalf("no effect was claimed by the new leader: %v", err)
	}
	fc.net.Heal()

	sends.mu.Lock()
	defer sends.mu.Unlock()
	oldSends := 0
	for _, s := range sends.sends {
		if s.node == old && s.term == oldTerm {
			oldSends++
			if !s.at.Before(firstClaim) {
				t.Fatalf("old leader sent %s at %v, after the new leader's first claim at %v", s.id, s.at, firstClaim)
			}
		}
	}
	accepted := map[string]int{}
	for _, d := range sink.h.Received() {
		accepted[d.ID]++
	}
	for _, id := range ids {
		if accepted[id] == 0 {
			t.Fatalf("effect %s was never accepted by the sink", id)
		}
	}
	st := sink.h.Stats()
	sink.mu.Lock()
	t.Logf("old leader sent %d attempts; sink: %d accepted, %d duplicates, %d refused as fenced %v, highest token %d",
		oldSends, st.Accepted, st.Duplicates, st.Fenced, sink.refused, st.HighestToken)
	sink.mu.Unlock()
	if st.HighestToken != newTerm {
		t.Fatalf("sink's highest token %d, new leader's term %d", st.HighestToken, newTerm)
	}
}
