package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"
)

// A node removed from the cluster usually never hears that its removal
// committed: the leader applies the change and stops talking to it before
// it sends the commit index that covers it. Left alone, the node would stay
// up without a leader, refusing every statement. So a node that has had no
// leader for a while asks its peers (GET /status) whether the cluster still
// counts it, and stops itself when a leader says it does not.
//
// The decision (removedByLeader) is a pure function of this node's and
// one peer's status; probeRemoval does the I/O.

// leaderlessProbes is how many consecutive probe intervals without a leader
// start asking peers; an election normally ends well within one.
const leaderlessProbes = 3

// removedByLeader reports whether peer's status proves this node's removal
// committed:
//
//  1. peer leads the same cluster, in our term or a later one;
//  2. peer has applied at least as much of the log as we have — its
//     configuration is at least as new as ours;
//  3. our configuration counts us as a voter, and peer's does not.
//
// Configurations change only through committed log entries, so 2 and 3
// together mean a removal of this node committed after what we applied. A
// node still joining (not yet in its own configuration) is never removed.
func removedByLeader(self Status, peer Status) bool {
	if peer.ClusterID != self.ClusterID || peer.Role != "leader" || peer.Term < self.Term {
		return false
	}
	if peer.AppliedIndex < self.AppliedIndex || len(peer.Voters) == 0 {
		return false
	}
	return slices.Contains(self.Voters, self.NodeID) && !slices.Contains(peer.Voters, self.NodeID)
}

// watchRemoval probes every interval until the server stops.
func (s *Server) watchRemoval(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	leaderless := 0
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		self := s.Status()
		if self.LeaderID != 0 {
			leaderless = 0
			continue
		}
		if leaderless++; leaderless < leaderlessProbes {
			continue
		}
		if by, ok := s.probeRemoval(self, interval); ok {
			s.log.Warn("this node was removed from the cluster; stopping",
				zap.Uint64("node_id", self.NodeID), zap.Uint64("leader_id", by.NodeID), zap.Uint64("leader_term", by.Term),
				zap.Uint64s("voters", by.Voters))
			s.removed.Store(true)
			s.Stop()
			return
		}
	}
}

// probeRemoval asks every peer this node knows for its status.
func (s *Server) probeRemoval(self Status, timeout time.Duration) (Status, bool) {
	for _, id := range self.Voters {
		if id == self.NodeID {
			continue
		}
		addr := s.trans.PeerMeta(id)["http-addr"]
		if addr == "" {
			continue
		}
		peer, err := fetchStatus(addr, timeout)
		if err != nil {
			s.log.Debug("removal probe", zap.Uint64("peer", id), zap.Error(err))
			continue
		}
		if removedByLeader(self, peer) {
			return peer, true
		}
	}
	return Status{}, false
}

func fetchStatus(addr string, timeout time.Duration) (Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("GET /status: %s", resp.Status)
	}
	var st Status
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st)
	return st, err
}
