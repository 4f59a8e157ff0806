package sqlengine

import (
	"context"
	"sync"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Advisory locks (pg_advisory_lock and its family) are cluster-wide: they
// live in the memory of the leader, and only the leader grants them. A
// session on a follower takes them through its forwarding connection to the
// leader, so the lock belongs to that connection's session there and is
// released when the follower's session ends (its forwarding connection
// closes).
//
// Locks are not replicated. The table belongs to one leader term:
//
//  1. A lock is granted only after a ReadIndex barrier confirms this node
//     still leads in the term of the table.
//  2. When the node stops leading, or leads again in a later term, the
//     table is emptied; another session may then take the same key on the
//     new leader.
//  3. A session that held a lock in the emptied table is told: each of its
//     later statements fails with 57P01 until it runs
//     pg_advisory_unlock_all() or DISCARD ALL (or reconnects), so a
//     migration tool never continues believing it still holds the lock.
//
// There is no deadlock detection; lock_timeout and statement_timeout bound
// the wait.

// advisoryKey is a lock key: one bigint, or two integers (a separate key
// space, as in PostgreSQL).
type advisoryKey struct {
	two bool
	k   int64
}

type advisoryLock struct {
	excl    *session
	exclN   int
	shared  map[*session]int
	changed chan struct{} // closed and replaced whenever a holder leaves
}

func (l *advisoryLock) idle() bool { return l.excl == nil && len(l.shared) == 0 }

// grantable reports whether s may take the lock: other sessions' locks
// conflict, its own do not.
func (l *advisoryLock) grantable(s *session, shared bool) bool {
	if l.excl != nil && l.excl != s {
		return false
	}
	if shared {
		return true
	}
	for holder := range l.shared {
		if holder != s {
			return false
		}
	}
	return true
}

// advisoryLocks is the leader's lock table.
type advisoryLocks struct {
	mu      sync.Mutex
	term    uint64 // the term the table belongs to; 0 when not leading
	locks   map[advisoryKey]*advisoryLock
	holders map[*session]bool
}

func newAdvisoryLocks() *advisoryLocks {
	return &advisoryLocks{locks: map[advisoryKey]*advisoryLock{}, holders: map[*session]bool{}}
}

// setLeadership empties the table unless this node keeps leading in the
// same term.
func (a *advisoryLocks) setLeadership(leader bool, term uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if leader && term == a.term {
		return
	}
	for s := range a.holders {
		s.advisoryLost.Store(true)
	}
	for _, l := range a.locks {
		close(l.changed)
	}
	a.locks = map[advisoryKey]*advisoryLock{}
	a.holders = map[*session]bool{}
	a.term = 0
	if leader {
		a.term = term
	}
}

// acquire takes the lock for s, waiting unless try. It reports whether the
// lock was granted.
func (a *advisoryLocks) acquire(ctx context.Context, s *session, term uint64, key advisoryKey, shared, try bool) (bool, error) {
	for {
		a.mu.Lock()
		if a.term == 0 || a.term != term {
			a.mu.Unlock()
			return false, ErrNotLeader
		}
		l := a.locks[key]
		if l == nil {
			l = &advisoryLock{shared: map[*session]int{}, changed: make(chan struct{})}
			a.locks[key] = l
		}
		if l.grantable(s, shared) {
			if shared {
				l.shared[s]++
			} else {
				l.excl = s
				l.exclN++
			}
			a.holders[s] = true
			a.mu.Unlock()
			return true, nil
		}
		ch := l.changed
		a.mu.Unlock()
		if try {
			return false, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// release gives up one hold of the lock; false when s did not hold it.
func (a *advisoryLocks) release(s *session, key advisoryKey, shared bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.locks[key]
	if l == nil {
		return false
	}
	switch {
	case shared && l.shared[s] > 0:
		if l.shared[s]--; l.shared[s] == 0 {
			delete(l.shared, s)
		}
	case !shared && l.excl == s:
		if l.exclN--; l.exclN == 0 {
			l.excl = nil
		}
	default:
		return false
	}
	a.wakeLocked(key, l)
	return true
}

func (a *advisoryLocks) wakeLocked(key advisoryKey, l *advisoryLock) {
	close(l.changed)
	l.changed = make(chan struct{})
	if l.idle() {
		delete(a.locks, key)
	}
}

// releaseAll drops every lock s holds.
func (a *advisoryLocks) releaseAll(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.holders[s] {
		return
	}
	for key, l := range a.locks {
		touched := false
		if l.excl == s {
			l.excl, l.exclN, touched = nil, 0, true
		}
		if l.shared[s] > 0 {
			delete(l.shared, s)
			touched = true
		}
		if touched {
			a.wakeLocked(key, l)
		}
	}
	delete(a.holders, s)
}

// xactLock is an advisory lock released at the end of its transaction.
type xactLock struct {
	key    advisoryKey
	shared bool
}

// advisory runs SELECT pg_advisory_…(key) on the leader.
func (s *session) advisory(ctx context.Context, st *statement, plan *translate.Plan, params []any, emit func([]any) error,
	w pgwire.ResultWriter) (string, error) {
	if s.forwarding() {
		return s.forward(ctx, st, params, emit, w)
	}
	leader, term := s.e.Leadership()
	if !leader {
		if s.e.getForwarder() == nil {
			return "", clientError(ErrNotLeader)
		}
		if err := s.startForwarding(ctx); err != nil {
			return "", clientError(err)
		}
		tag, err := s.forward(ctx, st, params, emit, w)
		if !s.inBlock() {
			s.upActive = false // the upstream stays open: it holds the lock
		}
		return tag, err
	}
	op := plan.Advisory
	if op.All {
		s.releaseAdvisory(false)
		s.advisoryLost.Store(false)
		return "SELECT 1", emit([]any{""})
	}
	key, null, err := advisoryKeyOf(op, params)
	if err != nil || null {
		if err == nil {
			err = emit([]any{nil})
		}
		return "SELECT 1", err
	}
	if op.Unlock {
		ok := s.e.advisory.release(s, key, op.Shared)
		if !ok {
			mode := "ExclusiveLock"
			if op.Shared {
				mode = "ShareLock"
			}
			w.Notice(warning(pgerr.Warning, "you don't own a lock of type "+mode))
		}
		return "SELECT 1", emit([]any{ok})
	}
	got, err := s.lockAdvisory(ctx, term, key, op)
	if err != nil {
		return "", err
	}
	if op.Try {
		return "SELECT 1", emit([]any{got})
	}
	return "SELECT 1", emit([]any{""})
}

func (s *session) lockAdvisory(ctx context.Context, term uint64, key advisoryKey, op *translate.AdvisoryOp) (bool, error) {
	if err := s.e.readBarrier(ctx); err != nil {
		return false, err
	}
	waitCtx := ctx
	if d := s.settings.millis("lock_timeout"); d > 0 && !op.Try {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	got, err := s.e.advisory.acquire(waitCtx, s, term, key, op.Shared, op.Try)
	if err != nil {
		if ctx.Err() == nil && waitCtx.Err() != nil {
			return false, pgerr.New(pgerr.LockNotAvailable, "canceling statement due to lock timeout")
		}
		return false, mapError(clientError(err), nil)
	}
	if got && op.Xact {
		if s.inBlock() {
			s.xactLocks = append(s.xactLocks, xactLock{key: key, shared: op.Shared})
		} else {
			// An implicit transaction ends with the statement.
			s.e.advisory.release(s, key, op.Shared)
		}
	}
	return got, nil
}

// advisoryKeyOf evaluates the key arguments; null reports a NULL key (the
// functions are strict).
func advisoryKeyOf(op *translate.AdvisoryOp, params []any) (advisoryKey, bool, error) {
	vals := make([]int64, len(op.Args))
	for i, a := range op.Args {
		if a.Null {
			return advisoryKey{}, true, nil
		}
		if a.Param == 0 {
			vals[i] = a.Const
			continue
		}
		v := params[a.Param-1]
		if v == nil {
			return advisoryKey{}, true, nil
		}
		sv, err := sqltype.ToStorage(pgval.Int8OID, v)
		if err != nil {
			return advisoryKey{}, false, err
		}
		vals[i] = sv.(int64)
	}
	if len(vals) == 2 {
		return advisoryKey{two: true, k: vals[0]<<32 | int64(uint32(vals[1]))}, false, nil
	}
	return advisoryKey{k: vals[0]}, false, nil
}

// releaseAdvisory drops the session's transaction-scoped locks, or all of
// them (session end, DISCARD ALL).
func (s *session) releaseAdvisory(xactOnly bool) {
	for _, l := range s.xactLocks {
		s.e.advisory.release(s, l.key, l.shared)
	}
	s.xactLocks = nil
	if !xactOnly {
		s.e.advisory.releaseAll(s)
	}
}

// advisoryLostError is what a session that lost its advisory locks in a
// leadership change gets for every statement until it acknowledges.
func advisoryLostError() *pgerr.Error {
	return pgerr.New(pgerr.AdminShutdown,
		"this session's advisory locks were released when the leader changed").
		WithHint("Reconnect, or run SELECT pg_advisory_unlock_all() or DISCARD ALL, and take the locks again.")
}
