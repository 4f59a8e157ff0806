package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Numeric functions: rounding, sign, div, mod, to_hex, with PostgreSQL's
// choice between the numeric and the float8 variant.

func fnRound(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	return t.roundLike(s, fc, "chr2_round", "round")
}

func fnTrunc(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	return t.roundLike(s, fc, "chr2_trunc", "trunc")
}

func (t *translator) roundLike(s *scope, fc *pg.FuncCall, fn, name string) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
	}
	x, err := t.numberArg(s, fc.Args[0], name)
	if err != nil {
		return expr{}, err
	}
	if len(fc.Args) == 1 && (x.typ == flt8 || x.typ == pgval.Float4OID) {
		// round(double precision) rounds half to even; trunc drops.
		return expr{sql: fn + "_float(" + x.sql + ")", typ: flt8, mod: -1, agg: x.agg}, nil
	}
	if len(fc.Args) == 1 && sqltype.IsInteger(x.typ) { // PostgreSQL picks the float8 variant
		return expr{sql: fn + "_float(CAST(" + x.sql + " AS REAL))", typ: flt8, mod: -1, agg: x.agg}, nil
	}
	if x, err = t.asNumeric(x); err != nil {
		return expr{}, err
	}
	digits := "0"
	if len(fc.Args) == 2 {
		d, err := t.exprAs(s, fc.Args[1], int4)
		if err != nil {
			return expr{}, err
		}
		digits = d.sql
	}
	return expr{sql: "chr2_num_" + name + "(" + x.sql + ", " + digits + ")", typ: pgval.NumericOID, mod: -1,
		agg: x.agg}, nil
}

// numberArg translates an argument that must be a number; untyped
// literals and parameters become numeric.
func (t *translator) numberArg(s *scope, n *pg.Node, name string) (expr, error) {
	x, err := t.expr(s, n)
	if err != nil {
		return expr{}, err
	}
	if x.lit != nil || x.null || x.typ == pgval.Unspecified || x.typ == pgval.UnknownOID {
		if x, err = t.coerce(x, pgval.NumericOID); err != nil {
			return expr{}, err
		}
	}
	if !sqltype.IsNumeric(x.typ) {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeSQLName(x.typ)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	return x, nil
}

// fnNumberUnary is abs/ceil/floor/sign: numeric functions for numeric and
// integer arguments, float ones for floats.
func fnNumberUnary(name, numFn, floatFn string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
		}
		x, err := t.numberArg(s, fc.Args[0], name)
		if err != nil {
			return expr{}, err
		}
		switch {
		case x.typ == flt8 || x.typ == pgval.Float4OID:
			return expr{sql: floatFn + "(" + x.sql + ")", typ: x.typ, mod: -1, agg: x.agg}, nil
		case name == "abs" && sqltype.IsInteger(x.typ):
			return expr{sql: "chr2_int_check(abs(" + x.sql + "), " + intBits(x.typ) + ")", typ: x.typ, mod: -1, agg: x.agg}, nil
		case sqltype.IsInteger(x.typ):
			// No integer variant: PostgreSQL picks the float8 one.
			return expr{sql: floatFn + "(CAST(" + x.sql + " AS REAL))", typ: flt8, mod: -1, agg: x.agg}, nil
		}
		if x, err = t.asNumeric(x); err != nil {
			return expr{}, err
		}
		return expr{sql: numFn + "(" + x.sql + ")", typ: pgval.NumericOID, mod: -1, agg: x.agg}, nil
	}
}

// fnDiv is div(numeric, numeric): the truncated quotient.
func fnDiv(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function div takes two arguments")
	}
	l, err := t.numberArg(s, fc.Args[0], "div")
	if err != nil {
		return expr{}, err
	}
	r, err := t.numberArg(s, fc.Args[1], "div")
	if err != nil {
		return expr{}, err
	}
	q, err := t.numericArithmetic("/", l, r)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: "chr2_num_trunc(" + q.sql + ", 0)", typ: pgval.NumericOID, mod: -1, name: "div", agg: q.agg}, nil
}

func fnMod(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function mod takes two arguments")
	}
	l, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	r, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	e, err := t.arithmetic("%", l, r)
	e.name = "mod"
	return e, err
}

// fnToHex is to_hex(int4) (32-bit two's complement) or to_hex(int8).
func fnToHex(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function to_hex with %d arguments does not exist", len(fc.Args))
	}
	e, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	if e.typ != int8 {
		if e, err = t.coerce(e, int4); err != nil {
			return expr{}, err
		}
		return expr{sql: "chr2_to_hex((" + e.sql + ") & 4294967295)", typ: text, mod: -1, name: "to_hex", agg: e.agg}, nil
	}
	return expr{sql: "chr2_to_hex(" + e.sql + ")", typ: text, mod: -1, name: "to_hex", agg: e.agg}, nil
}
