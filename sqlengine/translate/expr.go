package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// expr is a translated expression.
type expr struct {
	sql   string
	typ   pgval.OID // UnknownOID for an untyped literal, Unspecified for an untyped parameter
	mod   int32
	lit   *string // the text of an untyped string literal
	param int     // the parameter number of a bare $n
	null  bool    // the NULL literal
	col   *scopeCol
	name  string // the output column name PostgreSQL would choose
	agg   bool   // contains an aggregate call
	// numConst is the canonical text of a numeric constant (folded at
	// translation time).
	numConst string
	// row is set for a whole-row reference (t in SELECT row_to_json(t)).
	row []rowField
	// castName marks a name taken from a cast's type, which an outer cast
	// replaces.
	castName bool
}

// rowField is one column of a whole-row reference.
type rowField struct {
	name string
	e    expr
}

func typed(sql string, typ pgval.OID, name string) expr {
	return expr{sql: sql, typ: typ, mod: -1, name: name}
}

// expr translates a value expression.
func (t *translator) expr(s *scope, n *pg.Node) (expr, error) {
	if n == nil {
		return expr{}, pgerr.New(pgerr.InternalError, "missing expression")
	}
	if s != nil && s.gset != nil {
		if e, ok, err := t.groupingSetRef(s, n); ok {
			return e, err
		}
	}
	switch x := n.Node.(type) {
	case *pg.Node_GroupingFunc:
		return t.groupingFunc(s, x.GroupingFunc)
	case *pg.Node_AConst:
		return t.constant(x.AConst)
	case *pg.Node_ColumnRef:
		return t.columnRef(s, x.ColumnRef)
	case *pg.Node_ParamRef:
		return t.paramRef(x.ParamRef)
	case *pg.Node_AExpr:
		return t.aExpr(s, x.AExpr)
	case *pg.Node_BoolExpr:
		return t.boolOp(s, x.BoolExpr)
	case *pg.Node_FuncCall:
		return t.funcCall(s, x.FuncCall)
	case *pg.Node_TypeCast:
		return t.typeCast(s, x.TypeCast)
	case *pg.Node_NullTest:
		return t.nullTest(s, x.NullTest)
	case *pg.Node_BooleanTest:
		return t.booleanTest(s, x.BooleanTest)
	case *pg.Node_CaseExpr:
		return t.caseExpr(s, x.CaseExpr)
	case *pg.Node_CoalesceExpr:
		return t.variadicSame(s, "coalesce", "coalesce", x.CoalesceExpr.Args)
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return t.variadicSame(s, "chr2_greatest", "greatest", x.MinMaxExpr.Args)
		}
		return t.variadicSame(s, "chr2_least", "least", x.MinMaxExpr.Args)
	case *pg.Node_SubLink:
		return t.subLink(s, x.SubLink)
	case *pg.Node_SqlvalueFunction:
		return t.sqlValueFunction(x.SqlvalueFunction)
	case *pg.Node_CollateClause:
		return t.expr(s, x.CollateClause.Arg)
	case *pg.Node_AArrayExpr:
		return t.arrayExpr(s, x.AArrayExpr)
	case *pg.Node_AIndirection:
		return t.indirection(s, x.AIndirection)
	}
	return expr{}, pgerr.Unsupported("expression " + nodeName(n))
}

func nodeName(n *pg.Node) string {
	name := strings.TrimPrefix(strings.TrimPrefix(typeName(n.Node), "*pg_query.Node_"), "*pg_query.")
	return name
}

// boolExpr translates an expression that must be boolean (WHERE, ON, …).
func (t *translator) boolExpr(s *scope, n *pg.Node, clause string) (string, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return "", err
	}
	if e.typ == pgval.UnknownOID || e.typ == pgval.Unspecified || e.null {
		e, err = t.coerce(e, pgval.BoolOID)
		if err != nil {
			return "", err
		}
	}
	if e.typ != pgval.BoolOID {
		return "", pgerr.New(pgerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s",
			clause, typeSQLName(e.typ))
	}
	return e.sql, nil
}

func typeSQLName(oid pgval.OID) string {
	if t, ok := pgval.Lookup(oid); ok {
		return t.SQLName
	}
	return "unknown"
}

func (t *translator) constant(c *pg.A_Const) (expr, error) {
	if c.Isnull {
		return expr{sql: "NULL", typ: pgval.UnknownOID, mod: -1, null: true, name: "?column?"}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return typed(strconv.FormatInt(int64(v.Ival.Ival), 10), pgval.Int4OID, "?column?"), nil
	case *pg.A_Const_Fval:
		return t.floatConst(v.Fval.Fval)
	case *pg.A_Const_Boolval:
		if v.Boolval.Boolval {
			return typed("1", pgval.BoolOID, "?column?"), nil
		}
		return typed("0", pgval.BoolOID, "?column?"), nil
	case *pg.A_Const_Sval:
		s := v.Sval.Sval
		return expr{sql: sqltype.QuoteString(s), typ: pgval.UnknownOID, mod: -1, lit: &s, name: "?column?"}, nil
	case *pg.A_Const_Bsval:
		return expr{}, pgerr.Unsupported("bit string literals")
	}
	return expr{}, pgerr.Unsupported("this constant")
}

// floatConst types a numeric literal the way PostgreSQL does: integers that
// overflow int4 are int8 (or numeric), anything with a point is numeric.
func (t *translator) floatConst(s string) (expr, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return typed(strconv.FormatInt(n, 10), pgval.Int8OID, "?column?"), nil
	}
	canon, err := pgval.ParseNumeric(s)
	if err != nil {
		return expr{}, err
	}
	return numericConst(canon), nil
}

func (t *translator) columnRef(s *scope, cr *pg.ColumnRef) (expr, error) {
	fields := make([]string, 0, len(cr.Fields))
	for _, f := range cr.Fields {
		if _, ok := f.Node.(*pg.Node_AStar); ok {
			return expr{}, pgerr.New(pgerr.SyntaxError, "* is not allowed here").WithPosition(cr.Location + 1)
		}
		fields = append(fields, strVal(f))
	}
	if s == nil {
		return expr{}, pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", fields[len(fields)-1]).
			WithPosition(cr.Location + 1)
	}
	item, c, err := t.resolveColumn(s, fields, cr.Location)
	if err != nil {
		if len(fields) == 1 {
			if e, ok := t.bareKeyword(fields[0]); ok {
				return e, nil
			}
			if e, ok := t.wholeRow(s, fields[0]); ok {
				return e, nil
			}
		}
		return expr{}, err
	}
	col := c
	return expr{sql: item.ref(c), typ: c.typ, mod: c.mod, col: &col, name: c.name}, nil
}

// bareKeyword handles identifiers PostgreSQL resolves as functions when no
// column has the name (current_user in some client queries).
func (t *translator) bareKeyword(name string) (expr, bool) {
	switch name {
	case "current_user", "session_user", "user", "current_role":
		return typed(sqltype.QuoteString(t.opts.User), pgval.NameOID, name), true
	}
	return expr{}, false
}

func (t *translator) paramRef(p *pg.ParamRef) (expr, error) {
	n := int(p.Number)
	if err := t.noteParam(n); err != nil {
		return expr{}, err
	}
	typ := t.params[n-1]
	e := expr{sql: "?" + strconv.Itoa(n), typ: typ, mod: -1, param: n, name: "?column?"}
	return e, nil
}

// coerce converts e to type target in an implicit (assignment) context.
func (t *translator) coerce(e expr, target pgval.OID) (expr, error) {
	if target == pgval.Unspecified || target == pgval.UnknownOID {
		return e, nil
	}
	if ty := t.enumType(target); ty != nil {
		return t.coerceEnum(e, ty, false) // enums.go
	}
	switch {
	case e.null:
		e.typ = target
		return e, nil
	case e.lit != nil:
		return t.coerceLiteral(e, target)
	case e.param > 0 && (e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID):
		t.params[e.param-1] = target
		e.typ = target
		return e, nil
	case e.typ == target:
		return e, nil
	}
	if implicitlyCompatible(e.typ, target) {
		out := e
		out.typ = target
		if needsConversion(e.typ, target) {
			return t.castExpr(e, target, -1)
		}
		return out, nil
	}
	return expr{}, pgerr.New(pgerr.DatatypeMismatch, "column is of type %s but expression is of type %s",
		typeSQLName(target), typeSQLName(e.typ)).WithHint("You will need to rewrite or cast the expression.")
}

// coerceLiteral converts an untyped string literal to target at translation time.
func (t *translator) coerceLiteral(e expr, target pgval.OID) (expr, error) {
	if special, ok := t.specialTimeLiteral(*e.lit, target); ok {
		special.name = e.name
		return special, nil
	}
	v, err := sqltype.ToStorage(target, *e.lit)
	if err != nil {
		return expr{}, err
	}
	if target == pgval.NumericOID {
		out := numericConst(v.(string))
		out.name = e.name
		return out, nil
	}
	out := e
	out.sql = sqltype.Literal(v)
	out.typ = target
	out.lit = nil
	return out, nil
}

// specialTimeLiteral handles 'now', 'today', … which PostgreSQL evaluates
// at statement time; here they read the deterministic context.
func (t *translator) specialTimeLiteral(s string, target pgval.OID) (expr, bool) {
	if !sqltype.IsTime(target) {
		return expr{}, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "now":
		return t.nowExpr(target), true
	case "today":
		return t.dateExpr(target, "0 days"), true
	case "tomorrow":
		return t.dateExpr(target, "1 days"), true
	case "yesterday":
		return t.dateExpr(target, "-1 days"), true
	}
	return expr{}, false
}

func (t *translator) nowExpr(target pgval.OID) expr {
	switch target {
	case pgval.DateOID:
		return typed("substr(chr2_now(), 1, 10)", pgval.DateOID, "now")
	case pgval.TimeOID:
		return typed("substr(chr2_now(), 12)", pgval.TimeOID, "now")
	}
	return typed("chr2_now()", target, "now")
}

func (t *translator) dateExpr(target pgval.OID, offset string) expr {
	day := "date(chr2_now(), '" + offset + "')"
	if target == pgval.DateOID {
		return typed(day, pgval.DateOID, "date")
	}
	return typed("("+day+" || ' 00:00:00.000000')", target, "timestamp")
}

// nullTest translates IS [NOT] NULL.
func (t *translator) nullTest(s *scope, nt *pg.NullTest) (expr, error) {
	e, err := t.expr(s, nt.Arg)
	if err != nil {
		return expr{}, err
	}
	op := " IS NULL"
	if nt.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
		op = " IS NOT NULL"
	}
	return expr{sql: "(" + e.sql + op + ")", typ: pgval.BoolOID, mod: -1, name: "?column?", agg: e.agg}, nil
}

func (t *translator) booleanTest(s *scope, bt *pg.BooleanTest) (expr, error) {
	e, err := t.exprAs(s, bt.Arg, pgval.BoolOID)
	if err != nil {
		return expr{}, err
	}
	var sql string
	switch bt.Booltesttype {
	case pg.BoolTestType_IS_TRUE:
		sql = "(" + e.sql + " IS 1)"
	case pg.BoolTestType_IS_NOT_TRUE:
		sql = "(" + e.sql + " IS NOT 1)"
	case pg.BoolTestType_IS_FALSE:
		sql = "(" + e.sql + " IS 0)"
	case pg.BoolTestType_IS_NOT_FALSE:
		sql = "(" + e.sql + " IS NOT 0)"
	case pg.BoolTestType_IS_UNKNOWN:
		sql = "(" + e.sql + " IS NULL)"
	default:
		sql = "(" + e.sql + " IS NOT NULL)"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: e.agg}, nil
}

func (t *translator) boolOp(s *scope, b *pg.BoolExpr) (expr, error) {
	parts := make([]string, 0, len(b.Args))
	agg := false
	for _, a := range b.Args {
		e, err := t.exprAs(s, a, pgval.BoolOID)
		if err != nil {
			return expr{}, err
		}
		if e.typ != pgval.BoolOID {
			return expr{}, pgerr.New(pgerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s",
				boolOpName(b.Boolop), typeSQLName(e.typ))
		}
		agg = agg || e.agg
		parts = append(parts, e.sql)
	}
	var sql string
	switch b.Boolop {
	case pg.BoolExprType_AND_EXPR:
		sql = "(" + strings.Join(parts, " AND ") + ")"
	case pg.BoolExprType_OR_EXPR:
		sql = "(" + strings.Join(parts, " OR ") + ")"
	default:
		sql = "(NOT " + parts[0] + ")"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: agg}, nil
}

func boolOpName(op pg.BoolExprType) string {
	switch op {
	case pg.BoolExprType_AND_EXPR:
		return "AND"
	case pg.BoolExprType_OR_EXPR:
		return "OR"
	}
	return "NOT"
}

func (t *translator) caseExpr(s *scope, c *pg.CaseExpr) (expr, error) {
	var b strings.Builder
	b.WriteString("CASE")
	var arg expr
	var err error
	if c.Arg != nil {
		if arg, err = t.expr(s, c.Arg); err != nil {
			return expr{}, err
		}
		b.WriteString(" " + arg.sql)
	}
	results := make([]expr, 0, len(c.Args)+1)
	conds := make([]string, 0, len(c.Args))
	agg := arg.agg
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		var cond string
		if c.Arg != nil {
			ce, err := t.expr(s, cw.Expr)
			if err != nil {
				return expr{}, err
			}
			_, ce, err = t.unify(arg, ce)
			if err != nil {
				return expr{}, err
			}
			cond = ce.sql
		} else if cond, err = t.boolExpr(s, cw.Expr, "CASE/WHEN"); err != nil {
			return expr{}, err
		}
		r, err := t.expr(s, cw.Result)
		if err != nil {
			return expr{}, err
		}
		agg = agg || r.agg
		conds = append(conds, cond)
		results = append(results, r)
	}
	hasElse := c.Defresult != nil
	if hasElse {
		r, err := t.expr(s, c.Defresult)
		if err != nil {
			return expr{}, err
		}
		results = append(results, r)
	}
	results, typ, err := t.unifyAll(results)
	if err != nil {
		return expr{}, err
	}
	for i, cond := range conds {
		b.WriteString(" WHEN " + cond + " THEN " + results[i].sql)
	}
	if hasElse {
		b.WriteString(" ELSE " + results[len(results)-1].sql)
	}
	b.WriteString(" END")
	return expr{sql: b.String(), typ: typ, mod: -1, name: "case", agg: agg}, nil
}

// variadicSame translates f(a, b, …) whose arguments share one type.
func (t *translator) variadicSame(s *scope, sqlFn, name string, args []*pg.Node) (expr, error) {
	es := make([]expr, 0, len(args))
	agg := false
	for _, a := range args {
		e, err := t.expr(s, a)
		if err != nil {
			return expr{}, err
		}
		agg = agg || e.agg
		es = append(es, e)
	}
	es, typ, err := t.unifyAll(es)
	if err != nil {
		return expr{}, err
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.sql
	}
	if sqlFn == "coalesce" && len(parts) == 1 {
		parts = append(parts, "NULL")
	}
	if ty := t.enumType(typ); ty != nil && sqlFn != "coalesce" {
		// greatest/least by declaration order (enums.go)
		for i, e := range es {
			parts[i] = enumSortKey(e.sql, ty)
		}
		sql := enumFromKey(sqlFn+"("+strings.Join(parts, ", ")+")", ty)
		return expr{sql: sql, typ: typ, mod: -1, name: name, agg: agg}, nil
	}
	return expr{sql: sqlFn + "(" + strings.Join(parts, ", ") + ")", typ: typ, mod: -1, name: name, agg: agg}, nil
}

// unifyAll resolves a common type for a list of expressions (CASE, COALESCE,
// VALUES, UNION) the way PostgreSQL's select_common_type does, simplified.
func (t *translator) unifyAll(es []expr) ([]expr, pgval.OID, error) {
	typ := pgval.Unspecified
	for _, e := range es {
		if e.lit != nil || e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID {
			continue
		}
		if typ == pgval.Unspecified {
			typ = e.typ
			continue
		}
		typ = widerType(typ, e.typ)
	}
	if typ == pgval.Unspecified {
		typ = pgval.TextOID
	}
	out := make([]expr, len(es))
	for i, e := range es {
		c, err := t.coerce(e, typ)
		if err != nil {
			return nil, 0, err
		}
		out[i] = c
	}
	return out, typ, nil
}

// widerType picks the common type of two typed expressions.
func widerType(a, b pgval.OID) pgval.OID {
	if a == b {
		return a
	}
	if sqltype.IsNumeric(a) && sqltype.IsNumeric(b) {
		return numericResult(a, b)
	}
	if sqltype.IsText(a) && sqltype.IsText(b) {
		return pgval.TextOID
	}
	if sqltype.IsTime(a) && sqltype.IsTime(b) {
		if a == pgval.TimestamptzOID || b == pgval.TimestamptzOID {
			return pgval.TimestamptzOID
		}
		return pgval.TimestampOID
	}
	if ea, eb := pgval.ArrayElem(a), pgval.ArrayElem(b); ea != 0 && eb != 0 {
		if ti, ok := pgval.Lookup(widerType(ea, eb)); ok && ti.Array != 0 {
			return ti.Array
		}
	}
	return a
}

// numericResult is the result type of arithmetic between two numeric types.
func numericResult(a, b pgval.OID) pgval.OID {
	rank := func(o pgval.OID) int {
		switch o {
		case pgval.Int2OID:
			return 1
		case pgval.Int4OID:
			return 2
		case pgval.Int8OID, pgval.OIDOID:
			return 3
		case pgval.NumericOID:
			return 4
		case pgval.Float4OID:
			return 5
		case pgval.Float8OID:
			return 6
		}
		return 0
	}
	if rank(a) >= rank(b) {
		return a
	}
	return b
}

// unify makes two operands of a binary operator the same type: an untyped
// side takes the other's type.
func (t *translator) unify(l, r expr) (expr, expr, error) {
	var err error
	lUntyped := l.null || l.lit != nil || l.typ == pgval.Unspecified || l.typ == pgval.UnknownOID
	rUntyped := r.null || r.lit != nil || r.typ == pgval.Unspecified || r.typ == pgval.UnknownOID
	switch {
	case lUntyped && rUntyped:
		if l, err = t.coerce(l, pgval.TextOID); err != nil {
			return l, r, err
		}
		r, err = t.coerce(r, pgval.TextOID)
	case lUntyped:
		l, err = t.coerce(l, r.typ)
	case rUntyped:
		r, err = t.coerce(r, l.typ)
	}
	return l, r, err
}

func (t *translator) sqlValueFunction(f *pg.SQLValueFunction) (expr, error) {
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		e := t.nowExpr(pgval.TimestamptzOID)
		e.name = "current_timestamp"
		return e, nil
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		e := t.nowExpr(pgval.TimestampOID)
		e.name = "localtimestamp"
		return e, nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		e := t.nowExpr(pgval.DateOID)
		e.name = "current_date"
		return e, nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N,
		pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		e := t.nowExpr(pgval.TimeOID)
		e.name = "current_time"
		return e, nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg.SQLValueFunctionOp_SVFOP_USER,
		pg.SQLValueFunctionOp_SVFOP_SESSION_USER, pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
		name := map[pg.SQLValueFunctionOp]string{
			pg.SQLValueFunctionOp_SVFOP_CURRENT_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_USER: "current_user",
			pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_role",
		}[f.Op]
		return typed(sqltype.QuoteString(t.opts.User), pgval.NameOID, name), nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return typed(sqltype.QuoteString(t.opts.Database), pgval.NameOID, "current_catalog"), nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		if len(t.opts.SearchPath) == 0 {
			return expr{sql: "NULL", typ: pgval.NameOID, mod: -1, null: true, name: "current_schema"}, nil
		}
		return typed(sqltype.QuoteString(t.opts.SearchPath[0]), pgval.NameOID, "current_schema"), nil
	}
	return expr{}, pgerr.Unsupported("this SQL value function")
}

func (t *translator) arrayExpr(s *scope, a *pg.A_ArrayExpr) (expr, error) {
	if len(a.Elements) == 0 {
		return expr{}, pgerr.New(pgerr.IndeterminateDatatype, "cannot determine type of empty array").
			WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
	}
	if isNestedArrayExpr(a) {
		return t.nestedArrayExpr(s, a) // arrays.go
	}
	es := make([]expr, 0, len(a.Elements))
	for _, el := range a.Elements {
		e, err := t.expr(s, el)
		if err != nil {
			return expr{}, err
		}
		es = append(es, e)
	}
	es, typ, err := t.unifyAll(es)
	if err != nil {
		return expr{}, err
	}
	if isArrayType(typ) {
		return nestArrays(es, typ), nil // arrays.go
	}
	ti, ok := pgval.Lookup(typ)
	if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("arrays of type " + typeSQLName(typ))
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.sql
	}
	sql := "chr2_array(" + strconv.Itoa(int(typ))
	if len(parts) > 0 {
		sql += ", " + strings.Join(parts, ", ")
	}
	return expr{sql: sql + ")", typ: ti.Array, mod: -1, name: "array"}, nil
}

// exprAs translates n and coerces it to typ (an argument of a known type).
func (t *translator) exprAs(s *scope, n *pg.Node, typ pgval.OID) (expr, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return expr{}, err
	}
	return t.coerce(e, typ)
}
