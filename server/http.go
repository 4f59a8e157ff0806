package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Status is what GET /status returns (the CLI contract names the first
// six fields).
type Status struct {
	NodeID       uint64   `json:"node_id"`
	Role         string   `json:"role"`
	Term         uint64   `json:"term"`
	LeaderID     uint64   `json:"leader_id"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	LastIndex    uint64   `json:"last_index"`
	FirstIndex   uint64   `json:"first_index"`
	Voters       []uint64 `json:"voters"`
	Ready        bool     `json:"ready"`
	Halted       string   `json:"halted,omitempty"`
	PGAddr       string   `json:"pg_addr"`
	RaftAddr     string   `json:"raft_addr"`
	ClusterID    uint64   `json:"cluster_id"`
}

// Status returns the node's current status.
func (s *Server) Status() Status {
	st := s.node.Status()
	out := Status{NodeID: st.NodeID, Role: st.Role, Term: st.Term, LeaderID: st.LeaderID, CommitIndex: st.CommitIndex,
		AppliedIndex: st.AppliedIndex, LastIndex: st.LastIndex, FirstIndex: st.FirstIndex, Voters: st.Voters,
		Halted: st.Halted, PGAddr: s.PGAddr(), RaftAddr: s.RaftAddr(), ClusterID: s.clusterID}
	if err := s.Halted(); err != nil {
		out.Halted = err.Error()
	}
	out.Ready = s.ready(out) == nil
	return out
}

// ready explains why the node cannot serve yet, or returns nil.
func (s *Server) ready(st Status) error {
	switch {
	case st.Halted != "":
		return fmt.Errorf("halted: %s", st.Halted)
	case st.LeaderID == 0:
		return errors.New("no leader known")
	case st.AppliedIndex < st.CommitIndex:
		return fmt.Errorf("applying: %d of %d", st.AppliedIndex, st.CommitIndex)
	}
	if _, ok := s.engine.Catalog().Namespace("chr2"); !ok {
		return errors.New("chr2 schema not yet created")
	}
	return nil
}

func (s *Server) startHTTP() error {
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.registerNodeMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Halted(); err != nil {
			http.Error(w, "halted: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ready(s.Status()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Status())
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.registerMembers(mux)
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listener %s: %w", s.cfg.HTTPAddr, err)
	}
	s.httpLn = ln
	s.httpSrv = &http.Server{Handler: mux}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http listener stopped", zap.Error(err))
		}
	}()
	return nil
}
