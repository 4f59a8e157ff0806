package sqlengine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// SQL-level PREPARE/EXECUTE/DEALLOCATE, DISCARD, SHOW ALL and SET LOCAL:
// session state that never touches the log.

// maxSQLPrepared bounds a session's SQL-level prepared statements.
const maxSQLPrepared = 10000

func (s *session) prepareSQL(op *translate.PrepareOp, text string) (string, error) {
	if _, exists := s.prepared[op.Name]; exists {
		return "", pgerr.New(pgerr.DuplicatePreparedStatement, "prepared statement %q already exists", op.Name)
	}
	if len(s.prepared) >= maxSQLPrepared {
		return "", pgerr.New(pgerr.ProgramLimitExceeded, "too many prepared statements (limit %d)", maxSQLPrepared)
	}
	st := &statement{s: s, raw: op.Query, paramOIDs: op.Params, preparedAt: time.Now(), prepareText: text}
	if err := st.translate(); err != nil {
		return "", err
	}
	if s.prepared == nil {
		s.prepared = map[string]*statement{}
	}
	s.prepared[op.Name] = st
	return "PREPARE", nil
}

// StatementPrepared records a protocol-level named statement (Parse with a
// name), so pg_prepared_statements lists it as PostgreSQL does; pgwire
// calls it when it keeps a named statement.
func (s *session) StatementPrepared(name string, st pgwire.Statement) {
	if s.protoStmts == nil {
		s.protoStmts = map[string]*statement{}
	}
	if ps, ok := st.(*statement); ok && name != "" {
		ps.preparedAt = time.Now()
		s.protoStmts[name] = ps
	}
}

// StatementClosed forgets a protocol-level named statement.
func (s *session) StatementClosed(name string) { delete(s.protoStmts, name) }

// preparedList is pg_prepared_statements' rows, sorted by name.
func (s *session) preparedList() []translate.PreparedStatement {
	var out []translate.PreparedStatement
	add := func(name string, st *statement, fromSQL bool) {
		types := make([]string, 0, len(st.paramOIDs))
		if st.plan != nil {
			for _, p := range st.plan.Params {
				types = append(types, catalog.FormatType(p, -1))
			}
		}
		text := st.raw.SQL
		if st.prepareText != "" {
			text = st.prepareText // PostgreSQL lists the PREPARE command itself
		}
		out = append(out, translate.PreparedStatement{Name: name, SQL: text, ParamTypes: types, FromSQL: fromSQL,
			Prepared: st.preparedAt.UTC().Format(sqltype.TimestampLayout)})
	}
	for name, st := range s.prepared {
		add(name, st, true)
	}
	for name, st := range s.protoStmts {
		add(name, st, false)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// preparedStatement returns a SQL-level prepared statement by name.
func (s *session) preparedStatement(name string) (*statement, error) {
	st, ok := s.prepared[name]
	if !ok {
		return nil, pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", name)
	}
	return st, nil
}

// describeExecute gives an EXECUTE plan the result columns of the
// statement it runs, so RowDescription is right.
func (s *session) describeExecute(plan *translate.Plan) error {
	st, err := s.preparedStatement(plan.Execute.Name)
	if err != nil {
		return err
	}
	p, err := st.current()
	if err != nil {
		return err
	}
	plan.Columns = p.Columns
	return nil
}

func (s *session) executeSQL(ctx context.Context, op *translate.ExecuteOp, emit func([]any) error,
	w pgwire.ResultWriter) (string, error) {
	st, err := s.preparedStatement(op.Name)
	if err != nil {
		return "", err
	}
	plan, err := st.current()
	if err != nil {
		return "", err
	}
	if len(op.Params) != len(plan.Params) {
		return "", pgerr.New(pgerr.SyntaxError, "wrong number of parameters for prepared statement %q", op.Name).
			WithDetail("Expected %d parameters but got %d.", len(plan.Params), len(op.Params))
	}
	return s.dispatch(ctx, st, plan, op.Params, emit, w)
}

func (s *session) deallocateSQL(op *translate.DeallocateOp) (string, error) {
	if op.All {
		s.prepared = nil
		return "DEALLOCATE ALL", nil
	}
	if _, err := s.preparedStatement(op.Name); err != nil {
		return "", err
	}
	delete(s.prepared, op.Name)
	return "DEALLOCATE", nil
}

// discard implements DISCARD: ALL resets the session as a connection pool
// expects (prepared statements, settings, advisory locks).
func (s *session) discard(ctx context.Context, plan *translate.Plan) (string, error) {
	if plan.Discard == "ALL" && s.inBlock() {
		return "", pgerr.New(pgerr.ActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
	}
	if plan.Discard == "ALL" || plan.Discard == "TEMP" {
		if err := s.discardTemp(ctx); err != nil {
			return "", err
		}
	}
	if plan.Discard != "ALL" {
		return plan.Tag, nil // no plan cache or sequence cache to drop
	}
	s.prepared, s.cursors = nil, nil
	if err := s.settings.set(&translate.SetOp{Reset: true, All: true}); err != nil {
		return "", err
	}
	s.releaseAdvisory(false)
	s.advisoryLost.Store(false)
	return plan.Tag, nil
}

func (s *session) showSQL(plan *translate.Plan, emit func([]any) error) (string, error) {
	if plan.Show.Name != "all" {
		v, err := s.settings.get(plan.Show.Name)
		if err != nil {
			return "", err
		}
		return "SHOW", emit([]any{v})
	}
	for _, kv := range s.settings.list() {
		if err := emit([]any{kv[0], displayValue(kv[0], kv[1]), ""}); err != nil {
			return "", err
		}
	}
	return "SHOW", nil
}

// setSQL applies SET/RESET. Inside a transaction block the previous value
// is remembered: SET LOCAL reverts at the block's end, any SET reverts when
// the block rolls back.
func (s *session) setSQL(plan *translate.Plan, emit func([]any) error, w pgwire.ResultWriter) (string, error) {
	op := plan.Set
	if len(plan.Columns) > 0 { // SELECT set_config(…): the new value is the result
		if !op.Local || s.inBlock() {
			if s.inBlock() {
				s.rememberSettings(op)
			}
			if err := s.settings.set(op); err != nil {
				return "", err
			}
		}
		value := op.Value // SET LOCAL outside a block lasts no longer than the statement
		if !op.Local || s.inBlock() {
			value = displayValue(op.Name, s.settings.values[op.Name])
		}
		if err := emit([]any{value}); err != nil {
			return "", err
		}
		return "SELECT 1", nil
	}
	if op.Local && !s.inBlock() {
		w.Notice(warning(pgerr.NoActiveSQLTransaction, "SET LOCAL can only be used in transaction blocks"))
		return plan.Tag, nil
	}
	for _, o := range append([]translate.SetOp{*op}, op.Next...) {
		if s.inBlock() {
			s.rememberSettings(&o)
		}
		if err := s.settings.set(&o); err != nil {
			return "", err
		}
		if o.Name == "transaction_read_only" && s.inBlock() {
			s.readOnly = s.settings.values["transaction_read_only"] == "on"
		}
	}
	return plan.Tag, nil
}

// beginSettings sets the transaction's characteristics at BEGIN.
func (s *session) beginSettings(op *translate.TxOp) error {
	iso := s.settings.values["default_transaction_isolation"]
	if op.Isolation != "" {
		v, err := isolationLevel(op.Isolation)
		if err != nil {
			return err
		}
		iso = v
	}
	s.settings.values["transaction_isolation"] = iso
	s.settings.values["transaction_read_only"] = map[bool]string{true: "on", false: "off"}[s.readOnly]
	return nil
}

// endTransactionSettings returns the transaction characteristics to the
// session defaults when a block ends.
func (s *session) endTransactionSettings() {
	s.settings.values["transaction_isolation"] = s.settings.values["default_transaction_isolation"]
	s.settings.values["transaction_read_only"] = s.settings.values["default_transaction_read_only"]
}

func (s *session) rememberSettings(op *translate.SetOp) {
	if s.savedSettings == nil {
		s.savedSettings = map[string]savedSetting{}
	}
	names := []string{normalizeSetting(op.Name)}
	if op.All {
		names = names[:0]
		for name := range s.settings.values {
			names = append(names, name)
		}
	}
	for _, name := range names {
		prev, ok := s.savedSettings[name]
		if !ok {
			v, had := s.settings.values[name]
			prev = savedSetting{value: v, had: had}
		}
		prev.local = prev.local || op.Local
		s.savedSettings[name] = prev
	}
}

// savedSetting is a setting's value before the transaction block changed it.
type savedSetting struct {
	value string
	had   bool
	local bool // a SET LOCAL touched it
}

func normalizeSetting(name string) string {
	name = strings.ToLower(name)
	if name == "time zone" {
		return "timezone"
	}
	return name
}

// endBlockSettings restores settings when a transaction block ends.
func (s *session) endBlockSettings(committed bool) {
	for name, prev := range s.savedSettings {
		if committed && !prev.local {
			continue
		}
		if !prev.had {
			delete(s.settings.values, name)
			continue
		}
		op := &translate.SetOp{Name: name, Value: prev.value}
		if err := s.settings.set(op); err != nil {
			s.settings.values[name] = prev.value
		}
	}
	s.savedSettings = nil
}
