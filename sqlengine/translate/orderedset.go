package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Ordered-set aggregates (… WITHIN GROUP (ORDER BY x)): percentile_cont,
// percentile_disc and mode, computed by the chr2_* aggregates of
// funcs/orderedset.go. The fraction-array forms are not supported.

func orderedSetFunctionTable() map[string]fnSpec {
	return map[string]fnSpec{
		"percentile_cont": {special: fnPercentile(true), agg: true},
		"percentile_disc": {special: fnPercentile(false), agg: true},
		"mode":            {special: fnMode, agg: true},
	}
}

func isOrderedSetAggregate(name string) bool {
	return name == "percentile_cont" || name == "percentile_disc" || name == "mode"
}

// checkWithinGroup applies PostgreSQL's rules on WITHIN GROUP: an
// ordered-set aggregate without it, or another function with it, matches
// no function (42883, as PostgreSQL's resolution, which counts the ordered
// arguments); an ordered-set aggregate cannot be a window function.
func checkWithinGroup(fc *pg.FuncCall, name string, known bool) error {
	ordered := known && isOrderedSetAggregate(name)
	switch {
	case ordered && fc.Over != nil:
		return pgerr.New(pgerr.FeatureNotSupported, "OVER is not supported for ordered-set aggregate %s", name).
			WithPosition(fc.Location + 1)
	case ordered != fc.AggWithinGroup && known:
		return pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name,
			len(fc.Args)+len(fc.AggOrder)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
			WithPosition(fc.Location + 1)
	}
	return nil
}

// orderedInput translates the WITHIN GROUP ordering item (one) and the
// FILTER clause in the aggregate's argument scope.
func (t *translator) orderedInput(s *scope, fc *pg.FuncCall, direct int) (*scope, expr, *pg.SortBy, string, error) {
	name := funcName(fc)
	if s == nil {
		return nil, expr{}, nil, "", pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed here")
	}
	if len(fc.Args) != direct || len(fc.AggOrder) != 1 {
		return nil, expr{}, nil, "", pgerr.New(pgerr.UndefinedFunction,
			"function %s with %d direct and %d ordered arguments does not exist", name, len(fc.Args), len(fc.AggOrder)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
			WithPosition(fc.Location + 1)
	}
	inner := &scope{parent: s.parent, items: s.items}
	sb := fc.AggOrder[0].GetSortBy()
	x, err := t.expr(inner, sb.Node)
	if err != nil {
		return nil, expr{}, nil, "", err
	}
	if x.lit != nil || x.null || x.typ == pgval.UnknownOID || x.typ == pgval.Unspecified {
		if x, err = t.coerce(x, pgval.TextOID); err != nil {
			return nil, expr{}, nil, "", err
		}
	}
	filter, err := t.aggFilter(inner, fc.AggFilter)
	return inner, x, sb, filter, err
}

func fnPercentile(cont bool) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		name := funcName(fc)
		inner, x, sb, filter, err := t.orderedInput(s, fc, 1)
		if err != nil {
			return expr{}, err
		}
		frac, err := t.expr(inner, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		if pgval.ArrayElem(frac.typ) != 0 {
			return expr{}, pgerr.Unsupported(name + " with an array of fractions")
		}
		if frac, err = t.castExpr(frac, flt8, -1); err != nil {
			return expr{}, err
		}
		if !cont {
			out := expr{typ: x.typ, mod: x.mod, name: name, agg: true}
			out.sql = "chr2_percentile_disc(" + frac.sql + ", " + x.sql + " ORDER BY " + t.sortKeySQL(x) + sortSuffix(sb) + ")" + filter
			out.sql = fracChecked(frac, out.sql)
			return out, nil
		}
		fn, typ := "chr2_percentile_cont_interval", pgval.IntervalOID
		if x.typ != pgval.IntervalOID {
			if !sqltype.IsNumeric(x.typ) {
				return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s(double precision, %s) does not exist",
					name, typeSQLName(x.typ)).WithPosition(fc.Location + 1)
			}
			if x, err = t.castExpr(x, flt8, -1); err != nil {
				return expr{}, err
			}
			fn, typ = "chr2_percentile_cont_float", flt8
		}
		desc := "0"
		if sb.SortbyDir == pg.SortByDir_SORTBY_DESC {
			desc = "1"
		}
		sql := fracChecked(frac, fn+"("+frac.sql+", "+x.sql+", "+desc+")"+filter)
		return expr{sql: sql, typ: typ, mod: -1, name: name, agg: true}, nil
	}
}

// fracChecked checks the fraction once per group, outside the aggregate,
// as PostgreSQL's final function does: out of range is 22003 even over no
// rows; a NULL fraction makes the result NULL.
func fracChecked(frac expr, agg string) string {
	return "chr2_percentile_result(" + frac.sql + ", " + agg + ")"
}

func fnMode(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	_, x, sb, filter, err := t.orderedInput(s, fc, 0)
	if err != nil {
		return expr{}, err
	}
	// How chr2_mode compares text values (funcs.modeAgg's kinds).
	numeric := map[pgval.OID]string{pgval.NumericOID: "1", pgval.IntervalOID: "2", pgval.JSONBOID: "3"}[x.typ]
	if numeric == "" {
		numeric = "0"
	}
	out := expr{typ: x.typ, mod: x.mod, name: "mode", agg: true}
	out.sql = "chr2_mode(" + x.sql + ", " + numeric + " ORDER BY " + t.sortKeySQL(x) + sortSuffix(sb) + ")" + filter
	return out, nil
}
