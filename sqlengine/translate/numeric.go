package translate

import (
	"strconv"
	"strings"

	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// numeric values are decimal text with a display scale ("1.50"). Their
// arithmetic runs in chr2_num_* functions (exact, PostgreSQL's result
// scales); comparisons use the chr2_numeric collation, so they agree with
// numeric columns' indexes.

// numericConst is a numeric constant, in its canonical text.
func numericConst(canon string) expr {
	return expr{sql: sqltype.QuoteString(canon), typ: pgval.NumericOID, mod: -1, name: "?column?", numConst: canon}
}

func negateDecimal(s string) string {
	switch {
	case s == "NaN":
		return s
	case strings.HasPrefix(s, "-"):
		return s[1:]
	case strings.Trim(s, "0.") == "":
		return s // -0 is 0
	}
	return "-" + s
}

// asNumeric renders e (a number of any type) as numeric text.
func (t *translator) asNumeric(e expr) (expr, error) {
	switch {
	case e.typ == pgval.NumericOID:
		return e, nil
	case e.lit != nil || e.null || e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID:
		return t.coerce(e, pgval.NumericOID)
	case sqltype.IsInteger(e.typ):
		if n, err := strconv.ParseInt(e.sql, 10, 64); err == nil {
			return numericConst(strconv.FormatInt(n, 10)), nil
		}
	}
	out := e
	out.typ, out.numConst = pgval.NumericOID, ""
	out.sql = "chr2_num(" + e.sql + ")"
	return out, nil
}

var numericOps = map[string]string{"+": "chr2_num_add", "-": "chr2_num_sub", "*": "chr2_num_mul",
	"/": "chr2_num_div", "%": "chr2_num_mod"}

// numericArithmetic computes op exactly; constants fold at translation.
func (t *translator) numericArithmetic(op string, l, r expr) (expr, error) {
	fn := numericOps[op]
	var err error
	if l, err = t.asNumeric(l); err != nil {
		return expr{}, err
	}
	if r, err = t.asNumeric(r); err != nil {
		return expr{}, err
	}
	if l.numConst != "" && r.numConst != "" {
		if v, err := funcs.NumericOp(fn, l.numConst, r.numConst); err == nil {
			return numericConst(v), nil
		}
		// An error (division by zero) is raised when the statement runs.
	}
	return expr{sql: fn + "(" + l.sql + ", " + r.sql + ")", typ: pgval.NumericOID, mod: -1}, nil
}

// numericComparison compares with numeric semantics: both sides as numeric
// text under the chr2_numeric collation, or as floats when one is a float.
func (t *translator) numericComparison(op string, l, r expr) (expr, error) {
	other := r.typ
	if other == pgval.NumericOID {
		other = l.typ
	}
	if other == pgval.Float8OID || other == pgval.Float4OID {
		ls, rs := l.sql, r.sql
		if l.typ == pgval.NumericOID {
			ls = "CAST(" + ls + " AS REAL)"
		}
		if r.typ == pgval.NumericOID {
			rs = "CAST(" + rs + " AS REAL)"
		}
		return expr{sql: "(" + ls + " " + op + " " + rs + ")", typ: pgval.BoolOID, mod: -1}, nil
	}
	var err error
	if l, err = t.asNumeric(l); err != nil {
		return expr{}, err
	}
	if r, err = t.asNumeric(r); err != nil {
		return expr{}, err
	}
	return expr{sql: "(" + l.sql + " COLLATE chr2_numeric " + op + " " + r.sql + ")", typ: pgval.BoolOID, mod: -1}, nil
}

// applyNumericTypmod rounds a numeric value to numeric(p, s).
func (t *translator) applyNumericTypmod(e expr, mod int32) (expr, error) {
	if mod < 4 {
		return e, nil
	}
	if e.numConst != "" {
		v, err := funcs.NumericTypmod(e.numConst, mod)
		if err != nil {
			return expr{}, err
		}
		out := numericConst(v)
		out.name, out.mod = e.name, mod
		return out, nil
	}
	e.sql = "chr2_num_typmod(" + e.sql + ", " + strconv.Itoa(int(mod)) + ")"
	e.mod = mod
	return e, nil
}

// power is the ^ operator: float8 for floats and integers, numeric when an
// operand is numeric.
func (t *translator) power(l, r expr) (expr, error) {
	var err error
	if l, r, err = t.unifyNumeric(l, r); err != nil {
		return expr{}, err
	}
	if !sqltype.IsNumeric(l.typ) || !sqltype.IsNumeric(r.typ) {
		return expr{}, opMissing("^", l.typ, r.typ)
	}
	if l.typ == pgval.NumericOID || r.typ == pgval.NumericOID {
		return expr{sql: "chr2_num(chr2_power(" + l.sql + ", " + r.sql + "))", typ: pgval.NumericOID, mod: -1}, nil
	}
	return expr{sql: "chr2_power(" + l.sql + ", " + r.sql + ")", typ: flt8, mod: -1}, nil
}

// bitwise handles & | # << >> on integers.
func (t *translator) bitwise(op string, l, r expr) (expr, error) {
	var err error
	if l, r, err = t.unifyNumeric(l, r); err != nil {
		return expr{}, err
	}
	if !sqltype.IsInteger(l.typ) || !sqltype.IsInteger(r.typ) {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	typ := numericResult(l.typ, r.typ)
	if op == "<<" || op == ">>" {
		typ = l.typ
	}
	var sql string
	switch op {
	case "#":
		sql = "((" + l.sql + " | " + r.sql + ") - (" + l.sql + " & " + r.sql + "))"
	case "<<":
		// PostgreSQL shifts within the type's width.
		sql = "chr2_shift_left(" + l.sql + ", " + r.sql + ", " + intBits(typ) + ")"
	default:
		sql = "(" + l.sql + " " + op + " " + r.sql + ")"
	}
	return expr{sql: sql, typ: typ, mod: -1}, nil
}

// collatedSortKey makes comparisons, ORDER BY, GROUP BY, DISTINCT and
// min/max of an expression follow PostgreSQL's order for types whose
// stored text sorts differently (funcs/collations.go).
func collatedSortKey(e expr) string {
	switch e.typ {
	case pgval.NumericOID:
		return e.sql + " COLLATE chr2_numeric"
	case pgval.IntervalOID:
		return e.sql + " COLLATE chr2_interval"
	case pgval.JSONBOID:
		return e.sql + " COLLATE chr2_jsonb"
	}
	return e.sql
}
