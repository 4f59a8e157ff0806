package translate

import (
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// aExpr translates operator expressions.
func (t *translator) aExpr(s *scope, a *pg.A_Expr) (expr, error) {
	op := ""
	if len(a.Name) > 0 {
		op = strVal(a.Name[len(a.Name)-1])
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			return t.unaryOp(s, op, a.Rexpr)
		}
		return t.binaryOp(s, op, a.Lexpr, a.Rexpr, a.Location)
	case pg.A_Expr_Kind_AEXPR_IN:
		return t.inList(s, a, op == "<>")
	case pg.A_Expr_Kind_AEXPR_LIKE:
		return t.like(s, a, op, false)
	case pg.A_Expr_Kind_AEXPR_ILIKE:
		return t.like(s, a, op, true)
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		// The parser wraps the pattern in similar_to_escape(): a regex.
		l, err := t.expr(s, a.Lexpr)
		if err != nil {
			return expr{}, err
		}
		r, err := t.expr(s, a.Rexpr)
		if err != nil {
			return expr{}, err
		}
		return t.regexMatch(op, l, r)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := t.operands(s, a.Lexpr, a.Rexpr)
		if err != nil {
			return expr{}, err
		}
		kw := " IS NOT "
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			kw = " IS "
		}
		return expr{sql: "(" + collatedSortKey(l) + kw + r.sql + ")", typ: pgval.BoolOID, mod: -1, name: "?column?",
			agg: l.agg || r.agg}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := t.operands(s, a.Lexpr, a.Rexpr)
		if err != nil {
			return expr{}, err
		}
		return expr{sql: "nullif(" + l.sql + ", " + r.sql + ")", typ: l.typ, mod: l.mod, name: "nullif", agg: l.agg || r.agg}, nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		return t.between(s, a)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return t.anyAll(s, a, op)
	}
	return expr{}, pgerr.Unsupported("operator kind " + a.Kind.String())
}

// operands translates and unifies the two sides of a comparison.
func (t *translator) operands(s *scope, ln, rn *pg.Node) (expr, expr, error) {
	l, err := t.expr(s, ln)
	if err != nil {
		return l, l, err
	}
	r, err := t.expr(s, rn)
	if err != nil {
		return l, r, err
	}
	return t.unify(l, r)
}

func (t *translator) unaryOp(s *scope, op string, rn *pg.Node) (expr, error) {
	r, err := t.expr(s, rn)
	if err != nil {
		return expr{}, err
	}
	switch op {
	case "-":
		if r.lit != nil {
			if r, err = t.coerce(r, pgval.NumericOID); err != nil {
				return expr{}, err
			}
		}
		if !sqltype.IsNumeric(r.typ) && r.typ != pgval.IntervalOID {
			return expr{}, opMissing("-", 0, r.typ)
		}
		switch {
		case r.numConst != "":
			r = numericConst(negateDecimal(r.numConst))
		case r.typ == pgval.NumericOID:
			r.sql = "chr2_num_neg(" + r.sql + ")"
		case r.typ == pgval.IntervalOID:
			r.sql = "chr2_interval_neg(" + r.sql + ")"
		case sqltype.IsInteger(r.typ):
			r.sql = "chr2_int_check((-" + r.sql + "), " + intBits(r.typ) + ")"
		default:
			r.sql = "(-" + r.sql + ")"
		}
		r.name, r.col = "?column?", nil
		return r, nil
	case "~":
		if !sqltype.IsInteger(r.typ) {
			return expr{}, opMissing("~", 0, r.typ)
		}
		r.sql = "(~" + r.sql + ")"
		r.name, r.col = "?column?", nil
		return r, nil
	case "+":
		return r, nil
	case "@":
		r.sql = "abs(" + r.sql + ")"
		return r, nil
	}
	return expr{}, pgerr.Unsupported("prefix operator " + op)
}

func opMissing(op string, l, r pgval.OID) error {
	if l == 0 {
		return pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s %s", op, typeSQLName(r)).
			WithHint("No operator matches the given name and argument type. You might need to add an explicit type cast.")
	}
	return pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s %s %s", typeSQLName(l), op, typeSQLName(r)).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

func (t *translator) binaryOp(s *scope, op string, ln, rn *pg.Node, loc int32) (expr, error) {
	if lr, rr := rowArgs(ln), rowArgs(rn); lr != nil && rr != nil {
		return t.rowComparison(s, op, lr, rr) // rowcmp.go
	}
	l, err := t.expr(s, ln)
	if err != nil {
		return expr{}, err
	}
	r, err := t.expr(s, rn)
	if err != nil {
		return expr{}, err
	}
	agg := l.agg || r.agg
	var out expr
	switch op {
	case "=", "<>", "!=", "<", ">", "<=", ">=":
		out, err = t.comparison(op, l, r)
	case "-":
		if l.typ == pgval.JSONBOID {
			out, err = t.jsonbDelete(l, r)
			break
		}
		out, err = t.arithmetic(op, l, r)
	case "+", "*", "/", "%":
		out, err = t.arithmetic(op, l, r)
	case "?", "?|", "?&":
		out, err = t.jsonbExists(op, l, r)
	case "#-":
		out, err = t.jsonbDeletePath(l, r)
	case "^":
		out, err = t.power(l, r)
	case "&", "|", "#", "<<", ">>":
		out, err = t.bitwise(op, l, r)
	case "||":
		out, err = t.concat(l, r)
	case "^@": // starts_with
		if l, err = t.coerce(l, pgval.TextOID); err == nil {
			r, err = t.coerce(r, pgval.TextOID)
		}
		if err == nil && (!sqltype.IsText(l.typ) || !sqltype.IsText(r.typ)) {
			return expr{}, opMissing(op, l.typ, r.typ)
		}
		out = expr{sql: "chr2_starts_with(" + l.sql + ", " + r.sql + ")", typ: pgval.BoolOID, mod: -1}
	case "~", "~*", "!~", "!~*":
		out, err = t.regexMatch(op, l, r)
	case "->", "->>", "#>", "#>>":
		out, err = t.jsonAccess(op, l, r)
	case "@>", "<@", "&&":
		if isArrayType(l.typ) || isArrayType(r.typ) {
			out, err = t.arrayContainsOp(op, l, r) // arrayfns.go
			break
		}
		if op == "&&" {
			return expr{}, opMissing(op, l.typ, r.typ)
		}
		out, err = t.jsonContains(op, l, r)
	default:
		return expr{}, pgerr.Unsupported("operator " + op)
	}
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && pe.Position == 0 {
			pe.Position = loc + 1
		}
		return expr{}, err
	}
	out.agg = agg
	if out.name == "" {
		out.name = "?column?"
	}
	return out, nil
}

func (t *translator) comparison(op string, l, r expr) (expr, error) {
	l, r, err := t.unify(l, r)
	if err != nil {
		return expr{}, err
	}
	if !comparable(l.typ, r.typ) {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	if op == "!=" {
		op = "<>"
	}
	if l.typ == pgval.NumericOID || r.typ == pgval.NumericOID {
		return t.numericComparison(op, l, r)
	}
	if es, ok := t.enumOrdered(op, l, r); ok {
		l, r = es[0], es[1]
	}
	if l.typ == pgval.IntervalOID && r.typ == pgval.IntervalOID {
		return expr{sql: "(" + collatedSortKey(l) + " " + op + " " + r.sql + ")", typ: pgval.BoolOID, mod: -1}, nil
	}
	if l.typ == pgval.JSONBOID && r.typ == pgval.JSONBOID {
		return expr{sql: "(chr2_jsonb_cmp(" + l.sql + ", " + r.sql + ") " + op + " 0)", typ: pgval.BoolOID, mod: -1}, nil
	}
	if l.typ == pgval.JSONOID || r.typ == pgval.JSONOID {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	if isArrayType(l.typ) {
		// Element-wise, as array_cmp (arrays.go).
		return expr{sql: "(" + arraySortKey(l) + " " + op + " " + r.sql + ")", typ: pgval.BoolOID, mod: -1}, nil
	}
	return expr{sql: "(" + l.sql + " " + op + " " + r.sql + ")", typ: pgval.BoolOID, mod: -1}, nil
}

// comparable reports whether PostgreSQL has a comparison operator between
// the two types (after implicit casts).
func comparable(a, b pgval.OID) bool {
	if a == b {
		return true
	}
	switch {
	case sqltype.IsNumeric(a) && sqltype.IsNumeric(b):
		return true
	case sqltype.IsText(a) && sqltype.IsText(b):
		return true
	case sqltype.IsTime(a) && sqltype.IsTime(b) && a != pgval.TimeOID && b != pgval.TimeOID:
		return true
	case isRegType(a) && (isRegType(b) || sqltype.IsInteger(b)):
		return true
	case isRegType(b) && sqltype.IsInteger(a):
		return true
	}
	return false
}

func isRegType(o pgval.OID) bool {
	switch o {
	case pgval.OIDOID, pgval.RegclassOID, pgval.RegtypeOID, pgval.RegprocOID, pgval.RegnamespaceOID, pgval.RegroleOID:
		return true
	}
	return false
}

func (t *translator) arithmetic(op string, l, r expr) (expr, error) {
	if sqltype.IsTime(l.typ) || sqltype.IsTime(r.typ) || l.typ == pgval.IntervalOID || r.typ == pgval.IntervalOID {
		return t.timeArithmetic(op, l, r)
	}
	var err error
	// An untyped side of arithmetic with a typed number takes its type.
	if l, r, err = t.unifyNumeric(l, r); err != nil {
		return expr{}, err
	}
	if !sqltype.IsNumeric(l.typ) || !sqltype.IsNumeric(r.typ) {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	typ := numericResult(l.typ, r.typ)
	if typ == pgval.NumericOID {
		return t.numericArithmetic(op, l, r)
	}
	if typ == pgval.Float4OID && l.typ != r.typ {
		typ = pgval.Float8OID // float4 with another number: PostgreSQL's float48 operators
	}
	rhs := r.sql
	if op == "/" || op == "%" {
		if !isNonZeroLiteral(r.sql) {
			rhs = "chr2_nonzero(" + r.sql + ")"
		}
	}
	if typ == pgval.Float8OID || typ == pgval.Float4OID {
		if op == "%" {
			return expr{}, opMissing(op, l.typ, r.typ)
		}
		// A numeric operand converts to float; integer division must not
		// happen between two converted integers.
		return expr{sql: "(CAST(" + l.sql + " AS REAL) " + op + " " + rhs + ")", typ: typ, mod: -1}, nil
	}
	sql := "(" + l.sql + " " + op + " " + rhs + ")"
	if op != "%" {
		// SQLite turns an int64 overflow into a float; PostgreSQL raises
		// 22003 for any integer type's overflow.
		sql = "chr2_int_check(" + sql + ", " + intBits(typ) + ")"
	}
	return expr{sql: sql, typ: typ, mod: -1}, nil
}

func intBits(typ pgval.OID) string {
	switch typ {
	case pgval.Int2OID:
		return "16"
	case pgval.Int4OID:
		return "32"
	}
	return "64"
}

func (t *translator) unifyNumeric(l, r expr) (expr, expr, error) {
	var err error
	lUntyped := l.lit != nil || l.null || l.typ == pgval.Unspecified || l.typ == pgval.UnknownOID
	rUntyped := r.lit != nil || r.null || r.typ == pgval.Unspecified || r.typ == pgval.UnknownOID
	switch {
	case lUntyped && rUntyped:
		if l, err = t.coerce(l, pgval.NumericOID); err == nil {
			r, err = t.coerce(r, pgval.NumericOID)
		}
	case lUntyped:
		l, err = t.coerce(l, r.typ)
	case rUntyped:
		r, err = t.coerce(r, l.typ)
	}
	return l, r, err
}

func isNonZeroLiteral(sql string) bool {
	if sql == "" || sql == "0" {
		return false
	}
	for _, c := range sql {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return strings.Trim(sql, "0.") != ""
}

// timeArithmetic handles timestamp ± interval, date ± integer and
// timestamp - timestamp.
func (t *translator) timeArithmetic(op string, l, r expr) (expr, error) {
	if e, ok, err := t.intervalScale(op, l, r); ok {
		return e, err // intervalmath.go
	}
	var err error
	switch {
	case sqltype.IsTime(l.typ) && (r.typ == pgval.IntervalOID || r.lit != nil) && (op == "+" || op == "-"):
		if r, err = t.coerce(r, pgval.IntervalOID); err != nil {
			return expr{}, err
		}
		typ := l.typ
		if typ == pgval.DateOID {
			typ = pgval.TimestampOID
		}
		return expr{sql: "chr2_time_add(" + l.sql + ", " + r.sql + ", " + sign(op) + ", " + oidLit(typ) + ")", typ: typ, mod: -1}, nil
	case l.typ == pgval.IntervalOID && sqltype.IsTime(r.typ) && op == "+":
		return t.timeArithmetic(op, r, l)
	case l.typ == pgval.IntervalOID && (r.typ == pgval.IntervalOID || r.lit != nil || r.null) && (op == "+" || op == "-"),
		r.typ == pgval.IntervalOID && (l.lit != nil || l.null) && (op == "+" || op == "-"):
		if l, err = t.coerce(l, pgval.IntervalOID); err != nil {
			return expr{}, err
		}
		if r, err = t.coerce(r, pgval.IntervalOID); err != nil {
			return expr{}, err
		}
		return expr{sql: "chr2_interval_add(" + l.sql + ", " + r.sql + ", " + sign(op) + ")", typ: pgval.IntervalOID, mod: -1}, nil
	case l.typ == pgval.DateOID && sqltype.IsInteger(r.typ) && (op == "+" || op == "-"):
		return expr{sql: "date(" + l.sql + ", (" + sign(op) + " * " + r.sql + ") || ' days')", typ: pgval.DateOID, mod: -1}, nil
	case sqltype.IsTime(l.typ) && op == "-":
		if r, err = t.coerce(r, l.typ); err != nil {
			return expr{}, err
		}
		if l.typ == pgval.DateOID {
			return expr{sql: "CAST(julianday(" + l.sql + ") - julianday(" + r.sql + ") AS INTEGER)", typ: pgval.Int4OID, mod: -1}, nil
		}
		return expr{sql: "chr2_time_diff(" + l.sql + ", " + r.sql + ")", typ: pgval.IntervalOID, mod: -1}, nil
	}
	return expr{}, opMissing(op, l.typ, r.typ)
}

func sign(op string) string {
	if op == "-" {
		return "-1"
	}
	return "1"
}

func oidLit(o pgval.OID) string { return fmt.Sprint(uint32(o)) }

func (t *translator) concat(l, r expr) (expr, error) {
	if isArrayType(l.typ) || isArrayType(r.typ) {
		return t.arrayConcat(l, r)
	}
	if l.typ == pgval.JSONBOID || r.typ == pgval.JSONBOID {
		var err error
		if l, err = t.coerce(l, pgval.JSONBOID); err != nil {
			return expr{}, err
		}
		if r, err = t.coerce(r, pgval.JSONBOID); err != nil {
			return expr{}, err
		}
		return expr{sql: "chr2_jsonb_concat(" + l.sql + ", " + r.sql + ")", typ: pgval.JSONBOID, mod: -1}, nil
	}
	if byteaConcat(l, r) {
		var err error
		if l, err = t.coerce(l, pgval.ByteaOID); err != nil {
			return expr{}, err
		}
		if r, err = t.coerce(r, pgval.ByteaOID); err != nil {
			return expr{}, err
		}
		// SQLite's || joins the bytes of BLOBs as text; the cast keeps them.
		return expr{sql: "CAST((" + l.sql + " || " + r.sql + ") AS BLOB)", typ: pgval.ByteaOID, mod: -1}, nil
	}
	ls, err := t.asText(l)
	if err != nil {
		return expr{}, err
	}
	rs, err := t.asText(r)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: "(" + ls + " || " + rs + ")", typ: pgval.TextOID, mod: -1}, nil
}

// byteaConcat reports whether || is bytea's: both operands bytea, or one
// bytea and the other of unknown type (PostgreSQL resolves byteacat then;
// bytea || text is text concatenation).
func byteaConcat(l, r expr) bool {
	untyped := func(e expr) bool {
		return e.lit != nil && e.typ == pgval.UnknownOID || e.typ == pgval.Unspecified || e.null
	}
	return l.typ == pgval.ByteaOID && (r.typ == pgval.ByteaOID || untyped(r)) ||
		r.typ == pgval.ByteaOID && untyped(l)
}

// asText renders e's text form (PostgreSQL's output function).
func (t *translator) asText(e expr) (string, error) {
	switch {
	case e.lit != nil || e.null || e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID:
		c, err := t.coerce(e, pgval.TextOID)
		return c.sql, err
	case sqltype.IsText(e.typ) || sqltype.IsInteger(e.typ) || e.typ == pgval.JSONOID ||
		e.typ == pgval.UUIDOID || e.typ == pgval.NumericOID:
		return e.sql, nil
	case e.typ == pgval.BoolOID:
		// The output function prints t/f (the cast to text says true/false).
		return "CASE " + e.sql + " WHEN 1 THEN 't' WHEN 0 THEN 'f' END", nil
	case isRegOutput(e.typ):
		return t.regOutput(e.sql, e.typ), nil
	}
	return "chr2_to_text(" + e.sql + ", " + oidLit(e.typ) + ")", nil
}

func (t *translator) regexMatch(op string, l, r expr) (expr, error) {
	var err error
	if l, err = t.coerce(l, pgval.TextOID); err != nil {
		return expr{}, err
	}
	if r, err = t.coerce(r, pgval.TextOID); err != nil {
		return expr{}, err
	}
	if !sqltype.IsText(l.typ) || !sqltype.IsText(r.typ) {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	ci := "0"
	if strings.Contains(op, "*") {
		ci = "1"
	}
	sql := "chr2_regex_match(" + l.sql + ", " + r.sql + ", " + ci + ")"
	if strings.HasPrefix(op, "!") {
		sql = "(NOT " + sql + ")"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1}, nil
}

func (t *translator) like(s *scope, a *pg.A_Expr, op string, ci bool) (expr, error) {
	l, err := t.expr(s, a.Lexpr)
	if err != nil {
		return expr{}, err
	}
	r, err := t.expr(s, a.Rexpr)
	if err != nil {
		return expr{}, err
	}
	if l, err = t.coerce(l, pgval.TextOID); err != nil {
		return expr{}, err
	}
	if r, err = t.coerce(r, pgval.TextOID); err != nil {
		return expr{}, err
	}
	if !sqltype.IsText(l.typ) || !sqltype.IsText(r.typ) {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	ls, rs := l.sql, r.sql
	if ci {
		ls, rs = "chr2_lower("+ls+")", "chr2_lower("+rs+")"
	}
	sql := "(" + ls + " LIKE " + rs + " ESCAPE '\\')"
	if strings.HasPrefix(op, "!") {
		sql = "(NOT " + sql + ")"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: l.agg || r.agg}, nil
}

func (t *translator) inList(s *scope, a *pg.A_Expr, negate bool) (expr, error) {
	if lr := rowArgs(a.Lexpr); lr != nil {
		if list, ok := a.Rexpr.Node.(*pg.Node_List); ok {
			return t.rowInList(s, lr, list.List.Items, negate) // rowcmp.go
		}
	}
	l, err := t.expr(s, a.Lexpr)
	if err != nil {
		return expr{}, err
	}
	list, ok := a.Rexpr.Node.(*pg.Node_List)
	if !ok {
		return expr{}, pgerr.Unsupported("IN with this right-hand side")
	}
	items := make([]expr, 0, len(list.List.Items)+1)
	items = append(items, l)
	for _, it := range list.List.Items {
		e, err := t.expr(s, it)
		if err != nil {
			return expr{}, err
		}
		items = append(items, e)
	}
	items, _, err = t.unifyAll(items)
	if err != nil {
		return expr{}, err
	}
	parts := make([]string, 0, len(items)-1)
	agg := false
	for _, e := range items[1:] {
		parts = append(parts, e.sql)
		agg = agg || e.agg
	}
	kw := " IN ("
	if negate {
		kw = " NOT IN ("
	}
	// SQLite compares IN with the left operand's collation.
	return expr{sql: "(" + collatedSortKey(items[0]) + kw + strings.Join(parts, ", ") + "))", typ: pgval.BoolOID, mod: -1,
		name: "?column?", agg: agg || l.agg}, nil
}

func (t *translator) between(s *scope, a *pg.A_Expr) (expr, error) {
	l, err := t.expr(s, a.Lexpr)
	if err != nil {
		return expr{}, err
	}
	list, ok := a.Rexpr.Node.(*pg.Node_List)
	if !ok || len(list.List.Items) != 2 {
		return expr{}, pgerr.New(pgerr.SyntaxError, "malformed BETWEEN")
	}
	lo, err := t.expr(s, list.List.Items[0])
	if err != nil {
		return expr{}, err
	}
	hi, err := t.expr(s, list.List.Items[1])
	if err != nil {
		return expr{}, err
	}
	es, _, err := t.unifyAll([]expr{l, lo, hi})
	if err != nil {
		return expr{}, err
	}
	if ordered, ok := t.enumOrdered("<", es...); ok {
		es = ordered
	}
	es[0].sql = collatedSortKey(es[0])
	kw := " BETWEEN "
	if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN {
		kw = " NOT BETWEEN "
	}
	return expr{sql: "(" + es[0].sql + kw + es[1].sql + " AND " + es[2].sql + ")", typ: pgval.BoolOID, mod: -1,
		name: "?column?", agg: l.agg}, nil
}

// anyAll handles x op ANY(array) and x op ALL(array): membership (= ANY,
// <> ALL) as IN, other operators and numeric elements (compared as
// numbers, not as their text) through quantifiedOver.
func (t *translator) anyAll(s *scope, a *pg.A_Expr, op string) (expr, error) {
	l, err := t.expr(s, a.Lexpr)
	if err != nil {
		return expr{}, err
	}
	r, err := t.expr(s, a.Rexpr)
	if err != nil {
		return expr{}, err
	}
	isAny := a.Kind == pg.A_Expr_Kind_AEXPR_OP_ANY
	membership := op == "=" && isAny || op == "<>" && !isAny
	if r.typ == pgval.Int2VectorOID || r.typ == pgval.OIDVectorOID {
		if !membership {
			return expr{}, pgerr.Unsupported("operator " + op + " with ANY/ALL over a vector")
		}
		if l, err = t.coerce(l, vectorElem(r.typ)); err != nil {
			return expr{}, err
		}
		kw := " IN "
		if !isAny {
			kw = " NOT IN "
		}
		return expr{sql: "(" + l.sql + kw + "(SELECT value FROM json_each(chr2_vector_json(" + r.sql + "))))",
			typ: pgval.BoolOID, mod: -1, name: "?column?"}, nil
	}
	elem := l.typ
	if r.lit == nil && r.param == 0 {
		if ti, ok := pgval.Lookup(r.typ); ok && ti.Elem != 0 {
			elem = ti.Elem
		}
	}
	if elem == pgval.Unspecified || elem == pgval.UnknownOID {
		elem = pgval.TextOID
	}
	if l, err = t.coerce(l, elem); err != nil {
		return expr{}, err
	}
	ti, ok := pgval.Lookup(elem)
	if !ok || ti.Array == 0 {
		return expr{}, pgerr.Unsupported("arrays of type " + typeSQLName(elem))
	}
	if r, err = t.coerce(r, ti.Array); err != nil {
		return expr{}, err
	}
	if !membership || elem == pgval.NumericOID {
		t.aliasSeq++
		alias := quote("_a" + strconv.Itoa(t.aliasSeq))
		item := expr{sql: alias + ".value", typ: elem, mod: -1}
		return t.quantifiedOver(l, item, "json_each(chr2_array_json("+r.sql+", "+oidLit(elem)+")) AS "+alias, op, isAny)
	}
	kw := " IN "
	if !isAny {
		kw = " NOT IN "
	}
	sql := "(" + l.sql + kw + "(SELECT value FROM json_each(chr2_array_json(" + r.sql + ", " + oidLit(elem) + "))))"
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?"}, nil
}

func (t *translator) jsonAccess(op string, l, r expr) (expr, error) {
	var err error
	if l.lit != nil {
		if l, err = t.coerce(l, pgval.JSONBOID); err != nil {
			return expr{}, err
		}
	}
	if l.typ != pgval.JSONBOID && l.typ != pgval.JSONOID {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	if r.lit != nil || r.param > 0 {
		target := pgval.TextOID
		if r.lit != nil && isIntegerText(*r.lit) && !strings.HasPrefix(op, "#") {
			target = pgval.Int4OID
		}
		if strings.HasPrefix(op, "#") {
			target = pgval.TextArrayOID
		}
		if r, err = t.coerce(r, target); err != nil {
			return expr{}, err
		}
	}
	asText := op == "->>" || op == "#>>"
	fn := "chr2_json_get"
	if strings.HasPrefix(op, "#") {
		fn = "chr2_json_get_path"
	}
	typ := l.typ
	if asText {
		typ = pgval.TextOID
	}
	txt := "0"
	if asText {
		txt = "1"
	}
	return expr{sql: fn + "(" + l.sql + ", " + r.sql + ", " + txt + ")", typ: typ, mod: -1}, nil
}

func isIntegerText(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if (c < '0' || c > '9') && !(i == 0 && c == '-') {
			return false
		}
	}
	return true
}

func (t *translator) jsonContains(op string, l, r expr) (expr, error) {
	var err error
	if l, err = t.coerce(l, pgval.JSONBOID); err != nil {
		return expr{}, err
	}
	if r, err = t.coerce(r, pgval.JSONBOID); err != nil {
		return expr{}, err
	}
	if l.typ != pgval.JSONBOID || r.typ != pgval.JSONBOID {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	if op == "<@" {
		l, r = r, l
	}
	return expr{sql: "chr2_jsonb_contains(" + l.sql + ", " + r.sql + ")", typ: pgval.BoolOID, mod: -1}, nil
}
