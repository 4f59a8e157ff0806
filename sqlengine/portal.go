package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// statement implements pgwire.Statement.
type statement struct {
	s         *session
	raw       translate.RawStatement
	paramOIDs []uint32
	plan      *translate.Plan
	// lazy marks a statement of a multi-statement simple query: no client
	// has seen its description, so it is re-translated at Bind.
	lazy bool
	// preparedAt is when it was prepared and prepareText the PREPARE
	// command that made it (pg_prepared_statements).
	preparedAt  time.Time
	prepareText string
	// onLeader marks a plan described by the leader (describeOnLeader):
	// it can only be forwarded.
	onLeader bool
}

func (st *statement) translate() error {
	cat := st.s.catalog()
	plan, err := translate.Translate(cat, st.raw.Node, st.paramOIDs, st.s.options())
	if name := translate.BlockOnly(st.raw.Node); err != nil && name != "" && !st.s.inBlock() {
		return pgerr.New(pgerr.NoActiveSQLTransaction, "%s can only be used in transaction blocks", name)
	}
	st.onLeader = false
	if st.s.needsLeaderDescription(plan, err) {
		ctx, cancel := context.WithTimeout(context.Background(), leaderDescribeTimeout)
		plan, err = st.s.describeOnLeader(ctx, st, cat)
		cancel()
		st.onLeader = err == nil
	}
	if err != nil {
		return err
	}
	switch plan.Kind {
	case translate.KindExecute:
		if err := st.s.describeExecute(plan); err != nil {
			return err
		}
	case translate.KindFetch:
		if err := st.s.describeFetch(plan); err != nil {
			return err
		}
	}
	st.plan = plan
	return nil
}

// translateFresh translates; when the statement names something this node
// does not know and this node is a follower serving linearizable reads, it
// waits for the read barrier and tries again: a client may create a table
// through one node and use it through another at once, and the schema is
// part of the state a linearizable statement must see.
func (st *statement) translateFresh(ctx context.Context) error {
	err := st.translate()
	s := st.s
	if err == nil || !namesUnknownObject(err) || s.forwarding() || s.isLeader() ||
		s.settings.values["chr2.read_consistency"] == ReadLocal {
		return err
	}
	if berr := s.e.readBarrier(ctx); berr != nil {
		return berr
	}
	return st.translate()
}

func namesUnknownObject(err error) bool {
	var pe *pgerr.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case pgerr.UndefinedTable, pgerr.UndefinedColumn, pgerr.UndefinedFunction, pgerr.UndefinedObject,
		pgerr.InvalidSchemaName:
		return true
	}
	return false
}

// errSchemaMoved reports that a read barrier applied schema changes the
// plan was not translated against (runQuery); the caller translates again.
var errSchemaMoved = errors.New("sqlengine: the schema changed behind the read barrier")

// current returns the plan, re-translated if the schema changed since.
func (st *statement) current() (*translate.Plan, error) {
	cat := st.s.catalog()
	if st.plan.CatalogVersion == cat.Version {
		return st.plan, nil
	}
	old := st.plan
	if err := st.translate(); err != nil {
		return nil, err
	}
	if !sameColumns(old.Columns, st.plan.Columns) {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "cached plan must not change result type")
	}
	return st.plan, nil
}

func sameColumns(a, b []translate.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

func (st *statement) ParamOIDs() []uint32 {
	out := make([]uint32, len(st.plan.Params))
	for i, p := range st.plan.Params {
		out[i] = uint32(p)
	}
	return out
}

func (st *statement) Columns() []pgwire.Column { return wireColumns(st.plan.Columns) }

func (st *statement) SQL() string { return st.raw.SQL }

func wireColumns(cols []translate.Column) []pgwire.Column {
	if len(cols) == 0 {
		return nil
	}
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		size := int16(-1)
		if ti, ok := pgval.Lookup(c.Type); ok {
			size = ti.Len
		}
		out[i] = pgwire.Column{Name: c.Name, TableOID: c.TableOID, AttrNum: c.Attnum, TypeOID: c.Type,
			TypeSize: size, TypeModifier: c.TypMod}
	}
	return out
}

func (st *statement) Bind(ctx context.Context, params []any) (pgwire.Portal, error) {
	if st.lazy && (st.plan == nil || st.plan.CatalogVersion != st.s.catalog().Version) {
		if err := st.translateFresh(ctx); err != nil {
			return nil, err
		}
	}
	if len(params) == 0 && st.plan.FirstParam > 0 {
		// Only a simple query binds no parameters to a statement that has
		// some: pgwire checks the count of a Bind message itself.
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $%d", st.plan.FirstParam)
	}
	if len(params) != len(st.plan.Params) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d",
			len(params), len(st.plan.Params))
	}
	return &portal{st: st, params: params}, nil
}

// portal implements pgwire.Portal. With a row limit it buffers the result
// and pages it out across Execute calls.
type portal struct {
	st       *statement
	params   []any
	buffered [][]any
	pos      int
	ran      bool
	tag      string
}

func (p *portal) Columns() []pgwire.Column { return wireColumns(p.st.plan.Columns) }

func (p *portal) Close() { p.buffered = nil }

func (p *portal) Execute(ctx context.Context, maxRows int, w pgwire.ResultWriter) (string, bool, error) {
	if !p.ran {
		p.ran = true
		emit := w.WriteRow
		if maxRows > 0 {
			emit = func(row []any) error { p.buffered = append(p.buffered, row); return nil }
		}
		tag, err := p.st.s.execute(ctx, p.st, p.params, emit, w)
		if err != nil {
			return "", false, err
		}
		p.tag = tag
	}
	for sent := 0; p.pos < len(p.buffered); sent++ {
		if maxRows > 0 && sent == maxRows {
			return "", true, nil
		}
		if err := w.WriteRow(p.buffered[p.pos]); err != nil {
			return "", false, err
		}
		p.pos++
	}
	return p.tag, false, nil
}

// execute runs one statement in the session.
func (s *session) execute(ctx context.Context, st *statement, params []any, emit func([]any) error, w pgwire.ResultWriter) (string, error) {
	plan, err := st.current()
	if err != nil {
		s.fail()
		return "", err
	}
	for _, n := range plan.Notices {
		w.Notice(n)
	}
	if s.state == txFailed && !endsFailedBlock(plan) {
		return "", pgerr.New(pgerr.InFailedSQLTransaction,
			"current transaction is aborted, commands ignored until end of transaction block")
	}
	ctx, done := s.statementContext(ctx)
	defer done()
	tag, err := s.dispatch(ctx, st, plan, params, emit, w)
	if err != nil {
		if plan.Kind != translate.KindTx {
			s.fail()
		}
		return "", err
	}
	return tag, nil
}

func endsFailedBlock(plan *translate.Plan) bool {
	if plan.Kind != translate.KindTx {
		return false
	}
	k := plan.Tx.Kind
	return k == translate.TxCommit || k == translate.TxRollback || k == translate.TxRollbackTo
}

func (s *session) dispatch(ctx context.Context, st *statement, plan *translate.Plan, params []any, emit func([]any) error, w pgwire.ResultWriter) (string, error) {
	if plan.NeedsBlock && !s.inBlock() {
		return "", pgerr.New(pgerr.NoActiveSQLTransaction, "%s can only be used in transaction blocks", plan.Tag)
	}
	if s.advisoryLost.Load() && !acknowledgesLostLocks(plan) {
		return "", advisoryLostError()
	}
	switch plan.Kind {
	case translate.KindTx:
		if s.forwarding() {
			return s.forwardedTxControl(ctx, st, plan.Tx, params, w)
		}
		tag, err := s.txControl(ctx, plan.Tx, w)
		if tag == "BEGIN" {
			tag = plan.Tag // or START TRANSACTION
		}
		return tag, err
	case translate.KindSet:
		return s.setSQL(plan, emit, w)
	case translate.KindShow:
		return s.showSQL(plan, emit)
	case translate.KindNoop, translate.KindEmpty:
		return plan.Tag, nil
	case translate.KindPrepare:
		return s.prepareSQL(plan.Prepare, st.raw.SQL)
	case translate.KindExecute:
		return s.executeSQL(ctx, plan.Execute, emit, w)
	case translate.KindDeallocate:
		return s.deallocateSQL(plan.Deallocate)
	case translate.KindDiscard:
		return s.discard(ctx, plan)
	case translate.KindAdvisory:
		return s.advisory(ctx, st, plan, params, emit, w)
	case translate.KindCopyFrom:
		return s.copyFrom(ctx, st, plan, w)
	case translate.KindCopyTo:
		return s.copyTo(ctx, plan, params, w)
	case translate.KindDeclare:
		return s.declareCursor(ctx, plan.Cursor, params)
	case translate.KindFetch:
		return s.fetchCursor(plan.Cursor, emit)
	case translate.KindClose:
		return s.closeCursor(plan.Cursor)
	case translate.KindQuery, translate.KindWrite:
		return s.dispatchOrForward(ctx, st, plan, params, emit, w)
	}
	return "", pgerr.Unsupported("this statement")
}

// acknowledgesLostLocks reports whether the statement ends the state of a
// session whose advisory locks a leader change released.
func acknowledgesLostLocks(plan *translate.Plan) bool {
	return plan.Kind == translate.KindAdvisory && plan.Advisory.All || plan.Kind == translate.KindDiscard && plan.Discard == "ALL" ||
		plan.Kind == translate.KindTx && plan.Tx.Kind == translate.TxRollback
}

// bindSteps converts parameters to storage form and binds them to the plan's steps.
func bindSteps(plan *translate.Plan, params []any) ([]stepRecord, error) {
	args := make([]any, len(params))
	for i, v := range params {
		sv, err := sqltype.ToStorage(plan.Params[i], v)
		if err != nil {
			return nil, err
		}
		args[i] = sv
	}
	steps := make([]stepRecord, len(plan.Steps))
	for i, st := range plan.Steps {
		var flags byte
		if st.Rows {
			flags |= stepRows
		}
		if st.Count {
			flags |= stepCount
		}
		if st.Feed {
			flags |= stepFeed
		}
		var stepArgs []any
		if len(st.Args) > 0 {
			stepArgs = args
		}
		steps[i] = stepRecord{Flags: flags, SQL: st.SQL, Args: stepArgs}
	}
	return steps, nil
}

// rowConverter turns SQLite rows into the pgval value model.
func rowConverter(cols []translate.Column, emit func([]any) error) func([]driver.Value) error {
	return func(row []driver.Value) error {
		out := make([]any, len(row))
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...)
			}
			typ := pgval.TextOID
			if i < len(cols) {
				typ = cols[i].Type
			}
			pv, err := sqltype.FromStorage(typ, v)
			if err != nil {
				return err
			}
			out[i] = pv
		}
		return emit(out)
	}
}

// runQuery runs a query. With catalogVersion non-zero, an autocommit read
// whose barrier applied a newer schema returns errSchemaMoved instead.
func (s *session) runQuery(ctx context.Context, plan *translate.Plan, catalogVersion int64, params []any,
	emit func([]any) error) (string, error) {
	if s.up != nil && s.tx == nil && !s.seqVals.has(plan.SessionSeqs) {
		return "", ErrNotLeader // the session's sequence values are on the leader (seqvals.go)
	}
	steps, err := bindSteps(plan, params)
	if err != nil {
		return "", err
	}
	s.seqVals.bind(plan, steps)
	rec := stmtRecord{Steps: steps}
	switch {
	case s.tx != nil || (s.inBlock() && !s.readOnly):
		tx, err := s.writeTxn(ctx)
		if err != nil {
			return "", err // raw: ErrNotLeader makes the caller forward
		}
		return s.writerStatement(ctx, tx, plan, rec, false, emit)
	case s.inBlock():
		conn, err := s.readTxConn(ctx)
		if err != nil {
			return "", err
		}
		return s.readStatement(ctx, conn, plan, rec, emit)
	}
	if s.settings.values["chr2.read_consistency"] != ReadLocal {
		if err := s.e.readBarrier(ctx); err != nil {
			return "", err
		}
		if catalogVersion != 0 && catalogVersion != s.e.Catalog().Version {
			return "", errSchemaMoved
		}
	}
	rc, err := s.e.acquireReader(ctx)
	if err != nil {
		return "", err
	}
	defer s.e.releaseReader(rc)
	rc.env.BeginTransaction(s.readTime(), 0, 0, rand.Uint64())
	return s.readStatement(ctx, rc, plan, rec, emit)
}

func (s *session) readStatement(ctx context.Context, conn *sqliteConn, plan *translate.Plan, rec stmtRecord, emit func([]any) error) (string, error) {
	conn.env.BeginStatement(scratchOrdinal)
	res, err := conn.runSteps(ctx, &rec, rowConverter(plan.Columns, emit))
	if err != nil {
		return "", mapError(err, s.catalog())
	}
	return commandTag(plan, res), nil
}

// readTxConn returns the snapshot connection of a READ ONLY block.
func (s *session) readTxConn(ctx context.Context) (*sqliteConn, error) {
	if s.readTx != nil {
		return s.readTx, nil
	}
	if s.settings.values["chr2.read_consistency"] != ReadLocal {
		if err := s.e.readBarrier(ctx); err != nil {
			return nil, err
		}
	}
	rc, err := s.e.acquireReader(ctx)
	if err != nil {
		return nil, err
	}
	if err := rc.execScript(ctx, "BEGIN"); err != nil {
		s.e.releaseReader(rc)
		return nil, mapError(err, nil)
	}
	rc.env.BeginTransaction(s.readTime(), 0, 0, rand.Uint64())
	s.readTx = rc
	return rc, nil
}

func (s *session) runWrite(ctx context.Context, st *statement, plan *translate.Plan, params []any, emit func([]any) error) (string, error) {
	if s.inBlock() && s.readOnly {
		return "", pgerr.New(pgerr.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", plan.Tag)
	}
	if len(plan.Steps) == 0 {
		return plan.Tag, nil
	}
	tx, err := s.writeTxn(ctx)
	if err != nil {
		return "", err
	}
	// Admission may have taken a while: translate again if the schema the
	// writer sees moved on since the plan was made.
	if plan, err = st.current(); err != nil {
		return "", err
	}
	steps, err := bindSteps(plan, params)
	if err != nil {
		return "", err
	}
	s.seqVals.bind(plan, steps)
	rec := stmtRecord{Seqs: plan.Sequences, Steps: steps}
	if plan.SchemaChange {
		rec.Flags |= flagSchemaChange
	}
	if plan.Effects {
		rec.Flags |= flagEffects
	}
	return s.writerStatement(ctx, tx, plan, rec, true, emit)
}

// writerStatement runs a statement on the writer. Rows are buffered while
// the writer is held and emitted after it is released.
func (s *session) writerStatement(ctx context.Context, tx *Txn, plan *translate.Plan, rec stmtRecord, record bool,
	emit func([]any) error) (string, error) {
	var rows [][]any
	var bytes int64
	collect := rowConverter(plan.Columns, func(row []any) error {
		for _, v := range row {
			bytes += valueSize(v)
		}
		if bytes > s.e.cfg.MaxResultBytes {
			return pgerr.New(pgerr.ProgramLimitExceeded, "result of a statement in a write transaction exceeds %d bytes",
				s.e.cfg.MaxResultBytes)
		}
		rows = append(rows, row)
		return nil
	})
	res, err := tx.Exec(ctx, rec, record, collect)
	if err != nil {
		return "", mapError(err, s.catalog())
	}
	s.seqVals.record(res.seqs)
	for _, r := range rows {
		if err := emit(r); err != nil {
			return "", err
		}
	}
	return commandTag(plan, res), nil
}

func valueSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x)) + 16
	case []byte:
		return int64(len(x)) + 24
	}
	return 16
}

// commandTag renders the CommandComplete tag.
func commandTag(plan *translate.Plan, res stepResult) string {
	switch plan.Tag {
	case "INSERT":
		return "INSERT 0 " + strconv.FormatInt(res.affected, 10)
	case "UPDATE", "DELETE":
		return plan.Tag + " " + strconv.FormatInt(res.affected, 10)
	case "SELECT":
		if len(plan.Columns) == 0 { // CREATE TABLE AS, SELECT INTO: the rows inserted
			return "SELECT " + strconv.FormatInt(res.affected, 10)
		}
		return "SELECT " + strconv.FormatInt(res.returned, 10)
	}
	return plan.Tag
}
