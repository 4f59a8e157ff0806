package translate

import (
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// intervalScale translates interval * number, number * interval and
// interval / number (PostgreSQL's interval_mul/mul_d_interval/interval_div,
// whose factor is float8: integer and numeric operands are converted).
// ok is false for other operators and operands.
func (t *translator) intervalScale(op string, l, r expr) (expr, bool, error) {
	iv, factor := l, r
	switch {
	case l.typ == pgval.IntervalOID && (op == "*" || op == "/") && isFactor(r):
	case r.typ == pgval.IntervalOID && op == "*" && isFactor(l):
		iv, factor = r, l
	default:
		return expr{}, false, nil
	}
	factor, err := t.castExpr(factor, pgval.Float8OID, -1)
	if err != nil {
		return expr{}, true, err
	}
	fn := "chr2_interval_mul("
	if op == "/" {
		fn = "chr2_interval_div("
	}
	return expr{sql: fn + iv.sql + ", " + factor.sql + ")", typ: pgval.IntervalOID, mod: -1}, true, nil
}

// isFactor reports whether an operand can be an interval's float8 factor.
func isFactor(e expr) bool {
	return sqltype.IsNumeric(e.typ) || e.null || e.typ == pgval.UnknownOID || e.typ == pgval.Unspecified
}
