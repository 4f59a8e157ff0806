package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/migrations"
	"github.com/chr2sql/chr2sql/outbox"
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/replication"
	"github.com/chr2sql/chr2sql/sqlengine"
)

// stateMachine adapts the engine to replication.StateMachine.
type stateMachine struct {
	engine *sqlengine.Engine
	duties *leaderDuties
}

func (m *stateMachine) Apply(ents []replication.Entry) error {
	out := make([]sqlengine.LogEntry, len(ents))
	for i, e := range ents {
		out[i] = sqlengine.LogEntry{Index: e.Index, Term: e.Term}
		if e.Type == 0 && len(e.Data) > 0 { // raftpb.EntryNormal with a payload
			out[i].Data = e.Data
		}
	}
	return m.engine.Apply(out)
}

func (m *stateMachine) AppliedIndex() uint64 { return m.engine.AppliedIndex() }

func (m *stateMachine) Snapshot(ctx context.Context, path string) (uint64, uint64, error) {
	return m.engine.Snapshot(ctx, path)
}

func (m *stateMachine) Restore(path string) error { return m.engine.Restore(path) }

var _ replication.Snapshotter = (*stateMachine)(nil)

func (m *stateMachine) SetLeadership(leader bool, term, readyIndex uint64) {
	m.engine.SetLeadership(leader, term, readyIndex)
	m.duties.leadership(leader, term)
}

// leaderDuties runs what only the leader does, for as long as it leads a
// term: bring chr2's schema up to date, then deliver effects.
type leaderDuties struct {
	engine     *sqlengine.Engine
	node       *replication.Node
	log        *zap.Logger
	dispatcher *outbox.Dispatcher
	migrated   atomic.Bool

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup

	leaseMu       sync.Mutex
	leaseStart    time.Time
	leaseTerm     uint64
	leaseDuration time.Duration // half the minimum election timeout
}

func newLeaderDuties(e *sqlengine.Engine, log *zap.Logger, reg prometheus.Registerer, opts outbox.Options,
	electionTimeout time.Duration) (*leaderDuties, error) {
	d := &leaderDuties{engine: e, log: log, leaseDuration: electionTimeout / 2}
	opts.Logger = log
	opts.Registerer = reg
	disp, err := outbox.New(outbox.NewSQLStore(outboxSQL{e}), d, opts)
	if err != nil {
		return nil, err
	}
	d.dispatcher = disp
	e.OnEffects(disp.Notify)
	return d, nil
}

// StillLeader implements outbox.Leadership. Local state is not enough: a
// leader cut off from the majority still believes it leads until
// CheckQuorum demotes it, while the majority may already elect a new leader
// and claim the same effects. So a send needs a lease: a ReadIndex round
// (a majority acknowledged this leader after the request was issued) less
// than half an election timeout old. Followers that acknowledged refuse to
// vote for anyone else for a full election timeout (CheckQuorum), so no new
// leader can exist — let alone claim — while the lease holds.
func (d *leaderDuties) StillLeader(term uint64) bool {
	if !d.leadsLocally(term) {
		return false
	}
	d.leaseMu.Lock()
	valid := d.leaseTerm == term && time.Since(d.leaseStart) < d.leaseDuration
	d.leaseMu.Unlock()
	if valid {
		return true
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d.leaseDuration)
	_, err := d.node.ReadIndex(ctx)
	cancel()
	if err != nil || !d.leadsLocally(term) {
		return false
	}
	d.leaseMu.Lock()
	if start.After(d.leaseStart) || d.leaseTerm != term {
		d.leaseStart, d.leaseTerm = start, term
	}
	d.leaseMu.Unlock()
	return time.Since(start) < d.leaseDuration
}

// leadsLocally reports whether raft and the engine both say this node leads term.
func (d *leaderDuties) leadsLocally(term uint64) bool {
	leader, t := d.engine.Leadership()
	if !leader || t != term || d.node == nil {
		return false
	}
	st := d.node.Status()
	return st.Role == "leader" && st.Term == term
}

func (d *leaderDuties) leadership(leader bool, term uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	if !leader {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(1)
	go d.lead(ctx, term)
}

func (d *leaderDuties) lead(ctx context.Context, term uint64) {
	defer d.wg.Done()
	for {
		err := d.migrate(ctx, term)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("chr2 schema migration failed; retrying", zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	d.migrated.Store(true)
	if err := d.dispatcher.Run(ctx, term); err != nil && ctx.Err() == nil {
		d.log.Warn("outbox dispatcher stopped for this term", zap.Uint64("term", term), zap.Error(err))
	}
}

func (d *leaderDuties) migrate(ctx context.Context, term uint64) error {
	if err := d.engine.LeaderBarrier(ctx, term); err != nil {
		return err
	}
	if _, err := migrations.Apply(ctx, migrator{engine: d.engine, term: term}); err != nil {
		return err
	}
	// Temporary schemas of sessions that ended while another node led (or
	// this one crashed) would otherwise live forever.
	return d.engine.DropOrphanTempSchemas(ctx, term)
}

func (d *leaderDuties) stop() {
	d.mu.Lock()
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	d.mu.Unlock()
	d.wg.Wait()
}

// migrator runs chr2 migrations through the engine.
type migrator struct {
	engine *sqlengine.Engine
	term   uint64
}

func (m migrator) Applied(ctx context.Context) (int, error) {
	if _, ok := m.engine.Catalog().Namespace("chr2"); !ok {
		return 0, nil
	}
	rows, err := m.engine.QueryLocal(ctx, "SELECT max(version) FROM chr2.migrations")
	if err != nil || len(rows) == 0 || rows[0][0] == nil {
		return 0, err
	}
	v, _ := rows[0][0].(int64)
	return int(v), nil
}

func (m migrator) Run(ctx context.Context, stmts []string) error {
	in := make([]sqlengine.InternalStmt, len(stmts))
	for i, s := range stmts {
		in[i] = sqlengine.InternalStmt{SQL: s}
	}
	_, err := m.engine.ExecInternal(ctx, m.term, entry.KindMigration, in)
	return err
}

// outboxSQL implements outbox.SQL on the engine.
type outboxSQL struct{ e *sqlengine.Engine }

func (o outboxSQL) Query(ctx context.Context, sql string, args ...any) ([][]any, error) {
	return o.e.QueryLocal(ctx, sql, args...)
}

func (o outboxSQL) Exec(ctx context.Context, term uint64, kind string, stmts []outbox.Stmt) ([]int64, error) {
	k, ok := entry.KindFromLabel(kind)
	if !ok {
		return nil, errors.New("server: unknown outbox entry kind " + kind)
	}
	in := make([]sqlengine.InternalStmt, len(stmts))
	for i, s := range stmts {
		in[i] = sqlengine.InternalStmt{SQL: s.SQL, Args: s.Args}
	}
	n, err := o.e.ExecInternal(ctx, term, k, in)
	if err == nil {
		return n, nil
	}
	switch {
	case errors.Is(err, sqlengine.ErrNotLeader):
		return nil, errors.Join(outbox.ErrNotLeader, err)
	}
	switch pgerr.CodeOf(err) {
	case pgerr.SerializationFailure, pgerr.CannotConnectNow:
		return nil, errors.Join(outbox.ErrNotLeader, err)
	case pgerr.TransactionResolutionUnknown:
		return nil, errors.Join(outbox.ErrAmbiguous, err)
	}
	return nil, err
}

func (o outboxSQL) BlockTime() time.Time { return o.e.BlockTime() }
