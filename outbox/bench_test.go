package outbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// benchSink is a minimal 200 sink that signals each delivery.
func benchSink(b *testing.B, onHit func(id string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if onHit != nil {
			onHit(r.Header.Get(HeaderWebhookID))
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// rawThroughput is the yardstick: the same sender, the same sink, the same
// concurrency, no dispatcher and no store.
func rawThroughput(b *testing.B, url string, n, concurrency int) float64 {
	s := NewWebhookSender(nil, nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				res := s.Send(context.Background(), Request{EffectID: fmt.Sprint(i), Attempt: 1, Term: 1,
					Payload: []byte(`{"n":1}`), URL: url, Key: []byte("k")})
				if res.Outcome != OutcomeDelivered {
					b.Errorf("raw send: %+v", res)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkDispatcherThroughput: b.N committed effects delivered to a local
// sink (concurrency 64) through the dispatcher and the in-memory store.
// Reports effects/s, the ratio against raw concurrent sends of the same
// requests (the yardstick), and log entries per effect. applyDelay models the
// commit latency of the claim/ack entries.
func BenchmarkDispatcherThroughput(b *testing.B) {
	for _, delay := range []time.Duration{0, time.Millisecond} {
		b.Run(fmt.Sprintf("apply=%s", delay), func(b *testing.B) {
			const concurrency = 64
			var delivered atomic.Int64
			all := make(chan struct{})
			n := int64(b.N)
			srv := benchSink(b, nil)
			store := newMemStore()
			store.applyDelay = delay
			store.onApply = func(kind string, _ []Transition, applied []bool) {
				if kind != KindAck {
					return
				}
				k := int64(0)
				for _, ok := range applied {
					if ok {
						k++
					}
				}
				if delivered.Add(k) == n {
					close(all)
				}
			}
			store.addSink(Sink{Name: "s", URL: srv.URL, Secret: testSecret, MaxAttempts: 8, Timeout: 5 * time.Second, Concurrency: concurrency})
			for i := 0; i < b.N; i++ {
				store.insert(Effect{Sink: "s"})
			}
			lead := &fakeLeader{}
			lead.term.Store(1)
			lead.ok.Store(true)
			d, err := New(store, lead, Options{Registerer: prometheus.NewRegistry(), JitterSeed: 1})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- d.Run(ctx, 1) }()
			<-all
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			rate := float64(b.N) / elapsed.Seconds()
			raw := rawThroughput(b, srv.URL, min(b.N, 20000), concurrency)
			claims, _ := store.applyCount(KindClaim)
			acks, _ := store.applyCount(KindAck)
			b.ReportMetric(rate, "effects/s")
			b.ReportMetric(raw, "raw-sends/s")
			b.ReportMetric(rate/raw, "ratio-vs-raw")
			b.ReportMetric(float64(claims+acks)/float64(b.N), "entries/effect")
		})
	}
}

// BenchmarkCommitToDelivery: one effect at a time, from the commit (insert +
// Notify, as the engine does) to the sink receiving it. Reports p50/p99 and
// the ratio of p50 against one raw send (the yardstick).
func BenchmarkCommitToDelivery(b *testing.B) {
	hits := make(chan string, 1)
	srv := benchSink(b, func(id string) { hits <- id })
	store := newMemStore()
	store.addSink(Sink{Name: "s", URL: srv.URL, MaxAttempts: 8, Timeout: 5 * time.Second, Concurrency: 8})
	lead := &fakeLeader{}
	lead.term.Store(1)
	lead.ok.Store(true)
	d, err := New(store, lead, Options{Registerer: prometheus.NewRegistry(), JitterSeed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, 1) }()
	defer func() { cancel(); <-done }()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e := store.insert(Effect{Sink: "s"})
		d.Notify()
		if id := <-hits; id != e.ID {
			b.Fatalf("sink got %s, want %s", id, e.ID)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	raw := make([]time.Duration, 0, 200)
	s := NewWebhookSender(nil, nil)
	for i := 0; i < 200; i++ {
		start := time.Now()
		s.Send(context.Background(), Request{EffectID: "raw", Attempt: 1, Term: 1, Payload: []byte(`{}`), URL: srv.URL})
		<-hits
		raw = append(raw, time.Since(start))
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(percentile(raw, 50).Microseconds()), "raw-send-p50-µs")
	b.ReportMetric(float64(p50)/float64(percentile(raw, 50)), "p50-ratio-vs-raw")
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
