package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Statistical aggregates: numeric results for integer and numeric input,
// double precision for float input, as PostgreSQL's catalog declares them.

func statsFunctionTable() map[string]fnSpec {
	out := map[string]fnSpec{}
	for name, stem := range map[string]string{"variance": "var_samp", "var_samp": "var_samp", "var_pop": "var_pop",
		"stddev": "stddev_samp", "stddev_samp": "stddev_samp", "stddev_pop": "stddev_pop"} {
		out[name] = fnSpec{special: fnStatAgg(stem), agg: true}
	}
	return out
}

func fnStatAgg(stem string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		name := funcName(fc)
		kind := "num"
		e, err := t.aggregate(s, fc, "chr2_stat", func(arg expr) (expr, error) {
			switch {
			case arg.typ == pgval.Float4OID || arg.typ == pgval.Float8OID:
				kind = "float"
				return typed("", flt8, name), nil
			case sqltype.IsNumeric(arg.typ):
				return typed("", pgval.NumericOID, name), nil
			}
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeSQLName(arg.typ)).
				WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
		})
		if err != nil {
			return expr{}, err
		}
		e.sql = "chr2_" + stem + "_" + kind + strings.TrimPrefix(e.sql, "chr2_stat")
		return e, nil
	}
}
