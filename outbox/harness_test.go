package outbox

// Test-only harness for dispatcher tests: a controllable Leadership, a real
// HTTP sink (httptest) that records what it received, and a Run wrapper.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fakeLeader is the test's Leadership: leader of term while ok.
type fakeLeader struct {
	term atomic.Uint64
	ok   atomic.Bool
}

func (l *fakeLeader) StillLeader(term uint64) bool { return l.ok.Load() && l.term.Load() == term }

// received is one request as the sink saw it.
type received struct {
	id, ts, sig, key string
	attempt          int
	token            uint64
	header           http.Header
	body             []byte
	at               time.Time
}

// sinkServer is a real HTTP sink. respond decides the answer to the n-th
// request (1-based) for an effect id; nil answers 200.
type sinkServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	perID   map[string]int
	respond func(r received, n int) (code int, hdr map[string]string)
	gate    chan struct{} // non-nil: each request waits for a token from it
	cur     atomic.Int64
	maxCur  atomic.Int64
	keyCur  map[string]int // in-flight requests per ordering key
	keyMax  int
}

func newSinkServer(t testing.TB) *sinkServer {
	s := &sinkServer{perID: make(map[string]int), keyCur: make(map[string]int)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sinkServer) serve(w http.ResponseWriter, r *http.Request) {
	n := s.cur.Add(1)
	defer s.cur.Add(-1)
	for m := s.maxCur.Load(); n > m && !s.maxCur.CompareAndSwap(m, n); m = s.maxCur.Load() {
	}
	body, _ := io.ReadAll(r.Body)
	rec := received{
		id: r.Header.Get(HeaderWebhookID), ts: r.Header.Get(HeaderTimestamp), sig: r.Header.Get(HeaderSignature),
		key: r.Header.Get(HeaderOrderingKey), header: r.Header.Clone(), body: body, at: time.Now(),
	}
	rec.attempt, _ = strconv.Atoi(r.Header.Get(HeaderAttempt))
	rec.token, _ = strconv.ParseUint(r.Header.Get(HeaderFencingToken), 10, 64)
	s.mu.Lock()
	s.perID[rec.id]++
	nth := s.perID[rec.id]
	s.reqs = append(s.reqs, rec)
	if rec.key != "" {
		s.keyCur[rec.key]++
		s.keyMax = max(s.keyMax, s.keyCur[rec.key])
	}
	respond, gate := s.respond, s.gate
	s.mu.Unlock()
	defer func() {
		if rec.key != "" {
			s.mu.Lock()
			s.keyCur[rec.key]--
			s.mu.Unlock()
		}
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	code, hdr := 200, map[string]string(nil)
	if respond != nil {
		code, hdr = respond(rec, nth)
	}
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.WriteHeader(code)
}

func (s *sinkServer) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.reqs...)
}

func (s *sinkServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// harness wires a memStore, a fakeLeader and a Dispatcher.
type harness struct {
	t     testing.TB
	store *memStore
	lead  *fakeLeader
	reg   *prometheus.Registry
	d     *Dispatcher
}

func newHarness(t testing.TB, opts Options) *harness {
	h := &harness{t: t, store: newMemStore(), lead: &fakeLeader{}, reg: prometheus.NewRegistry()}
	opts.Registerer = h.reg
	if opts.JitterSeed == 0 {
		opts.JitterSeed = 1
	}
	d, err := New(h.store, h.lead, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	return h
}

func (h *harness) sink(name, url string, mod func(*Sink)) Sink {
	s := Sink{Name: name, URL: url, MaxAttempts: 8, RetrySchedule: "10ms", Timeout: 5 * time.Second, Concurrency: 8}
	if mod != nil {
		mod(&s)
	}
	h.store.addSink(s)
	return s
}

// commit inserts an effect and notifies, as the engine does after a commit.
func (h *harness) commit(e Effect) Effect {
	e = h.store.insert(e)
	h.d.Notify()
	return e
}

// running is a Run in progress.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs the dispatcher as leader of term.
func (h *harness) start(term uint64) *running {
	h.lead.term.Store(term)
	h.lead.ok.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- h.d.Run(ctx, term) }()
	h.t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// wait returns Run's result, failing the test if it does not end in time.
func (r *running) wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // keep it for Cleanup
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %s", timeout)
		return nil
	}
}

// stop cancels the Run (leadership ends) and returns its result.
func (r *running) stop(t testing.TB) error {
	r.cancel()
	return r.wait(t, 5*time.Second)
}

func (h *harness) waitStatus(id string, want Status) Effect {
	h.t.Helper()
	waitFor(h.t, 10*time.Second, "effect "+id+" to become "+string(want), func() bool {
		return h.store.get(id).Status == want
	})
	return h.store.get(id)
}

// metric reads a counter or gauge by name and optional sink label.
func (h *harness) metric(name, sink string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if sink != "" && !hasLabel(m, "sink", sink) {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}
