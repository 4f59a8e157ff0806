package sqlengine

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/entry"
	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Temporary tables (see the package doc) are replicated tables in the
// session's schema pg_temp_N. This file keeps what PostgreSQL keeps per
// backend: the ON COMMIT actions, and the drop of the schema when the
// session ends or DISCARDs it. Every drop goes through the log like any
// other DDL, so followers stay identical.

// tempSchema is the session's temporary schema.
func (s *session) tempSchema() string {
	if s.info.ProcessID == 0 {
		return ""
	}
	return translate.TempSchemaName(s.info.ProcessID)
}

// noteTemp records the ON COMMIT action of a temporary table the session
// just created (a table created again without one loses the old action).
func (s *session) noteTemp(plan *translate.Plan) {
	if plan.TempTable == "" {
		return
	}
	s.tempInUse = true
	if plan.OnCommit == "" {
		delete(s.onCommit, plan.TempTable)
		return
	}
	if s.onCommit == nil {
		s.onCommit = map[string]string{}
	}
	s.onCommit[plan.TempTable] = plan.OnCommit
}

// preCommit runs the ON COMMIT actions in the transaction about to commit:
// ON COMMIT DROP tables are dropped, ON COMMIT DELETE ROWS ones emptied.
// Tables that no longer exist (dropped, or created by a rolled-back
// transaction) are forgotten.
func (s *session) preCommit(ctx context.Context, tx *Txn) error {
	if len(s.onCommit) == 0 {
		return nil
	}
	names := make([]string, 0, len(s.onCommit))
	for name := range s.onCommit {
		names = append(names, name)
	}
	sort.Strings(names) // the entry must not depend on map order
	schema := s.tempSchema()
	for _, name := range names {
		cat := tx.Catalog()
		if cat == nil {
			cat = s.e.Catalog()
		}
		if _, ok := cat.Lookup(schema, name, nil); !ok {
			delete(s.onCommit, name)
			continue
		}
		sql := "DELETE FROM " + quote(schema) + "." + quote(name)
		if s.onCommit[name] == "DROP" {
			sql = "DROP TABLE " + quote(schema) + "." + quote(name)
			delete(s.onCommit, name)
		}
		if _, err := s.e.execInternalStmt(ctx, tx, InternalStmt{SQL: sql}); err != nil {
			return err
		}
	}
	return nil
}

// commitTx runs the ON COMMIT actions and commits tx (rolled back when an
// action fails).
func (s *session) commitTx(ctx context.Context, tx *Txn) error {
	if err := s.preCommit(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit(ctx)
}

func dropTempSQL(schema string) string { return "DROP SCHEMA " + quote(schema) + " CASCADE" }

// discardTemp drops the session's temporary tables in its transaction
// (DISCARD TEMP, DISCARD ALL).
func (s *session) discardTemp(ctx context.Context) error {
	schema := s.tempSchema()
	s.onCommit = nil
	if _, ok := s.catalog().Namespace(schema); !ok || schema == "" {
		return nil
	}
	tx, err := s.writeTxn(ctx)
	if err != nil {
		return clientError(err)
	}
	_, err = s.e.execInternalStmt(ctx, tx, InternalStmt{SQL: dropTempSQL(schema)})
	return err
}

// closeTemp drops the temporary schema of a closing session through the
// log. A node that is not leader cannot: the next leader drops leftovers
// (DropOrphanTempSchemas).
func (s *session) closeTemp() {
	schema := s.tempSchema()
	if schema == "" {
		return
	}
	defer s.e.sessionPIDs.Delete(s.info.ProcessID)
	if _, ok := s.e.Catalog().Namespace(schema); !ok || !s.isLeader() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.e.writer.cfg.CommitTimeout)
	defer cancel()
	if _, err := s.e.ExecInternal(ctx, 0, entry.KindTxn, []InternalStmt{{SQL: dropTempSQL(schema)}}); err != nil {
		s.e.log.Warn("sqlengine: dropping a closed session's temporary tables", zap.String("schema", schema), zap.Error(err))
	}
}

// DropOrphanTempSchemas drops, through the log and in term, every
// temporary schema whose session is not open on this node: leftovers of
// sessions that ended while another node led or this node crashed. The
// leader runs it when it takes office.
func (e *Engine) DropOrphanTempSchemas(ctx context.Context, term uint64) error {
	var stmts []InternalStmt
	for _, nsp := range e.Catalog().Namespaces() {
		if !translate.IsTempSchema(nsp.Name) {
			continue
		}
		pid, err := strconv.ParseUint(strings.TrimPrefix(nsp.Name, "pg_temp_"), 10, 32)
		if _, open := e.sessionPIDs.Load(uint32(pid)); err == nil && open {
			continue
		}
		stmts = append(stmts, InternalStmt{SQL: dropTempSQL(nsp.Name)})
	}
	if len(stmts) == 0 {
		return nil
	}
	_, err := e.ExecInternal(ctx, term, entry.KindTxn, stmts)
	return err
}

// clearLeftoverTemp drops, in the session's transaction, a temporary
// schema of the session's name that the session did not create — left by
// a session of the same process id that ended while no node could drop it
// — before the session's first temporary table: PostgreSQL likewise
// empties a leftover temporary schema when a backend first uses it.
func (s *session) clearLeftoverTemp(ctx context.Context, plan *translate.Plan) error {
	if plan.TempTable == "" || s.tempInUse {
		return nil
	}
	if _, ok := s.catalog().Namespace(s.tempSchema()); !ok {
		return nil
	}
	return s.discardTemp(ctx)
}

// errTempOnFollower refuses a temporary table to a session whose writes
// are forwarded to the leader.
func errTempOnFollower() error {
	return pgerr.New(pgerr.FeatureNotSupported, "temporary tables are not supported on a session connected to a follower").
		WithHint("Connect to the leader to use temporary tables.")
}
