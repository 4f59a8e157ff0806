package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Mathematical functions. Those with both a numeric and a double precision
// variant (exp, ln, log, power, sqrt, width_bucket) resolve as PostgreSQL
// does: a float argument picks the float8 variant, else a numeric argument
// the numeric one, and integers alone the float8 one (float8 is the
// preferred type of the numeric category).

func mathFunctionTable() map[string]fnSpec {
	unary := func(sqlName string) fnSpec {
		return fnSpec{sqlName: sqlName, args: []pgval.OID{flt8}, ret: flt8, minArgs: 1, maxArgs: 1}
	}
	return map[string]fnSpec{
		"pi":      {special: fnConstTyped(flt8, "3.141592653589793")},
		"cbrt":    unary("chr2_cbrt"),
		"degrees": unary("chr2_degrees"),
		"radians": unary("chr2_radians"),
		"sin":     unary("chr2_sin"),
		"cos":     unary("chr2_cos"),
		"tan":     unary("chr2_tan"),
		"cot":     unary("chr2_cot"),
		"asin":    unary("chr2_asin"),
		"acos":    unary("chr2_acos"),
		"atan":    unary("chr2_atan"),
		"atan2":   {sqlName: "chr2_atan2", args: []pgval.OID{flt8, flt8}, ret: flt8, minArgs: 2, maxArgs: 2},
		"exp":     {special: fnNumOrFloat("exp", "chr2_num_exp", "chr2_exp")},
		"ln":      {special: fnNumOrFloat("ln", "chr2_num_ln", "chr2_ln")},
		"log":     {special: fnLog},
		"log10":   {special: fnNumOrFloat("log10", "chr2_num_log10", "chr2_log10")},
		"power":   {special: fnNumOrFloat("power", "chr2_num_power", "chr2_power")},
		"pow":     {special: fnNumOrFloat("pow", "chr2_num_power", "chr2_power")},
		"sqrt":    {special: fnNumOrFloat("sqrt", "chr2_num_sqrt", "chr2_sqrt")},
		"factorial": {sqlName: "chr2_factorial", args: []pgval.OID{int8}, ret: pgval.NumericOID,
			minArgs: 1, maxArgs: 1},
		"gcd":          {special: fnGcdLcm},
		"lcm":          {special: fnGcdLcm},
		"width_bucket": {special: fnWidthBucket},
		"scale":        {special: fnNumericScale("chr2_num_scale", int4)},
		"min_scale":    {special: fnNumericScale("chr2_num_min_scale", int4)},
		"trim_scale":   {special: fnNumericScale("chr2_num_trim_scale", pgval.NumericOID)},
		"setseed":      {sqlName: "chr2_setseed", args: []pgval.OID{flt8}, ret: pgval.VoidOID, minArgs: 1, maxArgs: 1},
	}
}

func fnConstTyped(typ pgval.OID, sql string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(_ *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 0 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist",
				funcName(fc), len(fc.Args))
		}
		return typed(sql, typ, funcName(fc)), nil
	}
}

// numberArgs translates the arguments of a function of numbers and reports
// whether the numeric variant applies.
func (t *translator) numberArgs(s *scope, fc *pg.FuncCall) ([]expr, bool, error) {
	args := make([]expr, 0, len(fc.Args))
	anyFloat, anyNumeric := false, false
	for _, a := range fc.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return nil, false, err
		}
		untyped := e.lit != nil || e.null || e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID
		switch {
		case untyped:
		case e.typ == flt8 || e.typ == pgval.Float4OID:
			anyFloat = true
		case e.typ == pgval.NumericOID:
			anyNumeric = true
		case !sqltype.IsInteger(e.typ):
			return nil, false, noFunction(fc, e.typ)
		}
		args = append(args, e)
	}
	return args, anyNumeric && !anyFloat, nil
}

func noFunction(fc *pg.FuncCall, typ pgval.OID) error {
	return pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", funcName(fc), typeSQLName(typ)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
		WithPosition(fc.Location + 1)
}

// callAs coerces args to typ and calls fn.
func (t *translator) callAs(fn string, typ, ret pgval.OID, args []expr) (expr, error) {
	sql := fn + "("
	agg := false
	for i, a := range args {
		var err error
		if typ == pgval.NumericOID {
			a, err = t.asNumeric(a)
		} else {
			a, err = t.coerce(a, typ)
		}
		if err != nil {
			return expr{}, err
		}
		if i > 0 {
			sql += ", "
		}
		sql += a.sql
		agg = agg || a.agg
	}
	return expr{sql: sql + ")", typ: ret, mod: -1, agg: agg}, nil
}

// fnNumOrFloat is a one- or two-argument function with a numeric and a
// float8 variant.
func fnNumOrFloat(name, numFn, floatFn string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		want := 1
		if name == "power" || name == "pow" {
			want = 2
		}
		if len(fc.Args) != want {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
		}
		args, numeric, err := t.numberArgs(s, fc)
		if err != nil {
			return expr{}, err
		}
		if numeric {
			if numFn == "chr2_num_log10" { // log10(numeric) is log(10, x)
				return t.callAs("chr2_num_log", pgval.NumericOID, pgval.NumericOID, append([]expr{numericConst("10")}, args...))
			}
			return t.callAs(numFn, pgval.NumericOID, pgval.NumericOID, args)
		}
		return t.callAs(floatFn, flt8, flt8, args)
	}
}

// fnLog is log(x) (base 10, numeric or float8) or log(b, x) (numeric only).
func fnLog(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) == 1 {
		return fnNumOrFloat("log10", "chr2_num_log10", "chr2_log10")(t, s, fc)
	}
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function log with %d arguments does not exist", len(fc.Args))
	}
	args, _, err := t.numberArgs(s, fc)
	if err != nil {
		return expr{}, err
	}
	for _, a := range args {
		if a.typ == flt8 || a.typ == pgval.Float4OID {
			return expr{}, noFunction(fc, a.typ)
		}
	}
	return t.callAs("chr2_num_log", pgval.NumericOID, pgval.NumericOID, args)
}

// fnGcdLcm is gcd/lcm over integer (the wider of the two) or numeric.
func fnGcdLcm(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	name := funcName(fc)
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
	}
	args, numeric, err := t.numberArgs(s, fc)
	if err != nil {
		return expr{}, err
	}
	typ := int4
	for _, a := range args {
		switch {
		case a.typ == flt8 || a.typ == pgval.Float4OID:
			return expr{}, noFunction(fc, a.typ)
		case a.typ == int8:
			typ = int8
		}
	}
	if numeric {
		return t.callAs("chr2_num_"+name, pgval.NumericOID, pgval.NumericOID, args)
	}
	bits := "32"
	if typ == int8 {
		bits = "64"
	}
	e, err := t.callAs("chr2_int_"+name, typ, typ, args)
	e.sql = e.sql[:len(e.sql)-1] + ", " + bits + ")"
	return e, err
}

// fnWidthBucket is width_bucket(operand, low, high, count).
func fnWidthBucket(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 4 {
		return expr{}, pgerr.Unsupported("width_bucket with an array of thresholds")
	}
	args, numeric, err := t.numberArgs(s, &pg.FuncCall{Funcname: fc.Funcname, Args: fc.Args[:3], Location: fc.Location})
	if err != nil {
		return expr{}, err
	}
	count, err := t.exprAs(s, fc.Args[3], int4)
	if err != nil {
		return expr{}, err
	}
	fn, typ := "chr2_width_bucket_float", flt8
	if numeric {
		fn, typ = "chr2_width_bucket_num", pgval.NumericOID
	}
	e, err := t.callAs(fn, typ, int4, args)
	e.sql = e.sql[:len(e.sql)-1] + ", " + count.sql + ")"
	e.agg = e.agg || count.agg
	return e, err
}

// fnNumericScale is scale, min_scale or trim_scale of a numeric.
func fnNumericScale(fn string, ret pgval.OID) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist",
				funcName(fc), len(fc.Args))
		}
		args, _, err := t.numberArgs(s, fc)
		if err != nil {
			return expr{}, err
		}
		if a := args[0]; a.typ == flt8 || a.typ == pgval.Float4OID {
			return expr{}, noFunction(fc, a.typ)
		}
		return t.callAs(fn, pgval.NumericOID, ret, args)
	}
}
