package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Date/time constructors, age, justify_*, isfinite, date_bin and get_byte.

func dateFunctionTable() map[string]fnSpec {
	date, tm, ts := pgval.DateOID, pgval.TimeOID, pgval.TimestampOID
	return map[string]fnSpec{
		"make_date": {sqlName: "chr2_make_date", args: []pgval.OID{int4, int4, int4}, ret: date, minArgs: 3, maxArgs: 3},
		"make_time": {sqlName: "chr2_make_time", args: []pgval.OID{int4, int4, flt8}, ret: tm, minArgs: 3, maxArgs: 3},
		"make_timestamp": {sqlName: "chr2_make_timestamp", args: []pgval.OID{int4, int4, int4, int4, int4, flt8}, ret: ts,
			minArgs: 6, maxArgs: 6},
		"make_interval":    {special: fnMakeInterval},
		"age":              {special: fnAge},
		"justify_hours":    {special: fnJustify("1")},
		"justify_days":     {special: fnJustify("2")},
		"justify_interval": {special: fnJustify("3")},
		"isfinite":         {special: fnIsFinite},
		"date_bin":         {special: fnDateBin},
		"get_byte":         {sqlName: "chr2_get_byte", args: []pgval.OID{pgval.ByteaOID, int4}, ret: int4, minArgs: 2, maxArgs: 2},
	}
}

var makeIntervalParams = []string{"years", "months", "weeks", "days", "hours", "mins", "secs"}

// fnMakeInterval is make_interval with positional or named arguments.
func fnMakeInterval(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	args := []string{"0", "0", "0", "0", "0", "0", "0.0"}
	for i, a := range fc.Args {
		pos, n := i, a
		if na := a.GetNamedArgExpr(); na != nil {
			pos = -1
			for j, p := range makeIntervalParams {
				if p == na.Name {
					pos = j
				}
			}
			n = na.Arg
		}
		if pos < 0 || pos >= len(args) {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function make_interval with these arguments does not exist").
				WithPosition(fc.Location + 1)
		}
		e, err := t.expr(s, n)
		if err != nil {
			return expr{}, err
		}
		typ := int4
		if pos == 6 {
			typ = flt8
		}
		if e, err = t.coerce(e, typ); err != nil {
			return expr{}, err
		}
		args[pos] = e.sql
	}
	sql := "chr2_make_interval("
	for i, a := range args {
		if i > 0 {
			sql += ", "
		}
		sql += a
	}
	return typed(sql+")", pgval.IntervalOID, "make_interval"), nil
}

// timeArg translates a timestamp argument; untyped literals become typ.
func (t *translator) timeArg(s *scope, n *pg.Node, typ pgval.OID) (expr, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return expr{}, err
	}
	if e.lit != nil || e.null || e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID {
		return t.coerce(e, typ)
	}
	if e.typ == pgval.DateOID {
		e.typ = pgval.TimestampOID
	}
	return e, nil
}

// fnAge is age(a, b), or age(b) from midnight of the transaction's date.
func fnAge(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function age with %d arguments does not exist", len(fc.Args))
	}
	parts := make([]string, 0, 2)
	if len(fc.Args) == 1 {
		parts = append(parts, "substr("+t.nowExpr(pgval.TimestampOID).sql+", 1, 10)")
	}
	for _, a := range fc.Args {
		e, err := t.timeArg(s, a, pgval.TimestampOID)
		if err != nil {
			return expr{}, err
		}
		if e.typ != pgval.TimestampOID && e.typ != pgval.TimestamptzOID {
			return expr{}, noFunction(fc, e.typ)
		}
		parts = append(parts, e.sql)
	}
	return typed("chr2_age("+parts[0]+", "+parts[1]+")", pgval.IntervalOID, "age"), nil
}

func fnJustify(mode string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist",
				funcName(fc), len(fc.Args))
		}
		e, err := t.timeArg(s, fc.Args[0], pgval.IntervalOID)
		if err != nil {
			return expr{}, err
		}
		if e.typ != pgval.IntervalOID {
			return expr{}, noFunction(fc, e.typ)
		}
		return typed("chr2_justify("+e.sql+", "+mode+")", pgval.IntervalOID, funcName(fc)), nil
	}
}

// fnIsFinite is isfinite(date|timestamp|interval): chr2sql stores no
// infinite values, so every non-null value is finite.
func fnIsFinite(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function isfinite with %d arguments does not exist", len(fc.Args))
	}
	e, err := t.timeArg(s, fc.Args[0], pgval.TimestamptzOID)
	if err != nil {
		return expr{}, err
	}
	if !sqltype.IsTime(e.typ) && e.typ != pgval.IntervalOID {
		return expr{}, noFunction(fc, e.typ)
	}
	return typed("CASE WHEN "+e.sql+" IS NULL THEN NULL ELSE 1 END", boolT, "isfinite"), nil
}

// fnDateBin is date_bin(stride, source, origin).
func fnDateBin(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 3 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function date_bin with %d arguments does not exist", len(fc.Args))
	}
	stride, err := t.timeArg(s, fc.Args[0], pgval.IntervalOID)
	if err != nil {
		return expr{}, err
	}
	src, err := t.timeArg(s, fc.Args[1], pgval.TimestamptzOID)
	if err != nil {
		return expr{}, err
	}
	origin, err := t.timeArg(s, fc.Args[2], src.typ)
	if err != nil {
		return expr{}, err
	}
	if stride.typ != pgval.IntervalOID || (src.typ != pgval.TimestampOID && src.typ != pgval.TimestamptzOID) {
		return expr{}, noFunction(fc, src.typ)
	}
	return typed("chr2_date_bin("+stride.sql+", "+src.sql+", "+origin.sql+")", src.typ, "date_bin"), nil
}
