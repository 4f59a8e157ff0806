package sqlengine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
)

// asyncRun runs sql in a goroutine and delivers its results.
func asyncRun(t *testing.T, c *testCluster, sql string) <-chan []result {
	s := newSession(t, c.leader)
	ch := make(chan []result, 1)
	go func() { ch <- run(t, s, sql) }()
	return ch
}

func firstErr(rs []result) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// waitHeld waits until n proposals are parked in the log.
func waitHeld(t *testing.T, l *memLog, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.heldCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d proposals reached the log", l.heldCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDroppedProposalFailsDefinitelyAndChangesNothing(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY)`)
	c.log.with(func(l *memLog) { l.dropNext = true })
	if code := fails(t, s, `INSERT INTO t VALUES (1)`); code != pgerr.SerializationFailure {
		t.Fatalf("dropped proposal: SQLSTATE %s, want 40001", code)
	}
	must(t, s, `INSERT INTO t VALUES (2)`)
	if r := must(t, s, `SELECT id FROM t`); rowsText(r.rows) != "2" {
		t.Fatalf("rows %v", r.rows)
	}
	c.waitConverged(t)
}

// A deposed leader's entry that never reached the log fails with 40001 when
// the new leader's entry takes its place; state converges.
func TestForeignEntryAbortsEpoch(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, v text)`)
	c.log.with(func(l *memLog) { l.hold = true })
	pendingWrite := asyncRun(t, c, `INSERT INTO t VALUES (1, 'old leader')`)
	waitHeld(t, c.log, 1)

	// Leadership moves to the follower in term 2; the held entry is lost.
	c.leader.SetLeadership(false, 2, 0)
	c.log.with(func(l *memLog) { l.hold, l.held, l.term = false, nil, 2 })
	ready := c.log.appendEmpty()
	c.follower.SetLeadership(true, 2, ready)
	s2 := newSession(t, c.follower)
	must(t, s2, `INSERT INTO t VALUES (1, 'new leader')`)

	select {
	case rs := <-pendingWrite:
		if code := pgerr.CodeOf(firstErr(rs)); code != pgerr.SerializationFailure {
			t.Fatalf("lost write: SQLSTATE %s (%v), want 40001", code, firstErr(rs))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lost write never answered")
	}
	c.leader, c.follower = c.follower, c.leader
	c.waitConverged(t)
	if r := must(t, s2, `SELECT v FROM t`); rowsText(r.rows) != "new leader" {
		t.Fatalf("rows %v", r.rows)
	}
}

// Entries the log committed before a foreign entry arrived survive the
// epoch's abort; the later one fails.
func TestAbortKeepsCommittedPrefix(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY)`)
	c.log.with(func(l *memLog) { l.hold = true })
	// Two transactions in one epoch: the first is held open until the second
	// has executed, so both sit in the same SQLite transaction.
	s1 := newSession(t, c.leader)
	must(t, s1, `BEGIN`)
	must(t, s1, `INSERT INTO t VALUES (1)`)
	first := make(chan error, 1)
	go func() { first <- firstErr(run(t, s1, `COMMIT`)) }()
	second := asyncRun(t, c, `INSERT INTO t VALUES (2)`)
	waitHeld(t, c.log, 2)

	c.log.release(1) // only the first reaches the log
	c.leader.SetLeadership(false, 2, 0)
	c.log.with(func(l *memLog) { l.hold, l.held, l.term = false, nil, 2 })
	ready := c.log.appendEmpty()
	c.follower.SetLeadership(true, 2, ready)
	s2 := newSession(t, c.follower)
	must(t, s2, `INSERT INTO t VALUES (3)`)

	if code := pgerr.CodeOf(firstErr(<-second)); code != pgerr.SerializationFailure {
		t.Fatalf("second: SQLSTATE %s, want 40001", code)
	}
	if err := <-first; err != nil {
		t.Fatalf("first committed in the log but reported %v", err)
	}
	c.leader, c.follower = c.follower, c.leader
	c.waitConverged(t)
	if r := must(t, s2, `SELECT id FROM t ORDER BY id`); rowsText(r.rows) != "1\n3" {
		t.Fatalf("rows %q", rowsText(r.rows))
	}
}

// A leader that lost leadership after proposing learns the outcome from the
// log: the entry committed through the new leader, so the client succeeds.
func TestDeposedLeaderEntryCommitsLater(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY)`)
	c.log.with(func(l *memLog) { l.hold = true })
	w := asyncRun(t, c, `INSERT INTO t VALUES (7)`)
	waitHeld(t, c.log, 1)
	c.leader.SetLeadership(false, 1, 0)
	c.log.with(func(l *memLog) { l.hold = false })
	c.log.release(1)
	if err := firstErr(<-w); err != nil {
		t.Fatalf("write that committed reported %v", err)
	}
	c.waitConverged(t)
}

// A follower whose apply produces a different result than the leader
// observed halts and names the index (G3).
func TestDigestMismatchHaltsNamingIndex(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, v text)`)
	must(t, s, `INSERT INTO t VALUES (1, 'a')`)
	c.waitConverged(t)
	// Corrupt the follower's state behind the log's back, then replicate a
	// statement whose result depends on it.
	if err := c.follower.writer.conn.execScript(context.Background(), `UPDATE "t" SET "v" = 'tampered'`); err != nil {
		t.Fatal(err)
	}
	must(t, s, `UPDATE t SET v = v || '!' RETURNING v`)
	deadline := time.Now().Add(5 * time.Second)
	for c.follower.Halted() == nil {
		if time.Now().After(deadline) {
			t.Fatal("follower did not halt on a digest mismatch")
		}
		time.Sleep(time.Millisecond)
	}
	c.log.mu.Lock()
	last := len(c.log.entries)
	c.log.mu.Unlock()
	if msg := c.follower.Halted().Error(); !strings.Contains(msg, fmt.Sprintf("divergence at index %d", last)) {
		t.Fatalf("halt error does not name index %d: %s", last, msg)
	}
}

// Block time never goes backwards, whatever a new leader's clock says (G4):
// a leader whose clock is behind the last entry's block time stamps its
// transactions after it.
func TestBlockTimeNeverGoesBackwards(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, at timestamptz)`)
	future := time.Now().Add(time.Hour).UTC()
	// An entry from a leader whose clock ran an hour ahead.
	body := encodeTxs([]txRecord{{BlockTime: future.UnixMicro(), Seed: 1, Stmts: nil}})
	c.log.mu.Lock()
	c.log.entries = append(c.log.entries, LogEntry{Index: uint64(len(c.log.entries) + 1), Term: 1,
		Data: entry.Encode(entry.Header{Kind: entry.KindTxn, BlockTime: future.UnixMicro(), ProposerID: 9, ProposalSeq: 1, Term: 1}, body)})
	c.log.mu.Unlock()
	c.log.kick()
	c.waitConverged(t)
	c.leader.SetLeadership(false, 2, 0)
	c.log.with(func(l *memLog) { l.term = 2 })
	c.follower.SetLeadership(true, 2, c.log.appendEmpty())
	s2 := newSession(t, c.follower)
	must(t, s2, `INSERT INTO t VALUES (1, now())`)
	r := must(t, s2, `SELECT at > $1 FROM t`, future)
	if rowsText(r.rows) != "t" {
		t.Fatalf("new leader stamped %v, not after the previous block time %v", r.rows, future)
	}
	c.leader, c.follower = c.follower, c.leader
	c.waitConverged(t)
}

// A transaction whose entry would exceed the limit is refused with 54000
// and changes nothing.
func TestOversizedTransactionRefused(t *testing.T) {
	c := newTestCluster(t)
	c.leader.writer.cfg.MaxEntryBytes = 4096
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY, v text)`)
	big := strings.Repeat("x", 8192)
	if code := fails(t, s, `INSERT INTO t VALUES (1, $1)`, big); code != pgerr.ProgramLimitExceeded {
		t.Fatalf("oversized entry: SQLSTATE %s", code)
	}
	if r := must(t, s, `SELECT count(*) FROM t`); rowsText(r.rows) != "0" {
		t.Fatalf("refused transaction left rows: %v", r.rows)
	}
	must(t, s, `INSERT INTO t VALUES (2, 'small')`)
	c.waitConverged(t)
}

// A reader never waits behind an idle client's open transaction: the
// transaction is rebased into a new epoch so the committed writes before it
// become visible, and it then commits normally with the same results.
func TestReaderDoesNotWaitBehindIdleTransaction(t *testing.T) {
	c := newTestCluster(t)
	a := newSession(t, c.leader)
	must(t, a, `CREATE TABLE t (id int PRIMARY KEY, v text)`)
	must(t, a, `INSERT INTO t VALUES (1, 'committed before')`)
	b := newSession(t, c.leader)
	must(t, b, `BEGIN`)
	must(t, b, `INSERT INTO t VALUES (2, 'open')`)
	must(t, b, `UPDATE t SET v = v || ' and touched' WHERE id = 1 RETURNING v`)

	reader := newSession(t, c.leader)
	start := time.Now()
	r := must(t, reader, `SELECT v FROM t ORDER BY id`)
	if rowsText(r.rows) != "committed before" {
		t.Fatalf("reader saw %q", rowsText(r.rows))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("reader waited %v behind an open transaction", took)
	}
	must(t, b, `INSERT INTO t VALUES (3, 'after rebase')`)
	must(t, b, `COMMIT`)
	r = must(t, reader, `SELECT v FROM t ORDER BY id`)
	if got := rowsText(r.rows); got != "committed before and touched\nopen\nafter rebase" {
		t.Fatalf("after commit: %q", got)
	}
	c.waitConverged(t)
}

// A transaction rebased into a new epoch keeps its DDL to itself: rolled
// back, the table it created is gone for everyone, in that epoch too.
func TestRebasedTransactionRollbackForgetsItsSchema(t *testing.T) {
	c := newTestCluster(t)
	a := newSession(t, c.leader)
	must(t, a, `CREATE TABLE t (id int PRIMARY KEY)`)
	must(t, a, `INSERT INTO t VALUES (1)`)
	b := newSession(t, c.leader)
	must(t, b, `BEGIN`)
	must(t, b, `CREATE TABLE ghost (id serial PRIMARY KEY, v text)`)
	must(t, b, `INSERT INTO ghost (v) VALUES ('x')`)
	must(t, b, `INSERT INTO t VALUES (2)`)
	reader := newSession(t, c.leader)
	if r := must(t, reader, `SELECT count(*) FROM t`); rowsText(r.rows) != "1" {
		t.Fatalf("reader saw %q", rowsText(r.rows))
	}
	must(t, b, `ROLLBACK`)
	for _, s := range []pgwire.Session{a, b, reader} {
		if code := fails(t, s, `SELECT * FROM ghost`); code != pgerr.UndefinedTable {
			t.Fatalf("rolled-back table: SQLSTATE %s, want 42P01", code)
		}
	}
	must(t, a, `CREATE TABLE ghost (id int PRIMARY KEY)`)
	must(t, a, `INSERT INTO ghost VALUES (7)`)
	if r := must(t, reader, `SELECT * FROM ghost`); rowsText(r.rows) != "7" {
		t.Fatalf("new ghost: %q", rowsText(r.rows))
	}
	c.waitConverged(t)
}

// When consensus refuses a proposal, the epoch's earlier entries are
// already in the log and may still commit: their clients must hear 08007
// (outcome unknown), never 40001 ("did not commit") — the fault test's
// history once showed such a write take effect after its 40001.
func TestRefusedProposalLeavesEarlierEntriesAmbiguous(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY)`)
	c.log.with(func(l *memLog) { l.hold = true })
	appended := asyncRun(t, c, `INSERT INTO t VALUES (1)`)
	waitHeld(t, c.log, 1)
	c.log.with(func(l *memLog) { l.dropNext = true })
	if code := fails(t, newSession(t, c.leader), `INSERT INTO t VALUES (2)`); code != pgerr.SerializationFailure {
		t.Fatalf("refused proposal: SQLSTATE %s, want 40001", code)
	}
	select {
	case rs := <-appended:
		if code := pgerr.CodeOf(firstErr(rs)); code != pgerr.TransactionResolutionUnknown {
			t.Fatalf("appended entry of the aborted epoch: SQLSTATE %s (%v), want 08007", code, firstErr(rs))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("appended write never answered")
	}
	// It does commit: the 08007 was the truth, a 40001 would have lied.
	c.log.with(func(l *memLog) { l.hold = false })
	c.log.release(1)
	c.waitConverged(t)
	if r := must(t, s, `SELECT id FROM t`); rowsText(r.rows) != "1" {
		t.Fatalf("rows %q, want the appended write", rowsText(r.rows))
	}
}

// localLeaderForwarder answers like the server's forwarder in the moment
// after consensus elected this node but before the engine heard of it.
type localLeaderForwarder struct{ onOpen func() }

func (f localLeaderForwarder) Open(context.Context, ForwardInfo) (Upstream, error) {
	go f.onOpen()
	return nil, ErrLeaderIsLocal
}

// A write that reaches a node just elected leader runs there once the
// engine learns of its leadership, instead of failing with 57P03.
func TestWriteWaitsForJustElectedLeader(t *testing.T) {
	c := newTestCluster(t)
	s := newSession(t, c.leader)
	must(t, s, `CREATE TABLE t (id int PRIMARY KEY)`)
	c.waitConverged(t)
	c.leader.SetLeadership(false, 2, 0)
	c.log.with(func(l *memLog) { l.term = 2 })
	c.follower.SetForwarder(localLeaderForwarder{onOpen: func() {
		ready := c.log.appendEmpty()
		c.follower.SetLeadership(true, 2, ready)
	}})
	must(t, newSession(t, c.follower), `INSERT INTO t VALUES (1)`)
	c.leader, c.follower = c.follower, c.leader
	c.waitConverged(t)
}
