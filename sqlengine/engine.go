package sqlengine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Config configures an Engine.
type Config struct {
	// Dir holds the state database (state.db and its WAL files).
	Dir       string
	NodeID    uint64
	Consensus Consensus
	Logger    *zap.Logger
	// ReadConns is the number of read connections (default 4).
	ReadConns int
	Writer    WriterConfig
	// ServerVersion is reported as server_version.
	ServerVersion string
	// ReadTimeout bounds the wait for a linearizable read barrier.
	ReadTimeout time.Duration
	// MaxStatementBytes limits one statement's text (54000 beyond).
	MaxStatementBytes int
	// MaxResultBytes limits the rows a write transaction buffers (54000).
	MaxResultBytes int64
	// Registerer receives the engine's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Engine is the SQL layer of one node: it implements pgwire.Engine for
// client sessions and applies committed log entries to the state database.
type Engine struct {
	cfg       Config
	log       *zap.Logger
	writer    *Writer
	readers   chan *sqliteConn
	cat       atomic.Pointer[catalog.Catalog]
	effects   atomic.Pointer[func()]
	forwarder atomic.Pointer[Forwarder]
	advisory  *advisoryLocks // the leader's advisory lock table (advisory.go)
	// sessionPIDs holds the process ids of the sessions open on this node
	// (temptables.go: their temporary schemas are not leftovers).
	sessionPIDs sync.Map
}

var _ pgwire.Engine = (*Engine)(nil)

// StateFile is the state database's file name inside Config.Dir.
const StateFile = "state.db"

// Open opens (or creates) the state database and readies the engine. The
// engine applies nothing until entries are handed to Apply.
func Open(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.ReadConns <= 0 {
		cfg.ReadConns = 4
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 5 * time.Second
	}
	if cfg.MaxStatementBytes == 0 {
		cfg.MaxStatementBytes = 1 << 20
	}
	if cfg.MaxResultBytes == 0 {
		cfg.MaxResultBytes = 64 << 20
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("sqlengine: %w", err)
	}
	path := filepath.Join(cfg.Dir, StateFile)
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, os.ErrNotExist)
	wc, err := openSQLite(path, false)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, readers: make(chan *sqliteConn, cfg.ReadConns), advisory: newAdvisoryLocks()}
	if err := e.initState(wc, fresh); err != nil {
		wc.close()
		return nil, err
	}
	wcfg := cfg.Writer
	wcfg.NodeID = cfg.NodeID
	wcfg.Logger = cfg.Logger
	e.writer = newWriter(wcfg, cfg.Consensus, wc)
	e.writer.metrics = newWriterMetrics(cfg.Registerer)
	if err := e.loadPosition(wc); err != nil {
		wc.close()
		return nil, err
	}
	e.writer.onSchema = e.reloadCatalog
	e.writer.onEffect = e.notifyEffects
	for i := 0; i < cfg.ReadConns; i++ {
		rc, err := openSQLite(path, true)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.readers <- rc
	}
	e.writer.start()
	return e, nil
}

// initState creates the meta tables in a new database and loads the catalog.
func (e *Engine) initState(wc *sqliteConn, fresh bool) error {
	ctx := context.Background()
	if fresh {
		stmts := append([]string{"BEGIN"}, catalog.Bootstrap()...)
		if err := wc.execScript(ctx, append(stmts, "COMMIT")...); err != nil {
			return fmt.Errorf("sqlengine: bootstrap state database: %w", err)
		}
	}
	rows, err := wc.QueryAll(`SELECT value FROM _chr2_meta WHERE key = 'format_version'`)
	if err != nil || len(rows) != 1 {
		return fmt.Errorf("sqlengine: %s is not a chr2sql state database: %v", filepath.Join(e.cfg.Dir, StateFile), err)
	}
	if v, _ := rows[0][0].(int64); v != catalog.FormatVersion && catalog.Upgrade(v) != nil {
		stmts := append(append([]string{"BEGIN"}, catalog.Upgrade(v)...), "COMMIT")
		if err := wc.execScript(ctx, stmts...); err != nil {
			return fmt.Errorf("sqlengine: upgrade state database from format %d: %w", v, err)
		}
	} else if v != catalog.FormatVersion {
		return fmt.Errorf("sqlengine: state database format %v, this build reads %d", rows[0][0], catalog.FormatVersion)
	}
	cat, err := catalog.Load(wc)
	if err != nil {
		return err
	}
	e.cat.Store(cat)
	return nil
}

func (e *Engine) loadPosition(wc *sqliteConn) error {
	rows, err := wc.QueryAll(`SELECT key, value FROM _chr2_meta WHERE key IN ('applied_index', 'applied_term', 'block_time')`)
	if err != nil {
		return fmt.Errorf("sqlengine: read applied index: %w", err)
	}
	w := e.writer
	for _, r := range rows {
		v, _ := r[1].(int64)
		switch r[0].(string) {
		case catalog.MetaAppliedIndex:
			w.applied, w.visible = uint64(v), uint64(v)
		case catalog.MetaAppliedTerm:
			w.appliedTrm = uint64(v)
		case catalog.MetaBlockTime:
			w.blockTime, w.appliedBT = v, v
		}
	}
	return nil
}

// AppliedIndex is the highest log index whose effects are durable in the
// state database (replay after a restart starts after it).
func (e *Engine) AppliedIndex() uint64 { return e.writer.Visible() }

// Apply applies committed entries in log order; see Writer.Apply.
func (e *Engine) Apply(entries []LogEntry) error { return e.writer.Apply(entries) }

// SetLeadership tells the engine this node's role changed.
func (e *Engine) SetLeadership(leader bool, term, readyIndex uint64) {
	e.writer.SetLeadership(leader, term, readyIndex)
	e.advisory.setLeadership(leader, term)
}

// Leadership reports whether the engine accepts writes, and in which term.
func (e *Engine) Leadership() (bool, uint64) { return e.writer.Leadership() }

// Halted returns why the engine stopped applying, or nil.
func (e *Engine) Halted() error { return e.writer.Halted() }

// OnEffects registers a callback run when committed entries inserted
// effects (the outbox dispatcher's push notification).
func (e *Engine) OnEffects(fn func()) { e.effects.Store(&fn) }

func (e *Engine) notifyEffects() {
	if fn := e.effects.Load(); fn != nil {
		(*fn)()
	}
}

// reloadCatalog runs under the writer's lock right after a schema change
// became visible; the write connection sees exactly the committed schema.
func (e *Engine) reloadCatalog(q catalog.Querier) {
	cat, err := catalog.Load(q)
	if err != nil {
		e.log.Error("sqlengine: reload catalog", zap.Error(err))
		return
	}
	e.cat.Store(cat)
}

// Catalog returns the committed catalog snapshot.
func (e *Engine) Catalog() *catalog.Catalog { return e.cat.Load() }

// Close stops the writer and closes every connection.
func (e *Engine) Close() {
	if e.writer != nil {
		e.writer.close()
		e.writer.conn.close()
	}
	for {
		select {
		case rc := <-e.readers:
			rc.close()
		default:
			return
		}
	}
}

// readBarrier waits until a linearizable read may run on this node.
func (e *Engine) readBarrier(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ReadTimeout)
	defer cancel()
	idx, err := e.cfg.Consensus.ReadIndex(ctx)
	if err != nil {
		return clientError(fmt.Errorf("%w: %v", ErrNoQuorum, err))
	}
	if err := e.writer.WaitVisible(ctx, idx); err != nil {
		if ctx.Err() != nil {
			return clientError(fmt.Errorf("%w: index %d not applied in time", ErrNoQuorum, idx))
		}
		return clientError(err)
	}
	return nil
}

func (e *Engine) acquireReader(ctx context.Context) (*sqliteConn, error) {
	select {
	case rc := <-e.readers:
		return rc, nil
	case <-ctx.Done():
		return nil, mapError(ctx.Err(), nil)
	}
}

func (e *Engine) releaseReader(rc *sqliteConn) { e.readers <- rc }
