package sqlengine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// txState is a session's transaction block state.
type txState uint8

const (
	txIdle   txState = iota // no transaction block ('I')
	txOpen                  // in BEGIN … COMMIT ('T')
	txFailed                // an error occurred in the block ('E')
)

// session implements pgwire.Session.
type session struct {
	e        *Engine
	info     pgwire.SessionInfo
	settings *sessionSettings
	reported map[string]string

	state      txState
	readOnly   bool // BEGIN READ ONLY
	tx         *Txn // writer transaction (explicit, or implicit until Sync)
	implicitTx bool // tx was opened by an implicit (autocommit) block
	implicitEr bool // an error occurred in the implicit block
	readTx     *sqliteConn
	savepoints []string
	up         Upstream // connection to the leader, when forwarding
	upActive   bool     // the current block (or statement) runs on the leader
	// upChanged is set once the forwarded block changed the schema: this
	// node's catalog no longer describes what the block sees.
	upChanged bool

	cancelMu sync.Mutex
	cancel   context.CancelFunc
	canceled bool

	prepared      map[string]*statement   // SQL-level PREPARE
	protoStmts    map[string]*statement   // protocol-level named statements (StatementPrepared)
	cursors       map[string]*cursor      // SQL-level DECLARE … CURSOR
	savedSettings map[string]savedSetting // values to restore at the block's end
	xactLocks     []xactLock              // advisory locks held until the block ends
	advisoryLost  atomic.Bool             // a leader change released this session's advisory locks
	seqVals       seqValues               // currval/lastval across transactions (seqvals.go)
	onCommit      map[string]string       // temporary table → ON COMMIT action (temptables.go)
	tempInUse     bool                    // the session created a temporary table: its pg_temp schema resolves names
}

var _ pgwire.Session = (*session)(nil)

// NewSession implements pgwire.Engine.
func (e *Engine) NewSession(_ context.Context, info pgwire.SessionInfo) (pgwire.Session, error) {
	if info.Database == "" {
		info.Database = info.User
	}
	s := &session{e: e, info: info, settings: newSessionSettings(info, e.cfg.ServerVersion), reported: map[string]string{}}
	if info.ProcessID != 0 {
		e.sessionPIDs.Store(info.ProcessID, struct{}{})
	}
	return s, nil
}

// Parse implements pgwire.Session.
func (s *session) Parse(ctx context.Context, sql string, paramOIDs []uint32) ([]pgwire.Statement, error) {
	if len(sql) > s.e.cfg.MaxStatementBytes {
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "statement of %d bytes exceeds the limit of %d bytes",
			len(sql), s.e.cfg.MaxStatementBytes)
	}
	raws, err := translate.Parse(sql)
	if err != nil {
		return nil, err
	}
	out := make([]pgwire.Statement, 0, len(raws))
	for i, raw := range raws {
		st := &statement{s: s, raw: raw, paramOIDs: paramOIDs, lazy: len(raws) > 1}
		// In a multi-statement query a statement may name what an earlier
		// one creates: it is translated again when its turn comes.
		if err := st.translateFresh(ctx); err != nil && (!st.lazy || i == 0) {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *session) options() translate.Options {
	return translate.Options{SearchPath: s.settings.searchPath(), User: s.info.User, Database: s.info.Database,
		Settings: s.settings.list, ProcessID: s.info.ProcessID, Prepared: s.preparedList, TempSchema: s.tempSchema(),
		TempInUse: s.tempInUse}
}

// catalog is the catalog this session's statements must be translated with.
func (s *session) catalog() *catalog.Catalog {
	if s.tx != nil {
		if c := s.tx.Catalog(); c != nil {
			return c
		}
	}
	return s.e.Catalog()
}

// Sync implements pgwire.Session: it ends an implicit transaction.
func (s *session) Sync(ctx context.Context) error {
	if !s.implicitTx {
		return nil
	}
	tx, failed := s.tx, s.implicitEr
	s.tx, s.implicitTx, s.implicitEr = nil, false, false
	if failed {
		tx.Rollback()
		return nil
	}
	return s.commitTx(ctx, tx)
}

// TxStatus implements pgwire.Session.
func (s *session) TxStatus() byte {
	switch s.state {
	case txOpen:
		return 'T'
	case txFailed:
		return 'E'
	}
	return 'I'
}

// ParameterStatus implements pgwire.Session.
func (s *session) ParameterStatus() []pgwire.Param {
	return s.settings.reported()
}

// Cancel implements pgwire.Session.
func (s *session) Cancel() {
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	if s.cancel != nil {
		s.canceled = true
		s.cancel()
	}
}

// statementContext derives the context of one statement: cancellable by a
// CancelRequest and bounded by statement_timeout.
func (s *session) statementContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	if d := s.settings.millis("statement_timeout"); d > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, d)
		inner := cancel
		cancel = func() { c2(); inner() }
	}
	s.cancelMu.Lock()
	s.cancel, s.canceled = cancel, false
	s.cancelMu.Unlock()
	return ctx, func() {
		s.cancelMu.Lock()
		s.cancel = nil
		s.cancelMu.Unlock()
		cancel()
	}
}

// Close implements pgwire.Session.
func (s *session) Close() {
	if s.tx != nil {
		s.tx.Rollback()
		s.tx = nil
	}
	s.endReadTx()
	s.dropUpstream()
	s.releaseAdvisory(false)
	s.closeTemp()
}

func (s *session) endReadTx() {
	if s.readTx != nil {
		_ = s.readTx.execScript(context.Background(), "ROLLBACK")
		s.e.releaseReader(s.readTx)
		s.readTx = nil
	}
}

// inBlock reports whether an explicit transaction block is open.
func (s *session) inBlock() bool { return s.state != txIdle }

// fail records an error in the current transaction block or implicit block.
func (s *session) fail() {
	if s.state == txOpen {
		s.state = txFailed
	}
	if s.implicitTx {
		s.implicitEr = true
	}
}

// writeTxn returns the writer transaction, beginning one if needed.
func (s *session) writeTxn(ctx context.Context) (*Txn, error) {
	if s.tx != nil {
		return s.tx, nil
	}
	tx, err := s.e.writer.Begin(ctx, false, s.inBlock())
	if err != nil {
		return nil, err
	}
	s.tx = tx
	s.implicitTx = !s.inBlock()
	return tx, nil
}

// blockTime is now() for statements that run outside a writer transaction.
func (s *session) readTime() time.Time { return time.Now() }

// Location implements pgwire.SessionLocation: the session's TimeZone.
func (s *session) Location() *time.Location { return s.settings.loc }

var _ pgwire.SessionLocation = (*session)(nil)

// ProtocolError implements pgwire.ProtocolErrorObserver: an error pgwire
// raised itself fails the transaction block like any other error.
func (s *session) ProtocolError(*pgerr.Error) { s.fail() }

var _ pgwire.ProtocolErrorObserver = (*session)(nil)
