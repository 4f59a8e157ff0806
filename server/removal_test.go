package server

import "testing"

func TestRemovedByLeaderDecisionTable(t *testing.T) {
	self := Status{NodeID: 2, Role: "follower", Term: 5, AppliedIndex: 100, Voters: []uint64{1, 2, 3}, ClusterID: 9}
	leader := Status{NodeID: 1, Role: "leader", Term: 5, AppliedIndex: 120, Voters: []uint64{1, 3, 4}, ClusterID: 9}
	cases := []struct {
		name   string
		self   func(*Status)
		peer   func(*Status)
		remove bool
	}{
		{"leader of our term, newer config without us", nil, nil, true},
		{"leader of a later term", nil, func(p *Status) { p.Term = 7 }, true},
		{"leader counts us", nil, func(p *Status) { p.Voters = []uint64{1, 2, 3} }, false},
		{"peer is a follower", nil, func(p *Status) { p.Role = "follower" }, false},
		{"peer leads an older term", nil, func(p *Status) { p.Term = 4 }, false},
		{"peer applied less than we did", nil, func(p *Status) { p.AppliedIndex = 99 }, false},
		{"peer of another cluster", nil, func(p *Status) { p.ClusterID = 8 }, false},
		{"peer reports no voters", nil, func(p *Status) { p.Voters = nil }, false},
		{"we are still joining", func(s *Status) { s.Voters = []uint64{1, 3} }, nil, false},
		{"equal applied index", nil, func(p *Status) { p.AppliedIndex = 100 }, true},
	}
	for _, c := range cases {
		s, p := self, leader
		s.Voters, p.Voters = append([]uint64(nil), self.Voters...), append([]uint64(nil), leader.Voters...)
		if c.self != nil {
			c.self(&s)
		}
		if c.peer != nil {
			c.peer(&p)
		}
		if got := removedByLeader(s, p); got != c.remove {
			t.Errorf("%s: removedByLeader = %v, want %v", c.name, got, c.remove)
		}
	}
}
