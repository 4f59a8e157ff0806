package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerNodeMetrics exposes the raft node and its log on /metrics. The
// values are read from the node when scraped, so nothing is updated on the
// hot path.
func (s *Server) registerNodeMetrics() {
	status := func(f func(st Status) float64) func() float64 {
		return func() float64 { return f(s.Status()) }
	}
	gauges := []struct {
		name, help string
		fn         func() float64
	}{
		{"chr2_raft_term", "Current raft term (the fencing token of the leader).", status(func(st Status) float64 { return float64(st.Term) })},
		{"chr2_raft_is_leader", "1 when this node is the leader.", status(func(st Status) float64 {
			if st.Role == "leader" {
				return 1
			}
			return 0
		})},
		{"chr2_raft_commit_index", "Highest log index known committed.", status(func(st Status) float64 { return float64(st.CommitIndex) })},
		{"chr2_raft_applied_index", "Highest log index applied to the state database.", status(func(st Status) float64 { return float64(st.AppliedIndex) })},
		{"chr2_apply_lag_entries", "Committed entries not yet applied.", status(func(st Status) float64 {
			if st.CommitIndex < st.AppliedIndex {
				return 0
			}
			return float64(st.CommitIndex - st.AppliedIndex)
		})},
		{"chr2_raft_voters", "Number of voters in the configuration.", status(func(st Status) float64 { return float64(len(st.Voters)) })},
	}
	for _, g := range gauges {
		s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help}, g.fn))
	}
	counters := []struct {
		name, help string
		fn         func() float64
	}{
		{"chr2_raft_leader_changes_total", "Leader changes this node observed.", func() float64 { return float64(s.node.LeaderChanges()) }},
		{"chr2_wal_fsyncs_total", "fsyncs of WAL segments (group commit rounds).", func() float64 { return float64(s.node.WALStats().FsyncRounds) }},
		{"chr2_wal_records_total", "Records written to the WAL.", func() float64 { return float64(s.node.WALStats().Records) }},
		{"chr2_wal_bytes_total", "Bytes written to the WAL.", func() float64 { return float64(s.node.WALStats().Bytes) }},
	}
	for _, c := range counters {
		s.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, c.fn))
	}
}
