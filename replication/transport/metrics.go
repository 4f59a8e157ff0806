package transport

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons (label values of chr2_raft_transport_dropped_messages_total).
const (
	dropQueueFull    = "queue_full"
	dropUnknownPeer  = "unknown_peer"
	dropDisconnected = "disconnected"
	dropTooLarge     = "too_large"
	dropSnapshotBusy = "snapshot_in_flight"
)

type metrics struct {
	msgsSent  *prometheus.CounterVec
	bytesSent *prometheus.CounterVec
	msgsRecv  *prometheus.CounterVec
	bytesRecv *prometheus.CounterVec
	drops     *prometheus.CounterVec
	snapshots *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	peer := []string{"peer"}
	m := &metrics{
		msgsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_sent_messages_total",
			Help: "Raft messages written to a peer connection.",
		}, peer),
		bytesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_sent_bytes_total",
			Help: "Frame bytes written to peer connections, snapshot streams included.",
		}, peer),
		msgsRecv: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_received_messages_total",
			Help: "Raft messages received from a peer and handed to the raft node.",
		}, peer),
		bytesRecv: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_received_bytes_total",
			Help: "Frame bytes read from peer connections, snapshot streams included.",
		}, peer),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_dropped_messages_total",
			Help: "Outbound raft messages dropped before reaching the wire, by reason.",
		}, []string{"peer", "reason"}),
		snapshots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chr2_raft_transport_snapshots_total",
			Help: "Snapshot streams by direction (sent, received) and outcome (ok, failed).",
		}, []string{"peer", "direction", "outcome"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.msgsSent, m.bytesSent, m.msgsRecv, m.bytesRecv, m.drops, m.snapshots} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func peerLabel(id uint64) string { return strconv.FormatUint(id, 10) }

func (m *metrics) drop(peer uint64, reason string) {
	m.drops.WithLabelValues(peerLabel(peer), reason).Inc()
}

func (m *metrics) snapshot(peer uint64, direction string, ok bool) {
	outcome := "ok"
	if !ok {
		outcome = "failed"
	}
	m.snapshots.WithLabelValues(peerLabel(peer), direction, outcome).Inc()
}
