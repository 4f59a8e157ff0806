package fence

import "fmt"

// CheckTransition reports ErrRegression when going from old to next would
// move a fact backwards: a lower term, a different vote within the same term
// once one was cast, or a changed non-zero NodeID or ClusterID. The commit
// index is a lazily kept hint and is not checked: it may lag or be lowered
// (for example clamped to the durable log end after a restart). Pure.
func CheckTransition(old, next State) error {
	switch {
	case old.NodeID != 0 && next.NodeID != old.NodeID:
		return fmt.Errorf("%w: node id %d changed to %d", ErrRegression, old.NodeID, next.NodeID)
	case old.ClusterID != 0 && next.ClusterID != old.ClusterID:
		return fmt.Errorf("%w: cluster id %d changed to %d", ErrRegression, old.ClusterID, next.ClusterID)
	case next.Term < old.Term:
		return fmt.Errorf("%w: term %d below the durable term %d", ErrRegression, next.Term, old.Term)
	case next.Term == old.Term && old.Vote != 0 && next.Vote != old.Vote:
		return fmt.Errorf("%w: vote in term %d changed from %d to %d", ErrRegression, old.Term, old.Vote, next.Vote)
	}
	return nil
}

// NeedsSave reports whether next must be made durable before acting on it:
// true when the term, the vote or an id changed. A commit-only change does
// not need a save (the commit index is re-learned after a restart).
func NeedsSave(old, next State) bool {
	return old.Term != next.Term || old.Vote != next.Vote ||
		old.NodeID != next.NodeID || old.ClusterID != next.ClusterID
}

// CheckTerm fences zombie messages: ErrStaleTerm when msgTerm is below the
// node's durable term. Pure.
func CheckTerm(s State, msgTerm uint64) error {
	if msgTerm < s.Term {
		return fmt.Errorf("%w: message term %d below current term %d", ErrStaleTerm, msgTerm, s.Term)
	}
	return nil
}
