package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Data type formatting functions: to_char, to_date, to_timestamp(text,
// text). PostgreSQL picks the to_char variant by the first argument's type;
// timestamptz values are formatted in the session's time zone, which is
// fixed into the statement at translation time.

func formatFunctionTable() map[string]fnSpec {
	return map[string]fnSpec{
		"to_char":      {special: fnToChar},
		"to_date":      {sqlName: "chr2_to_date", args: []pgval.OID{text, text}, ret: pgval.DateOID, minArgs: 2, maxArgs: 2},
		"to_timestamp": {special: fnToTimestamp},
	}
}

// sessionZone is the session's TimeZone setting (UTC when unknown).
func (t *translator) sessionZone() string {
	if t.opts.Settings != nil {
		for _, kv := range t.opts.Settings() {
			if kv[0] == "timezone" {
				return kv[1]
			}
		}
	}
	return "UTC"
}

func fnToChar(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function to_char with %d arguments does not exist", len(fc.Args))
	}
	v, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	f, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if f, err = t.coerceArg(f, text); err != nil {
		return expr{}, err
	}
	if v.lit != nil || v.param > 0 && v.typ == pgval.Unspecified || v.typ == pgval.UnknownOID {
		return expr{}, pgerr.New(pgerr.AmbiguousFunction, "function to_char(unknown, %s) is not unique", typeSQLName(f.typ)).
			WithHint("Could not choose a best candidate function. You might need to add explicit type casts.").
			WithPosition(fc.Location + 1)
	}
	agg := v.agg || f.agg
	switch {
	case v.typ == pgval.TimestampOID || v.typ == pgval.DateOID || v.typ == pgval.TimestamptzOID ||
		v.typ == pgval.IntervalOID || v.typ == pgval.TimeOID:
		typ := v.typ
		switch typ {
		case pgval.DateOID:
			typ = pgval.TimestampOID
		case pgval.TimeOID:
			typ = pgval.IntervalOID
		}
		sql := "chr2_to_char_time(" + v.sql + ", " + oidLit(typ) + ", " + f.sql + ", " + sqltype.QuoteString(t.sessionZone()) + ")"
		return expr{sql: sql, typ: text, mod: -1, name: "to_char", agg: agg}, nil
	case sqltype.IsNumeric(v.typ):
		kind := "numeric"
		switch {
		case sqltype.IsInteger(v.typ):
			kind = "int"
		case v.typ == pgval.Float4OID:
			kind = "float4"
		case v.typ == pgval.Float8OID:
			kind = "float8"
		}
		sql := "chr2_to_char_num(" + v.sql + ", " + f.sql + ", '" + kind + "')"
		return expr{sql: sql, typ: text, mod: -1, name: "to_char", agg: agg}, nil
	}
	return expr{}, pgerr.New(pgerr.UndefinedFunction, "function to_char(%s, %s) does not exist", typeSQLName(v.typ),
		typeSQLName(f.typ)).WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
		WithPosition(fc.Location + 1)
}

// fnToTimestamp is to_timestamp(epoch) or to_timestamp(text, template).
func fnToTimestamp(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	switch len(fc.Args) {
	case 1:
		return t.plainCall(s, "to_timestamp", fnSpec{sqlName: "chr2_to_timestamp", args: []pgval.OID{flt8},
			ret: pgval.TimestamptzOID, minArgs: 1, maxArgs: 1}, fc.Args)
	case 2:
		e, err := t.plainCall(s, "to_timestamp", fnSpec{sqlName: "chr2_to_timestamp_text", args: []pgval.OID{text, text},
			ret: pgval.TimestamptzOID, minArgs: 2, maxArgs: 2}, fc.Args)
		if err != nil {
			return expr{}, err
		}
		e.sql = strings.TrimSuffix(e.sql, ")") + ", " + sqltype.QuoteString(t.sessionZone()) + ")"
		return e, nil
	}
	return expr{}, pgerr.New(pgerr.UndefinedFunction, "function to_timestamp with %d arguments does not exist", len(fc.Args))
}
