package sqlengine

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Forwarder connects a follower's session to the leader. A session whose
// work needs the writer (a write, or any statement of a read-write
// transaction block) and finds this node is not the leader sends that work
// — the whole transaction block — to the leader through an Upstream.
// Linearizable reads outside a block never need it: they run locally after
// a ReadIndex barrier.
type Forwarder interface {
	Open(ctx context.Context, info ForwardInfo) (Upstream, error)
}

// ForwardInfo describes the session being forwarded.
type ForwardInfo struct {
	User, Database string
	// Settings are the session's values the leader must use too.
	Settings map[string]string
}

// Upstream is one connection to the leader.
type Upstream interface {
	// Exec runs one statement with parameters (pgval value model) and
	// returns its command tag; rows go to emit, notices to notice.
	Exec(ctx context.Context, sql string, paramOIDs []uint32, params []any,
		emit func([]any) error, notice func(*pgerr.Error)) (string, error)
	// Describe prepares the statement on the leader (unnamed, inside the
	// forwarded transaction) and returns its parameter types and columns.
	Describe(ctx context.Context, sql string, paramOIDs []uint32) ([]uint32, []pgwire.Column, error)
	// Close ends the connection (an open transaction on the leader is rolled back).
	Close()
}

// SetForwarder installs the forwarder (nil: followers refuse writes).
func (e *Engine) SetForwarder(f Forwarder) { e.forwarder.Store(&f) }

func (e *Engine) getForwarder() Forwarder {
	if f := e.forwarder.Load(); f != nil {
		return *f
	}
	return nil
}

// forwarding reports whether the session's current work goes to the leader.
func (s *session) forwarding() bool { return s.up != nil && s.upActive }

// startForwarding opens (or reuses) the upstream and, inside a block,
// begins the transaction on the leader (re-creating its savepoints).
func (s *session) startForwarding(ctx context.Context) error {
	f := s.e.getForwarder()
	if f == nil {
		return clientError(ErrNotLeader)
	}
	if s.up == nil {
		up, err := f.Open(ctx, ForwardInfo{User: s.info.User, Database: s.info.Database, Settings: s.forwardedSettings()})
		if err != nil {
			return err
		}
		s.up = up
	}
	s.upActive, s.upChanged = true, false
	if s.inBlock() {
		if _, err := s.up.Exec(ctx, "BEGIN", nil, nil, discardRows, nil); err != nil {
			s.dropUpstream()
			return err
		}
		for _, sp := range s.savepoints {
			if _, err := s.up.Exec(ctx, savepointSQL("SAVEPOINT", sp), nil, nil, discardRows, nil); err != nil {
				s.dropUpstream()
				return err
			}
		}
	}
	return nil
}

func discardRows([]any) error { return nil }

// leaderDescribeTimeout bounds describeOnLeader's round trip: a statement
// is described outside any client deadline (at Parse), and a leader that
// does not answer must not hang the session.
const leaderDescribeTimeout = 10 * time.Second

// needsLeaderDescription reports whether a statement must be described by
// the leader: it runs in a forwarded block and either this node could not
// translate it or the block changed the schema since it began — the block
// may have created or changed what the statement names, and only the
// leader's open transaction can see that. Transaction control and session
// statements stay local.
func (s *session) needsLeaderDescription(plan *translate.Plan, err error) bool {
	if !s.forwarding() || !s.inBlock() {
		return false
	}
	return err != nil || s.upChanged && (plan.Kind == translate.KindQuery || plan.Kind == translate.KindWrite)
}

// describeOnLeader builds the plan of a statement for which
// needsLeaderDescription holds. The plan only describes; execution forwards
// the text (see dispatchOrForward), and the leader's answer — a
// description or the error PostgreSQL would give — is authoritative.
func (s *session) describeOnLeader(ctx context.Context, st *statement, cat *catalog.Catalog) (*translate.Plan, error) {
	params, cols, err := s.up.Describe(ctx, st.raw.SQL, st.paramOIDs)
	var pe *pgerr.Error
	if err != nil && !errors.As(err, &pe) {
		s.dropUpstream()
		return nil, pgerr.Wrap(err, pgerr.TransactionResolutionUnknown,
			"lost the connection to the leader; the transaction's outcome is unknown")
	}
	if err != nil {
		return nil, err
	}
	plan := &translate.Plan{Kind: translate.KindWrite, CatalogVersion: cat.Version}
	for _, p := range params {
		plan.Params = append(plan.Params, pgval.OID(p))
	}
	for _, c := range cols {
		plan.Columns = append(plan.Columns, translate.Column{Name: c.Name, Type: c.TypeOID, TableOID: c.TableOID,
			Attnum: c.AttrNum, TypMod: c.TypeModifier})
	}
	return plan, nil
}

func (s *session) forwardedSettings() map[string]string {
	out := map[string]string{}
	for _, name := range []string{"timezone", "search_path", "application_name", "statement_timeout"} {
		out[name] = s.settings.values[name]
	}
	return out
}

// forward runs the statement on the leader.
func (s *session) forward(ctx context.Context, st *statement, params []any, emit func([]any) error,
	w pgwire.ResultWriter) (string, error) {
	tag, err := s.up.Exec(ctx, st.raw.SQL, st.ParamOIDs(), params, emit, w.Notice)
	var pe *pgerr.Error
	if err != nil && !errors.As(err, &pe) {
		// The connection to the leader broke: whatever was open there is gone.
		s.dropUpstream()
		return "", pgerr.Wrap(err, pgerr.TransactionResolutionUnknown,
			"lost the connection to the leader; the statement's outcome is unknown")
	}
	return tag, err
}

// endForwardedBlock finishes a forwarded block on the leader (COMMIT or
// ROLLBACK) and returns the leader's tag and answer.
func (s *session) endForwardedBlock(ctx context.Context, sql string) (string, error) {
	s.upActive, s.upChanged = false, false
	tag, err := s.up.Exec(ctx, sql, nil, nil, discardRows, nil)
	var pe *pgerr.Error
	if err != nil && !errors.As(err, &pe) {
		s.dropUpstream()
		if sql == "COMMIT" {
			return "", pgerr.Wrap(err, pgerr.TransactionResolutionUnknown,
				"lost the connection to the leader during COMMIT; the transaction may or may not have committed")
		}
		return sql, nil
	}
	return tag, err
}

// dispatchOrForward runs a query or write locally or, when it needs the
// leader and this node is not, on the leader.
func (s *session) dispatchOrForward(ctx context.Context, st *statement, plan *translate.Plan, params []any,
	emit func([]any) error, w pgwire.ResultWriter) (string, error) {
	if s.forwarding() {
		if plan.TempTable != "" {
			return "", errTempOnFollower()
		}
		s.upChanged = s.upChanged || plan.SchemaChange
		return s.forward(ctx, st, params, emit, w)
	}
	if st.onLeader {
		// Described by the leader for a block that has ended since.
		return "", pgerr.New(pgerr.FeatureNotSupported,
			"statement prepared inside a forwarded transaction block cannot run after the block ended").
			WithHint("Prepare it again.")
	}
	var tag string
	var err error
	if plan.Kind == translate.KindQuery {
		tag, err = s.runQueryOnFreshPlan(ctx, st, plan, params, emit)
	} else if err = s.clearLeftoverTemp(ctx, plan); err == nil {
		tag, err = s.runWrite(ctx, st, plan, params, emit) // re-translated if a leftover was dropped
	}
	if err == nil {
		s.noteTemp(plan)
	}
	if !errors.Is(err, ErrNotLeader) || s.tx != nil || s.e.getForwarder() == nil {
		return tag, clientError(err)
	}
	if plan.TempTable != "" {
		return "", errTempOnFollower()
	}
	if err := s.startForwarding(ctx); err != nil {
		if errors.Is(err, ErrLeaderIsLocal) {
			return s.writeOnceLeader(ctx, st, plan, params, emit)
		}
		return "", clientError(err)
	}
	s.upChanged = plan.SchemaChange
	tag, err = s.forward(ctx, st, params, emit, w)
	if !s.inBlock() {
		s.upActive = false
		if err == nil {
			s.catchUp(ctx)
		}
	}
	return tag, err
}

// writeOnceLeader runs a write that found the engine not (yet) leading
// while consensus has already elected this node: the engine learns of it
// once the new term's first entry applies. Nothing ran, so running it again
// is safe; the wait is bounded by the commit timeout.
func (s *session) writeOnceLeader(ctx context.Context, st *statement, plan *translate.Plan, params []any,
	emit func([]any) error) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.e.writer.cfg.CommitTimeout)
	defer cancel()
	if err := s.e.writer.WaitLeader(ctx); err != nil {
		if ctx.Err() != nil {
			err = ErrNotLeader
		}
		return "", clientError(err)
	}
	tag, err := s.runWrite(ctx, st, plan, params, emit)
	return tag, clientError(err)
}

// runQueryOnFreshPlan runs a query; when its read barrier applied schema changes, the
// statement is translated again (a plan whose result columns changed fails
// as PostgreSQL fails a cached plan) and run behind a new barrier.
func (s *session) runQueryOnFreshPlan(ctx context.Context, st *statement, plan *translate.Plan, params []any,
	emit func([]any) error) (string, error) {
	const maxSchemaRetries = 3
	for range maxSchemaRetries {
		tag, err := s.runQuery(ctx, plan, plan.CatalogVersion, params, emit)
		if !errors.Is(err, errSchemaMoved) {
			return tag, err
		}
		if plan, err = st.current(); err != nil {
			return "", err
		}
	}
	return "", pgerr.New(pgerr.SerializationFailure, "the schema kept changing while the statement waited for its read barrier").
		WithHint("Retry the statement.")
}

// catchUp waits until this node applied what the leader had committed when
// the forwarded work finished, so the session's next statements translate
// against the schema it just changed. Reads need no help (each runs behind
// its own barrier), and the work already committed: a failure here is not
// the statement's failure.
func (s *session) catchUp(ctx context.Context) {
	if err := s.e.readBarrier(ctx); err != nil {
		s.e.log.Debug("sqlengine: catch-up after forwarded work", zap.Error(err))
	}
}

func (s *session) dropUpstream() {
	if s.up != nil {
		s.up.Close()
	}
	s.up, s.upActive, s.upChanged = nil, false, false
}
