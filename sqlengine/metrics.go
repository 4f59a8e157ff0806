package sqlengine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// writerMetrics are the writer's Prometheus instruments.
type writerMetrics struct {
	commitLatency prometheus.Histogram
	epochTxs      prometheus.Histogram
	epochAborts   prometheus.Counter
}

func newWriterMetrics(reg prometheus.Registerer) *writerMetrics {
	m := &writerMetrics{
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chr2_commit_latency_seconds",
			Help:    "From COMMIT (or the end of an autocommit statement) to the log committing the transaction.",
			Buckets: prometheus.ExponentialBuckets(100e-6, 2, 16)}),
		epochTxs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chr2_epoch_transactions",
			Help:    "Transactions per group-commit epoch (one SQLite transaction on the leader).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		epochAborts: prometheus.NewCounter(prometheus.CounterOpts{Name: "chr2_epoch_aborts_total",
			Help: "Epochs rolled back by a leadership change or a refused proposal."}),
	}
	if reg != nil {
		reg.MustRegister(m.commitLatency, m.epochTxs, m.epochAborts)
	}
	return m
}
