package sqlengine

import (
	"context"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

func TestAdvisoryLocksBetweenSessions(t *testing.T) {
	c := newTestCluster(t)
	a, b := newSession(t, c.leader), newSession(t, c.leader)
	if r := must(t, a, `SELECT pg_advisory_lock(42)`); r.tag != "SELECT 1" || rowsText(r.rows) != "" {
		t.Fatalf("lock: %+v", r)
	}
	if r := must(t, b, `SELECT pg_try_advisory_lock(42)`); rowsText(r.rows) != "f" {
		t.Fatalf("try while held elsewhere: %v", r.rows)
	}
	// Re-entrant for the holder; the two-key space is separate.
	must(t, a, `SELECT pg_advisory_lock(42)`)
	if r := must(t, b, `SELECT pg_try_advisory_lock(0, 42)`); rowsText(r.rows) != "t" {
		t.Fatalf("two-key space: %v", r.rows)
	}
	// b blocks on 42 until a has released both holds.
	got := make(chan result, 1)
	go func() { got <- run(t, b, `SELECT pg_advisory_lock(42)`)[0] }()
	must(t, a, `SELECT pg_advisory_unlock(42)`)
	select {
	case r := <-got:
		t.Fatalf("lock granted while still held once: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	if r := must(t, a, `SELECT pg_advisory_unlock(42)`); rowsText(r.rows) != "t" {
		t.Fatalf("unlock: %v", r.rows)
	}
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("blocked lock: %v", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting lock not granted after release")
	}
	// Unlocking what one does not hold is false, with a warning.
	if r := must(t, a, `SELECT pg_advisory_unlock(42)`); rowsText(r.rows) != "f" {
		t.Fatalf("unlock not held: %v", r.rows)
	}
	// A session's locks end with it.
	b.Close()
	if r := must(t, a, `SELECT pg_try_advisory_lock(42)`); rowsText(r.rows) != "t" {
		t.Fatalf("lock of a closed session still held: %v", r.rows)
	}
}

func TestAdvisoryLockWaitEndsWithTimeoutAndTransactionLocks(t *testing.T) {
	c := newTestCluster(t)
	a, b := newSession(t, c.leader), newSession(t, c.leader)
	must(t, a, `SELECT pg_advisory_lock($1)`, int64(7))
	must(t, b, `SET lock_timeout = '100ms'`)
	start := time.Now()
	if code := fails(t, b, `SELECT pg_advisory_lock(7)`); code != pgerr.LockNotAvailable {
		t.Fatalf("lock_timeout: %s", code)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("lock_timeout took %v", time.Since(start))
	}
	must(t, a, `SELECT pg_advisory_unlock_all()`)
	// A transaction-scoped lock is released at COMMIT.
	must(t, a, `BEGIN; SELECT pg_advisory_xact_lock(9)`)
	if r := must(t, b, `SELECT pg_try_advisory_xact_lock(9)`); rowsText(r.rows) != "f" {
		t.Fatalf("xact lock visible to others: %v", r.rows)
	}
	must(t, a, `COMMIT`)
	if r := must(t, b, `SELECT pg_try_advisory_lock(9)`); rowsText(r.rows) != "t" {
		t.Fatalf("xact lock survived COMMIT: %v", r.rows)
	}
	// Advisory functions inside a larger query would run on a read
	// connection: refused.
	if code := fails(t, a, `SELECT 1 WHERE pg_try_advisory_lock(3)`); code != pgerr.FeatureNotSupported {
		t.Fatalf("advisory lock in WHERE: %s", code)
	}
}

// TestAdvisoryLocksLostOnLeaderChange: when the node stops leading, its
// lock table is emptied and holders are told on their next statement.
func TestAdvisoryLocksLostOnLeaderChange(t *testing.T) {
	c := newTestCluster(t)
	a := newSession(t, c.leader)
	must(t, a, `SELECT pg_advisory_lock(1)`)
	c.leader.SetLeadership(false, 1, 0)
	c.leader.SetLeadership(true, 2, c.log.appendEmpty())
	if code := fails(t, a, `SELECT 1`); code != pgerr.AdminShutdown {
		t.Fatalf("statement after losing the lock: %s", code)
	}
	if code := fails(t, a, `SELECT 2`); code != pgerr.AdminShutdown {
		t.Fatalf("the loss is reported until acknowledged: %s", code)
	}
	must(t, a, `SELECT pg_advisory_unlock_all()`)
	must(t, a, `SELECT 3`)
	b := newSession(t, c.leader)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		rs := run(t, b, `SELECT pg_try_advisory_lock(1)`)
		if rs[0].err == nil && rowsText(rs[0].rows) == "t" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("lock not free after the leader change: %+v", rs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
