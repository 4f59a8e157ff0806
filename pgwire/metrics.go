package pgwire

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	ConnectionsTotal  prometheus.Counter
	ConnectionsActive prometheus.Gauge
	Rejected          *prometheus.CounterVec // by reason
	Messages          *prometheus.CounterVec // by frontend message type
	Errors            *prometheus.CounterVec // by SQLSTATE class
	BytesWritten      prometheus.Counter

	messageByType [256]prometheus.Counter // resolved once: no lookup per message
}

// Rejection reasons used as the "reason" label.
const (
	rejectTooMany  = "too_many_connections"
	rejectAuth     = "auth_failed"
	rejectStartup  = "bad_startup"
	rejectShutdown = "shutting_down"
)

// NewMetrics builds the collectors and registers them with reg when it is
// not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ConnectionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chr2_pgwire_connections_total", Help: "Client connections accepted.",
		}),
		ConnectionsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chr2_pgwire_connections_active", Help: "Client connections open now.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_pgwire_connections_rejected_total", Help: "Connections refused, by reason.",
		}, []string{"reason"}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_pgwire_messages_total", Help: "Frontend messages received, by type.",
		}, []string{"type"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_pgwire_errors_total", Help: "ErrorResponses sent, by SQLSTATE class.",
		}, []string{"class"}),
		BytesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chr2_pgwire_bytes_written_total", Help: "Bytes written to clients.",
		}),
	}
	for _, t := range []byte("BCDEFHPQSXcdfp") {
		m.messageByType[t] = m.Messages.WithLabelValues(string(t))
	}
	other := m.Messages.WithLabelValues("other")
	for i := range m.messageByType {
		if m.messageByType[i] == nil {
			m.messageByType[i] = other
		}
	}
	if reg != nil {
		reg.MustRegister(m.ConnectionsTotal, m.ConnectionsActive, m.Rejected, m.Messages, m.Errors, m.BytesWritten)
	}
	return m
}
