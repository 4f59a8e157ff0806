package outbox

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus series. Sink names label the
// per-sink counters; their number is the number of configured sinks.
type metrics struct {
	backlog         prometheus.Gauge
	dispatching     prometheus.Gauge
	attempts        *prometheus.CounterVec
	deliveries      *prometheus.CounterVec
	failures        *prometheus.CounterVec
	deadLetters     *prometheus.CounterVec
	fenced          *prometheus.CounterVec
	duplicates      prometheus.Counter
	staleOutcomes   prometheus.Counter
	sinkErrors      *prometheus.CounterVec
	attemptDuration prometheus.Histogram
	deliveryLatency prometheus.Histogram

	mu           sync.Mutex
	oldestCreate time.Time // created_at of the oldest pending/retry effect; zero = none
	now          func() time.Time
}

func newMetrics(reg prometheus.Registerer, now func() time.Time) (*metrics, error) {
	const ns, sub = "chr2", "outbox"
	m := &metrics{now: now}
	m.backlog = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "backlog",
		Help: "Effects pending or waiting for a retry, as last seen by the dispatcher (0 when not leader)."})
	m.dispatching = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "dispatching",
		Help: "1 while this node's dispatcher runs (it is leader), else 0."})
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "oldest_pending_age_seconds",
		Help: "Age of the oldest pending or retry effect (0 when none or not leader)."}, m.oldestAgeSeconds)
	bySink := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, []string{"sink"})
	}
	m.attempts = bySink("attempts_total", "Delivery attempts started.")
	m.deliveries = bySink("deliveries_total", "Effects recorded as delivered.")
	m.failures = bySink("failures_total", "Failed attempts (network error, timeout or non-2xx).")
	m.deadLetters = bySink("dead_letters_total", "Effects recorded as dead after their last attempt.")
	m.fenced = bySink("fenced_total", "409 Chr2-Fenced responses: a sink saw a newer term.")
	m.sinkErrors = bySink("sink_config_errors_total", "Rounds that skipped a sink because its configuration is unusable.")
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "possible_duplicates_total",
		Help: "Claims of an orphaned in_flight effect: a deposed leader may already have delivered it."})
	m.staleOutcomes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stale_outcomes_total",
		Help: "Acks or failures whose compare-and-set did not match (the effect moved on)."})
	m.attemptDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "attempt_duration_seconds",
		Help: "Duration of one delivery attempt.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)})
	m.deliveryLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "delivery_latency_seconds",
		Help: "From an effect's created_at (block time) to its ack.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 12)})
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.backlog, m.dispatching, oldest, m.attempts, m.deliveries,
		m.failures, m.deadLetters, m.fenced, m.sinkErrors, m.duplicates, m.staleOutcomes,
		m.attemptDuration, m.deliveryLatency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) setBacklog(count int64, oldest time.Time) {
	m.backlog.Set(float64(count))
	m.mu.Lock()
	m.oldestCreate = oldest
	m.mu.Unlock()
}

func (m *metrics) oldestAgeSeconds() float64 {
	m.mu.Lock()
	oldest := m.oldestCreate
	m.mu.Unlock()
	if oldest.IsZero() {
		return 0
	}
	return max(m.now().Sub(oldest).Seconds(), 0)
}
