package sqlengine

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// InternalStmt is one PostgreSQL statement chr2sql itself issues (outbox
// transitions, migrations), with parameters in the pgval value model.
type InternalStmt struct {
	SQL  string
	Args []any
}

// ErrWrongTerm means the writer is not leader in the term the caller
// required; nothing was proposed.
var ErrWrongTerm = ErrNotLeader

// ExecInternal runs stmts as one transaction proposed as one entry of kind,
// in exactly term (the fencing token of outbox transitions). It returns the
// rows affected per statement once the entry committed and applied.
func (e *Engine) ExecInternal(ctx context.Context, term uint64, kind entry.Kind, stmts []InternalStmt) ([]int64, error) {
	tx, err := e.writer.Begin(ctx, true, false)
	if err != nil {
		return nil, err
	}
	if term != 0 && tx.Term() != term {
		tx.Rollback()
		return nil, ErrWrongTerm
	}
	tx.SetKind(kind)
	affected := make([]int64, 0, len(stmts))
	for _, st := range stmts {
		n, err := e.execInternalStmt(ctx, tx, st)
		if err != nil {
			tx.Rollback()
			return nil, err
		}
		affected = append(affected, n)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return affected, nil
}

func (e *Engine) execInternalStmt(ctx context.Context, tx *Txn, st InternalStmt) (int64, error) {
	cat := tx.Catalog()
	if cat == nil {
		cat = e.Catalog()
	}
	raws, err := translate.Parse(st.SQL)
	if err != nil {
		return 0, err
	}
	if len(raws) != 1 {
		return 0, pgerr.New(pgerr.SyntaxError, "internal statement must be exactly one statement")
	}
	plan, err := translate.Translate(cat, raws[0].Node, nil, translate.Options{SearchPath: []string{"public"},
		User: "chr2", Database: "postgres", Internal: true})
	if err != nil {
		return 0, err
	}
	if plan.Kind != translate.KindWrite && plan.Kind != translate.KindQuery {
		return 0, pgerr.Unsupported("internal statement of this kind")
	}
	steps, err := bindSteps(plan, padParams(st.Args, len(plan.Params)))
	if err != nil {
		return 0, err
	}
	rec := stmtRecord{Flags: flagInternal, Seqs: plan.Sequences, Steps: steps}
	if plan.SchemaChange {
		rec.Flags |= flagSchemaChange
	}
	if plan.Effects && plan.Kind == translate.KindWrite {
		rec.Flags |= flagEffects
	}
	res, err := tx.Exec(ctx, rec, plan.Kind == translate.KindWrite, nil)
	if err != nil {
		return 0, mapError(err, cat)
	}
	return res.affected, nil
}

// padParams trims or pads args to n parameters.
func padParams(args []any, n int) []any {
	out := make([]any, n)
	copy(out, args)
	return out
}

// LeaderBarrier returns once this node, as leader in term, has applied
// everything committed before its term began: the catalog and state it
// reads are then current.
func (e *Engine) LeaderBarrier(ctx context.Context, term uint64) error {
	_, err := e.ExecInternal(ctx, term, entry.KindMigration, nil)
	return err
}

// QueryLocal runs a read-only query on this node's committed state
// (no read barrier: the caller, the outbox on the leader, reads what its
// own writes made visible).
func (e *Engine) QueryLocal(ctx context.Context, sql string, args ...any) ([][]any, error) {
	raws, err := translate.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(raws) != 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "query must be exactly one statement")
	}
	paramOIDs := make([]uint32, len(args))
	plan, err := translate.Translate(e.Catalog(), raws[0].Node, paramOIDs, translate.Options{SearchPath: []string{"public"},
		User: "chr2", Database: "postgres", Internal: true})
	if err != nil {
		return nil, err
	}
	if plan.Kind != translate.KindQuery {
		return nil, pgerr.New(pgerr.ReadOnlySQLTransaction, "QueryLocal runs read-only queries")
	}
	steps, err := bindSteps(plan, padParams(args, len(plan.Params)))
	if err != nil {
		return nil, err
	}
	// Read everything this node applied, including the leader's open epoch
	// (the outbox is woken by commits not yet flushed to SQLite).
	if err := e.writer.WaitVisible(ctx, e.writer.Applied()); err != nil {
		return nil, clientError(err)
	}
	rc, err := e.acquireReader(ctx)
	if err != nil {
		return nil, err
	}
	defer e.releaseReader(rc)
	rc.env.BeginTransaction(time.Now(), 0, 0, rand.Uint64())
	rc.env.BeginStatement(scratchOrdinal)
	var rows [][]any
	rec := stmtRecord{Steps: steps}
	_, err = rc.runSteps(ctx, &rec, rowConverter(plan.Columns, func(r []any) error {
		rows = append(rows, r)
		return nil
	}))
	if err != nil {
		return nil, mapError(err, e.Catalog())
	}
	return rows, nil
}

// BlockTime is the block time the next transaction would get at the least.
func (e *Engine) BlockTime() time.Time {
	e.writer.mu.Lock()
	defer e.writer.mu.Unlock()
	now := time.Now().UnixMicro()
	if now <= e.writer.blockTime {
		now = e.writer.blockTime + 1
	}
	return time.UnixMicro(now).UTC()
}
