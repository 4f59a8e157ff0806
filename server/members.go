package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// memberRequest is the body of POST /members.
type memberRequest struct {
	NodeID   uint64 `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
}

// Membership endpoints (the `chr2sql member` commands call them):
//
//	GET    /members       the voters
//	POST   /members       {"node_id": 4, "raft_addr": "host:port"} adds a voter
//	DELETE /members/{id}  removes a voter
//
// A follower relays a change to the leader's HTTP address.
func (s *Server) registerMembers(mux *http.ServeMux) {
	mux.HandleFunc("GET /members", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"voters": s.node.Status().Voters, "leader_id": s.node.Status().LeaderID})
	})
	mux.HandleFunc("POST /members", func(w http.ResponseWriter, r *http.Request) {
		var req memberRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.NodeID == 0 || req.RaftAddr == "" {
			http.Error(w, `want {"node_id": N, "raft_addr": "host:port"}`, http.StatusBadRequest)
			return
		}
		body, _ := json.Marshal(req)
		s.changeMember(w, r, req.NodeID, req.RaftAddr, body)
	})
	mux.HandleFunc("DELETE /members/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil || id == 0 {
			http.Error(w, "bad node id", http.StatusBadRequest)
			return
		}
		s.changeMember(w, r, id, "", nil)
	})
}

func (s *Server) changeMember(w http.ResponseWriter, r *http.Request, id uint64, addr string, body []byte) {
	st := s.node.Status()
	if st.Role != "leader" {
		s.relayToLeader(w, r, st.LeaderID, body)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := s.node.ChangeMembership(ctx, id, addr); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"voters": s.node.Status().Voters})
}

// relayToLeader repeats a membership request on the leader.
func (s *Server) relayToLeader(w http.ResponseWriter, r *http.Request, leader uint64, body []byte) {
	addr := ""
	if leader != 0 {
		addr = s.trans.PeerMeta(leader)["http-addr"]
	}
	if addr == "" {
		http.Error(w, "no leader known", http.StatusServiceUnavailable)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+addr+r.URL.Path, bytesReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, fmt.Sprintf("leader %d unreachable: %v", leader, err), http.StatusServiceUnavailable)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
