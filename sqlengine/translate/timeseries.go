package translate

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// isTimeSeries reports whether generate_series's bounds are dates or
// timestamps (the timestamp forms), not integers.
func isTimeSeries(args []expr) bool {
	for _, a := range args[:2] {
		if a.typ == pgval.DateOID || a.typ == pgval.TimestampOID || a.typ == pgval.TimestamptzOID {
			return true
		}
	}
	return len(args) == 3 && args[2].typ == pgval.IntervalOID
}

// timeSeries renders generate_series(start, stop, step interval) over
// timestamp or timestamptz as a recursive CTE adding the step to the
// previous value (as PostgreSQL does, so month steps clamp from the
// previous value). The bounds resolve as PostgreSQL's candidates do:
// timestamptz if a bound is timestamptz, timestamp if one is timestamp,
// else (dates, untyped literals) timestamptz, the preferred type. The
// storage forms are fixed-layout UTC text, so text comparison orders them.
// A zero-length step (by interval comparison: 30-day months) is 22023.
func (t *translator) timeSeries(fc *pg.FuncCall, args []expr) (srfResult, error) {
	if len(args) != 3 {
		return srfResult{}, pgerr.New(pgerr.UndefinedFunction, "function generate_series(%s, %s) does not exist",
			typeSQLName(args[0].typ), typeSQLName(args[1].typ)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
			WithPosition(fc.Location + 1)
	}
	typ := pgval.TimestamptzOID
	if (args[0].typ == pgval.TimestampOID || args[1].typ == pgval.TimestampOID) &&
		args[0].typ != pgval.TimestamptzOID && args[1].typ != pgval.TimestamptzOID {
		typ = pgval.TimestampOID
	}
	var err error
	for i := range args[:2] {
		if args[i], err = t.castExpr(args[i], typ, -1); err != nil {
			return srfResult{}, err
		}
	}
	if args[2].typ != pgval.IntervalOID {
		if args[2], err = t.coerce(args[2], pgval.IntervalOID); err != nil {
			return srfResult{}, err
		}
	}
	start, stop, step := args[0].sql, args[1].sql, args[2].sql
	sign := "chr2_interval_sign(" + step + ")"
	t.aliasSeq++
	cte := quote("_gs" + strconv.Itoa(t.aliasSeq))
	next := `chr2_time_add("value", ` + step + ", 1, " + oidLit(typ) + ")"
	inRange := func(v string) string {
		return "((" + sign + " > 0 AND " + v + " <= " + stop + ") OR (" + sign + " < 0 AND " + v + " >= " + stop + "))"
	}
	sql := "WITH RECURSIVE " + cte + `("value", "ordinality") AS (SELECT ` + start + ", 1 WHERE " + inRange(start) +
		` UNION ALL SELECT ` + next + `, "ordinality" + 1 FROM ` + cte + " WHERE " + inRange(next) +
		`) SELECT "value", "ordinality" FROM ` + cte
	return single(sql, typ, "generate_series"), nil
}
