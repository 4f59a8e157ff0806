package sqlengine

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
)

// memLog is a TEST-ONLY stand-in for the replicated log, below the
// Consensus seam: a proposal is appended and, from a separate goroutine
// (like replication's apply loop), applied to every attached engine in
// order. It models a single voter, so ReadIndex is the last index.
type memLog struct {
	mu       sync.Mutex
	entries  []LogEntry
	term     uint64
	engines  []*Engine
	applyCh  chan struct{}
	applied  int
	stopped  chan struct{}
	dropNext bool
	errs     []error
	// hold parks proposals in held instead of appending them, to model a
	// leader whose entries have not (yet) reached the log.
	hold bool
	held [][]byte
}

// with changes the log's fault settings under its lock.
func (l *memLog) with(f func(*memLog)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// release appends the first n held proposals.
func (l *memLog) release(n int) {
	l.mu.Lock()
	for _, d := range l.held[:n] {
		l.entries = append(l.entries, LogEntry{Index: uint64(len(l.entries) + 1), Term: l.term, Data: d})
	}
	l.held = l.held[n:]
	l.mu.Unlock()
	l.kick()
}

// heldCount reports how many proposals are parked.
func (l *memLog) heldCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

func newMemLog(term uint64) *memLog {
	l := &memLog{term: term, applyCh: make(chan struct{}, 1), stopped: make(chan struct{})}
	go l.applyLoop()
	return l
}

func (l *memLog) ProposeBatch(_ context.Context, batch [][]byte) (int, error) {
	l.mu.Lock()
	if l.dropNext {
		l.dropNext = false
		l.mu.Unlock()
		return 0, errors.New("memlog: proposal dropped")
	}
	if l.hold {
		l.held = append(l.held, batch...)
		l.mu.Unlock()
		return len(batch), nil
	}
	for _, data := range batch {
		l.entries = append(l.entries, LogEntry{Index: uint64(len(l.entries) + 1), Term: l.term, Data: data})
	}
	l.mu.Unlock()
	l.kick()
	return len(batch), nil
}

func (l *memLog) ReadIndex(context.Context) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.entries)), nil
}

// appendEmpty appends an empty entry (a new leader's first entry).
func (l *memLog) appendEmpty() uint64 {
	l.mu.Lock()
	l.entries = append(l.entries, LogEntry{Index: uint64(len(l.entries) + 1), Term: l.term})
	idx := uint64(len(l.entries))
	l.mu.Unlock()
	l.kick()
	return idx
}

func (l *memLog) kick() {
	select {
	case l.applyCh <- struct{}{}:
	default:
	}
}

func (l *memLog) applyLoop() {
	for {
		select {
		case <-l.applyCh:
		case <-l.stopped:
			return
		}
		l.mu.Lock()
		batch := append([]LogEntry(nil), l.entries[l.applied:]...)
		engines := append([]*Engine(nil), l.engines...)
		l.applied = len(l.entries)
		l.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		for _, e := range engines {
			if err := e.Apply(batch); err != nil {
				l.mu.Lock()
				l.errs = append(l.errs, err)
				l.mu.Unlock()
			}
		}
	}
}

func (l *memLog) stop() { close(l.stopped) }

// testNode opens an engine attached to log.
func testNode(t *testing.T, log *memLog, nodeID uint64) *Engine {
	t.Helper()
	e, err := Open(Config{Dir: t.TempDir(), NodeID: nodeID, Consensus: log,
		Writer: WriterConfig{CommitTimeout: 5 * time.Second, AdmissionTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	log.mu.Lock()
	log.engines = append(log.engines, e)
	log.mu.Unlock()
	return e
}

// testCluster is a leader engine and a follower engine sharing one log.
type testCluster struct {
	log      *memLog
	leader   *Engine
	follower *Engine
}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	log := newMemLog(1)
	t.Cleanup(log.stop)
	c := &testCluster{log: log, leader: testNode(t, log, 1), follower: testNode(t, log, 2)}
	ready := log.appendEmpty()
	c.leader.SetLeadership(true, 1, ready)
	return c
}

// result is what one statement produced, values in PostgreSQL text form.
type result struct {
	tag   string
	cols  []string
	types []pgval.OID
	rows  [][]string
	err   error
}

type collector struct {
	rows    [][]string
	notices []*pgerr.Error
	cols    []pgwire.Column
}

func (c *collector) WriteRow(values []any) error {
	row := make([]string, len(values))
	for i, v := range values {
		if v == nil {
			row[i] = "NULL"
			continue
		}
		oid := pgval.TextOID
		if i < len(c.cols) {
			oid = c.cols[i].TypeOID
		}
		s, err := pgval.Format(oid, v, time.UTC)
		if err != nil {
			return err
		}
		row[i] = s
	}
	c.rows = append(c.rows, row)
	return nil
}

func (c *collector) Notice(n *pgerr.Error) { c.notices = append(c.notices, n) }
func (c *collector) CopyIn(int16, []int16) (io.Reader, error) {
	return nil, errors.New("collector: no COPY")
}
func (c *collector) CopyOut(int16, []int16) (io.WriteCloser, error) {
	return nil, errors.New("collector: no COPY")
}

// run executes sql as one simple-query message and returns the result of
// each statement (stopping at the first error, as the protocol does).
func run(t *testing.T, s pgwire.Session, sql string, params ...any) []result {
	t.Helper()
	ctx := context.Background()
	stmts, err := s.Parse(ctx, sql, nil)
	if err != nil {
		return []result{{err: err}}
	}
	var out []result
	for _, st := range stmts {
		p, err := st.Bind(ctx, params)
		if err != nil {
			out = append(out, result{err: err})
			break
		}
		c := &collector{cols: p.Columns()}
		tag, _, err := p.Execute(ctx, 0, c)
		r := result{tag: tag, rows: c.rows, err: err}
		for _, col := range c.cols {
			r.cols = append(r.cols, col.Name)
			r.types = append(r.types, col.TypeOID)
		}
		out = append(out, r)
		if err != nil {
			break
		}
	}
	if err := s.Sync(ctx); err != nil {
		out = append(out, result{err: err})
	}
	return out
}

// must runs sql and fails the test on any error; it returns the last result.
func must(t *testing.T, s pgwire.Session, sql string, params ...any) result {
	t.Helper()
	rs := run(t, s, sql, params...)
	for _, r := range rs {
		if r.err != nil {
			t.Fatalf("%s: %v", sql, r.err)
		}
	}
	return rs[len(rs)-1]
}

// fails runs sql and returns its error's SQLSTATE (failing if none).
func fails(t *testing.T, s pgwire.Session, sql string, params ...any) pgerr.Code {
	t.Helper()
	for _, r := range run(t, s, sql, params...) {
		if r.err != nil {
			return pgerr.CodeOf(r.err)
		}
	}
	t.Fatalf("%s: expected an error", sql)
	return ""
}

// testPID numbers test sessions as pgwire numbers connections: each has its
// own process id, hence its own temporary schema.
var testPID atomic.Uint32

func newSession(t *testing.T, e *Engine) pgwire.Session {
	t.Helper()
	s, err := e.NewSession(context.Background(), pgwire.SessionInfo{User: "postgres", Database: "postgres",
		ProcessID: testPID.Add(1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func rowsText(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "|")
	}
	return strings.Join(lines, "\n")
}

// waitConverged waits until the follower applied everything the log holds
// and compares a deterministic dump of both nodes' state.
func (c *testCluster) waitConverged(t *testing.T) {
	t.Helper()
	c.log.mu.Lock()
	n := uint64(len(c.log.entries))
	c.log.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, e := range []*Engine{c.leader, c.follower} {
		if err := e.writer.WaitVisible(ctx, n); err != nil {
			c.log.mu.Lock()
			errs := c.log.errs
			c.log.mu.Unlock()
			t.Fatalf("not converged to index %d: %v (apply errors: %v)", n, err, errs)
		}
	}
	a, err := c.leader.Dump()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.follower.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("state differs:\nleader:\n%s\nfollower:\n%s", a, b)
	}
}
