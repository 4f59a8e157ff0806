package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Statements the session carries out itself: SQL-level prepared
// statements, DISCARD, SHOW ALL and the advisory lock functions.

func (t *translator) prepare(ps *pg.PrepareStmt) (*Plan, error) {
	types := make([]uint32, 0, len(ps.Argtypes))
	for _, n := range ps.Argtypes {
		oid, _, err := t.resolveTypeName(n.GetTypeName())
		if err != nil {
			return nil, err
		}
		types = append(types, oid)
	}
	switch ps.Query.Node.(type) {
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt:
	default:
		return nil, pgerr.Unsupported("PREPARE of " + statementName(ps.Query))
	}
	// Translate now so that errors surface at PREPARE, as in PostgreSQL.
	if _, err := Translate(t.cat, ps.Query, types, t.opts); err != nil {
		return nil, err
	}
	sql := deparseQuery(ps.Query)
	return &Plan{Kind: KindPrepare, Tag: "PREPARE",
		Prepare: &PrepareOp{Name: ps.Name, Query: RawStatement{Node: ps.Query, SQL: sql}, Params: types}}, nil
}

func (t *translator) execute(es *pg.ExecuteStmt) (*Plan, error) {
	op := &ExecuteOp{Name: es.Name}
	for _, n := range es.Params {
		v, err := constValue(n)
		if err != nil {
			return nil, err
		}
		op.Params = append(op.Params, v)
	}
	return &Plan{Kind: KindExecute, Tag: "EXECUTE", Execute: op}, nil
}

// constValue evaluates a constant EXECUTE argument into PostgreSQL text
// form (nil for NULL).
func constValue(n *pg.Node) (any, error) {
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		if x.AConst.Isnull {
			return nil, nil
		}
		switch v := x.AConst.Val.(type) {
		case *pg.A_Const_Sval:
			return v.Sval.Sval, nil
		case *pg.A_Const_Ival:
			return strconv.Itoa(int(v.Ival.Ival)), nil
		case *pg.A_Const_Fval:
			return v.Fval.Fval, nil
		case *pg.A_Const_Boolval:
			return strconv.FormatBool(v.Boolval.Boolval), nil
		}
	case *pg.Node_TypeCast:
		return constValue(x.TypeCast.Arg)
	case *pg.Node_AExpr:
		if x.AExpr.Lexpr == nil && len(x.AExpr.Name) == 1 && strVal(x.AExpr.Name[0]) == "-" {
			v, err := constValue(x.AExpr.Rexpr)
			if s, ok := v.(string); ok && err == nil {
				return "-" + s, nil
			}
		}
	}
	return nil, pgerr.Unsupported("EXECUTE with a non-constant parameter")
}

func (t *translator) deallocate(ds *pg.DeallocateStmt) (*Plan, error) {
	tag := "DEALLOCATE"
	if ds.Name == "" {
		tag = "DEALLOCATE ALL"
	}
	return &Plan{Kind: KindDeallocate, Tag: tag, Deallocate: &DeallocateOp{Name: ds.Name, All: ds.Name == ""}}, nil
}

func (t *translator) discard(ds *pg.DiscardStmt) (*Plan, error) {
	target := map[pg.DiscardMode]string{pg.DiscardMode_DISCARD_ALL: "ALL", pg.DiscardMode_DISCARD_PLANS: "PLANS",
		pg.DiscardMode_DISCARD_SEQUENCES: "SEQUENCES", pg.DiscardMode_DISCARD_TEMP: "TEMP"}[ds.Target]
	if target == "" {
		return nil, pgerr.Unsupported("this DISCARD")
	}
	return &Plan{Kind: KindDiscard, Tag: "DISCARD " + target, Discard: target}, nil
}

func (t *translator) show(vs *pg.VariableShowStmt) (*Plan, error) {
	name := strings.ToLower(vs.Name)
	plan := &Plan{Kind: KindShow, Tag: "SHOW", Show: &ShowOp{Name: name}}
	if name == "all" {
		plan.Columns = []Column{{Name: "name", Type: text, TypMod: -1}, {Name: "setting", Type: text, TypMod: -1},
			{Name: "description", Type: text, TypMod: -1}}
		return plan, nil
	}
	col := name
	switch name {
	case "time zone", "timezone":
		col = "TimeZone"
	case "transaction isolation level":
		col = "transaction_isolation"
	case "datestyle":
		col = "DateStyle"
	case "intervalstyle":
		col = "IntervalStyle"
	}
	plan.Columns = []Column{{Name: col, Type: text, TypMod: -1}}
	return plan, nil
}

// advisoryFuncs are the advisory lock functions the session implements.
var advisoryFuncs = map[string]AdvisoryOp{
	"pg_advisory_lock":                 {},
	"pg_advisory_lock_shared":          {Shared: true},
	"pg_try_advisory_lock":             {Try: true},
	"pg_try_advisory_lock_shared":      {Try: true, Shared: true},
	"pg_advisory_xact_lock":            {Xact: true},
	"pg_advisory_xact_lock_shared":     {Xact: true, Shared: true},
	"pg_try_advisory_xact_lock":        {Try: true, Xact: true},
	"pg_try_advisory_xact_lock_shared": {Try: true, Xact: true, Shared: true},
	"pg_advisory_unlock":               {Unlock: true},
	"pg_advisory_unlock_shared":        {Unlock: true, Shared: true},
	"pg_advisory_unlock_all":           {Unlock: true, All: true},
}

// advisoryPlan recognises SELECT pg_advisory_…(key): a select list of one
// advisory lock call and nothing else. It returns nil for other queries.
func (t *translator) advisoryPlan(sel *pg.SelectStmt) (*Plan, error) {
	if len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil || sel.WithClause != nil ||
		sel.Op != pg.SetOperation_SETOP_NONE || len(sel.ValuesLists) > 0 {
		return nil, nil
	}
	rt := sel.TargetList[0].GetResTarget()
	fc, ok := rt.Val.Node.(*pg.Node_FuncCall)
	if !ok {
		return nil, nil
	}
	parts := names(fc.FuncCall.Funcname)
	name := parts[len(parts)-1]
	spec, ok := advisoryFuncs[name]
	if !ok || len(parts) > 1 && parts[0] != "pg_catalog" {
		return nil, nil
	}
	op := spec
	op.Func = name
	want := "1 or 2"
	if op.All {
		want = "0"
	}
	if op.All && len(fc.FuncCall.Args) != 0 || !op.All && (len(fc.FuncCall.Args) < 1 || len(fc.FuncCall.Args) > 2) {
		return nil, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist (it takes %s)",
			name, len(fc.FuncCall.Args), want)
	}
	argType := int8
	if len(fc.FuncCall.Args) == 2 {
		argType = int4
	}
	for _, a := range fc.FuncCall.Args {
		arg, err := t.advisoryArg(a, argType)
		if err != nil {
			return nil, err
		}
		op.Args = append(op.Args, arg)
	}
	colName := name
	if rt.Name != "" {
		colName = rt.Name
	}
	typ := pgval.OID(pgval.VoidOID)
	if op.Try || op.Unlock && !op.All {
		typ = boolT
	}
	return &Plan{Kind: KindAdvisory, Tag: "SELECT", Advisory: &op,
		Columns: []Column{{Name: colName, Type: typ, TypMod: -1}}}, nil
}

func (t *translator) advisoryArg(n *pg.Node, typ pgval.OID) (AdvisoryArg, error) {
	if tc, ok := n.Node.(*pg.Node_TypeCast); ok {
		n = tc.TypeCast.Arg
	}
	switch x := n.Node.(type) {
	case *pg.Node_ParamRef:
		p := int(x.ParamRef.Number)
		if err := t.noteParam(p); err != nil {
			return AdvisoryArg{}, err
		}
		if t.params[p-1] == pgval.Unspecified || t.params[p-1] == pgval.UnknownOID {
			t.params[p-1] = typ
		}
		return AdvisoryArg{Param: p}, nil
	}
	v, err := constValue(n)
	if err != nil {
		return AdvisoryArg{}, pgerr.Unsupported("advisory lock keys that are not constants or parameters")
	}
	if v == nil {
		return AdvisoryArg{Null: true}, nil
	}
	k, err := strconv.ParseInt(v.(string), 10, 64)
	if err != nil {
		return AdvisoryArg{}, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type bigint: %q", v)
	}
	return AdvisoryArg{Const: k}, nil
}

// fnAdvisoryElsewhere refuses advisory lock calls the session cannot see:
// inside a larger query their locks would be taken on a read connection.
func fnAdvisoryElsewhere(_ *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	return expr{}, pgerr.Unsupported(funcName(fc) + " anywhere but alone in SELECT " + funcName(fc) + "(…)")
}

func advisoryFunctionTable() map[string]fnSpec {
	out := map[string]fnSpec{}
	for name := range advisoryFuncs {
		out[name] = fnSpec{special: fnAdvisoryElsewhere}
	}
	return out
}

// Cursor option bits (nodes/parsenodes.h).
const cursorOptHold = 0x0020

func (t *translator) declareCursor(dc *pg.DeclareCursorStmt) (*Plan, error) {
	if w := dc.Query.GetSelectStmt().GetWithClause(); w != nil && hasModifying(w) {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "DECLARE CURSOR must not contain data-modifying statements in WITH")
	}
	q, err := t.statement(dc.Query)
	if err != nil {
		return nil, err
	}
	if q.Kind != KindQuery || t.volatile {
		return nil, pgerr.Unsupported("DECLARE CURSOR for a statement that is not a read-only SELECT")
	}
	return &Plan{Kind: KindDeclare, Tag: "DECLARE CURSOR",
		Cursor: &CursorOp{Name: dc.Portalname, Hold: dc.Options&cursorOptHold != 0, Query: q}}, nil
}

func fetchCursor(fs *pg.FetchStmt) *Plan {
	dir := map[pg.FetchDirection]string{pg.FetchDirection_FETCH_FORWARD: "forward", pg.FetchDirection_FETCH_BACKWARD: "backward",
		pg.FetchDirection_FETCH_ABSOLUTE: "absolute", pg.FetchDirection_FETCH_RELATIVE: "relative"}[fs.Direction]
	if dir == "" {
		dir = "forward"
	}
	tag := "FETCH"
	if fs.Ismove {
		tag = "MOVE"
	}
	return &Plan{Kind: KindFetch, Tag: tag,
		Cursor: &CursorOp{Name: fs.Portalname, Direction: dir, Count: fs.HowMany, Move: fs.Ismove}}
}
