package sqlengine

import (
	"context"
	"errors"
	"strings"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

func warning(code pgerr.Code, msg string) *pgerr.Error {
	return &pgerr.Error{Severity: pgerr.SeverityWarning, Code: code, Message: msg}
}

// txControl handles BEGIN, COMMIT, ROLLBACK and savepoints.
func (s *session) txControl(ctx context.Context, op *translate.TxOp, w pgwire.ResultWriter) (string, error) {
	switch op.Kind {
	case translate.TxBegin:
		if s.inBlock() {
			w.Notice(warning(pgerr.ActiveSQLTransaction, "there is already a transaction in progress"))
			return "BEGIN", nil
		}
		// BEGIN inside an implicit block turns the block into an explicit one.
		s.implicitTx = false
		s.state = txOpen
		s.readOnly = op.ReadOnly || s.settings.values["default_transaction_read_only"] == "on"
		if err := s.beginSettings(op); err != nil {
			s.resetBlock()
			return "", err
		}
		return "BEGIN", nil
	case translate.TxCommit:
		if !s.inBlock() {
			w.Notice(warning(pgerr.NoActiveSQLTransaction, "there is no transaction in progress"))
			return "COMMIT", nil
		}
		if s.state == txFailed {
			s.rollbackBlock()
			return "ROLLBACK", nil
		}
		return "COMMIT", s.commitBlock(ctx)
	case translate.TxRollback:
		if !s.inBlock() {
			w.Notice(warning(pgerr.NoActiveSQLTransaction, "there is no transaction in progress"))
			return "ROLLBACK", nil
		}
		s.rollbackBlock()
		return "ROLLBACK", nil
	}
	return s.savepoint(ctx, op)
}

func (s *session) commitBlock(ctx context.Context) error {
	tx := s.tx
	s.endBlock(true)
	s.resetBlock()
	if tx == nil {
		return nil
	}
	return s.commitTx(ctx, tx)
}

func (s *session) rollbackBlock() {
	if s.tx != nil {
		s.tx.Rollback()
	}
	s.endBlock(false)
	s.resetBlock()
}

// endBlock ends what lives as long as the transaction block: SET LOCAL
// values (and every SET, when it rolls back) and transaction-scoped
// advisory locks.
func (s *session) endBlock(committed bool) {
	s.endBlockSettings(committed)
	s.endTransactionSettings()
	s.releaseAdvisory(true)
	s.endBlockCursors()
}

func (s *session) resetBlock() {
	s.endReadTx()
	s.tx, s.implicitTx, s.implicitEr = nil, false, false
	s.state, s.readOnly, s.savepoints = txIdle, false, nil
}

func savepointSQL(verb, name string) string {
	return verb + " " + quote("sp_"+name)
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// savepoint handles SAVEPOINT, RELEASE and ROLLBACK TO. In a write block
// they are recorded in the entry so followers replay the same nesting.
func (s *session) savepoint(ctx context.Context, op *translate.TxOp) (string, error) {
	verb := map[translate.TxKind]string{translate.TxSavepoint: "SAVEPOINT", translate.TxRelease: "RELEASE",
		translate.TxRollbackTo: "ROLLBACK TO"}[op.Kind]
	if !s.inBlock() {
		return "", pgerr.New(pgerr.NoActiveSQLTransaction, "%s can only be used in transaction blocks", verb)
	}
	pos := -1
	for i := len(s.savepoints) - 1; i >= 0; i-- {
		if s.savepoints[i] == op.Savepoint {
			pos = i
			break
		}
	}
	if op.Kind != translate.TxSavepoint && pos < 0 {
		return "", pgerr.New(pgerr.Code("3B001"), "savepoint %q does not exist", op.Savepoint)
	}
	sql := savepointSQL(verb, op.Savepoint)
	if err := s.savepointExec(ctx, sql); err != nil {
		return "", err
	}
	switch op.Kind {
	case translate.TxSavepoint:
		s.savepoints = append(s.savepoints, op.Savepoint)
		return "SAVEPOINT", nil
	case translate.TxRelease:
		s.savepoints = s.savepoints[:pos]
		return "RELEASE", nil
	}
	s.savepoints = s.savepoints[:pos+1]
	s.state = txOpen
	return "ROLLBACK", nil
}

func (s *session) savepointExec(ctx context.Context, sql string) error {
	if s.forwarding() {
		_, err := s.up.Exec(ctx, sql, nil, nil, discardRows, nil)
		return err
	}
	if s.readOnly {
		conn, err := s.readTxConn(ctx)
		if err != nil {
			return err
		}
		return mapError(conn.execScript(ctx, sql), nil)
	}
	tx, err := s.writeTxn(ctx)
	if errors.Is(err, ErrNotLeader) && s.e.getForwarder() != nil {
		if err := s.startForwarding(ctx); err != nil {
			return clientError(err)
		}
		_, err = s.up.Exec(ctx, sql, nil, nil, discardRows, nil)
		return err
	}
	if err != nil {
		return clientError(err)
	}
	_, err = tx.Exec(ctx, stmtRecord{Steps: []stepRecord{{SQL: sql}}}, true, nil)
	return mapError(err, nil)
}

// forwardedTxControl handles transaction control while the block runs on
// the leader: the leader decides, the local block state follows.
func (s *session) forwardedTxControl(ctx context.Context, st *statement, op *translate.TxOp, params []any,
	w pgwire.ResultWriter) (string, error) {
	switch op.Kind {
	case translate.TxBegin:
		w.Notice(warning(pgerr.ActiveSQLTransaction, "there is already a transaction in progress"))
		return "BEGIN", nil
	case translate.TxCommit, translate.TxRollback:
		sql := "COMMIT"
		if op.Kind == translate.TxRollback {
			sql = "ROLLBACK"
		}
		tag, err := s.endForwardedBlock(ctx, sql)
		s.endBlock(err == nil && tag == "COMMIT")
		s.resetBlock()
		if err == nil {
			s.catchUp(ctx)
		}
		return tag, err
	}
	return s.savepoint(ctx, op)
}
