package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// fnSpec describes how one PostgreSQL function is translated.
type fnSpec struct {
	// sqlName is the SQLite function called with the (coerced) arguments.
	sqlName string
	// args are the parameter types (a trailing 0 repeats the previous type);
	// nil means arguments pass through uncoerced.
	args []pgval.OID
	// ret is the result type; 0 means "same as the first argument".
	ret pgval.OID
	// minArgs/maxArgs bound the argument count (maxArgs -1: unbounded).
	minArgs, maxArgs int
	// special translates calls that need more than a rename.
	special func(t *translator, s *scope, fc *pg.FuncCall) (expr, error)
	agg     bool
}

var (
	text  = pgval.TextOID
	int4  = pgval.Int4OID
	int8  = pgval.Int8OID
	flt8  = pgval.Float8OID
	boolT = pgval.BoolOID
)

// functions is filled in init: its handlers refer back to it.
var functions map[string]fnSpec

func init() {
	functions = functionTable()
	for name, spec := range catalogFunctionTable() {
		functions[name] = spec
	}
	for name, spec := range arrayFunctionTable() {
		functions[name] = spec
	}
	for name, spec := range arrayFunctionTableMD() {
		functions[name] = spec
	}
	for name, spec := range advisoryFunctionTable() {
		functions[name] = spec
	}
	for name, spec := range jsonFunctionTable() {
		functions[name] = spec
	}
	for name, spec := range stringFunctionTable() {
		functions[name] = spec
	}
	for name, spec := range builtinFunctionTable() {
		functions[name] = spec
	}
}

func functionTable() map[string]fnSpec {
	return map[string]fnSpec{
		// deterministic context
		"now":                   {special: fnNow},
		"transaction_timestamp": {special: fnNow},
		"statement_timestamp":   {special: fnNow},
		"clock_timestamp":       {special: fnNow},
		"random":                {sqlName: "chr2_random", ret: flt8, maxArgs: 0},
		"gen_random_uuid":       {sqlName: "chr2_uuid", ret: pgval.UUIDOID, maxArgs: 0},
		"uuid_generate_v4":      {sqlName: "chr2_uuid", ret: pgval.UUIDOID, maxArgs: 0},
		"nextval":               {special: fnNextval},
		"currval":               {special: fnCurrval},
		"setval":                {special: fnSetval},
		"lastval":               {special: fnLastval},
		"effect_id":             {sqlName: "chr2_effect_id", ret: text, maxArgs: 0},

		// strings
		"lower":        {sqlName: "chr2_lower", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"upper":        {sqlName: "chr2_upper", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"length":       {sqlName: "length", args: []pgval.OID{text}, ret: int4, minArgs: 1, maxArgs: 1},
		"char_length":  {sqlName: "length", args: []pgval.OID{text}, ret: int4, minArgs: 1, maxArgs: 1},
		"octet_length": {sqlName: "chr2_octet_length", args: []pgval.OID{text}, ret: int4, minArgs: 1, maxArgs: 1},
		"btrim":        {sqlName: "trim", args: []pgval.OID{text, text}, ret: text, minArgs: 1, maxArgs: 2},
		"ltrim":        {sqlName: "ltrim", args: []pgval.OID{text, text}, ret: text, minArgs: 1, maxArgs: 2},
		"rtrim":        {sqlName: "rtrim", args: []pgval.OID{text, text}, ret: text, minArgs: 1, maxArgs: 2},
		"replace":      {sqlName: "replace", args: []pgval.OID{text, text, text}, ret: text, minArgs: 3, maxArgs: 3},
		"strpos":       {sqlName: "instr", args: []pgval.OID{text, text}, ret: int4, minArgs: 2, maxArgs: 2},
		"left":         {sqlName: "chr2_left", args: []pgval.OID{text, int4}, ret: text, minArgs: 2, maxArgs: 2},
		"right":        {sqlName: "chr2_right", args: []pgval.OID{text, int4}, ret: text, minArgs: 2, maxArgs: 2},
		"lpad":         {sqlName: "chr2_lpad", args: []pgval.OID{text, int4, text}, ret: text, minArgs: 2, maxArgs: 3},
		"rpad":         {sqlName: "chr2_rpad", args: []pgval.OID{text, int4, text}, ret: text, minArgs: 2, maxArgs: 3},
		"repeat":       {sqlName: "chr2_repeat", args: []pgval.OID{text, int4}, ret: text, minArgs: 2, maxArgs: 2},
		"reverse":      {sqlName: "chr2_reverse", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"initcap":      {sqlName: "chr2_initcap", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"md5":          {sqlName: "chr2_md5", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"split_part":   {sqlName: "chr2_split_part", args: []pgval.OID{text, text, int4}, ret: text, minArgs: 3, maxArgs: 3},
		"starts_with":  {sqlName: "chr2_starts_with", args: []pgval.OID{text, text}, ret: boolT, minArgs: 2, maxArgs: 2},
		"concat":       {special: fnConcat},
		"concat_ws":    {special: fnConcatWS},
		"position":     {special: fnPosition},
		"to_hex":       {special: fnToHex},

		// numbers
		"abs":     {special: fnNumberUnary("abs", "chr2_num_abs", "abs")},
		"round":   {special: fnRound},
		"trunc":   {special: fnTrunc},
		"ceil":    {special: fnNumberUnary("ceil", "chr2_num_ceil", "chr2_ceil")},
		"ceiling": {special: fnNumberUnary("ceiling", "chr2_num_ceil", "chr2_ceil")},
		"floor":   {special: fnNumberUnary("floor", "chr2_num_floor", "chr2_floor")},
		"div":     {special: fnDiv},
		"sqrt":    {sqlName: "chr2_sqrt", args: []pgval.OID{flt8}, ret: flt8, minArgs: 1, maxArgs: 1},
		"power":   {sqlName: "chr2_power", args: []pgval.OID{flt8, flt8}, ret: flt8, minArgs: 2, maxArgs: 2},
		"pow":     {sqlName: "chr2_power", args: []pgval.OID{flt8, flt8}, ret: flt8, minArgs: 2, maxArgs: 2},
		"mod":     {special: fnMod},
		"sign":    {special: fnNumberUnary("sign", "chr2_num_sign", "sign")},

		// time
		"date_trunc": {special: fnDateTrunc},
		"timezone":   {special: fnTimezone},
		"date_part":  {special: fnDatePart},
		"extract":    {special: fnDatePart},

		// json

		"jsonb_typeof": {sqlName: "chr2_jsonb_typeof", args: []pgval.OID{pgval.JSONBOID}, ret: text, minArgs: 1, maxArgs: 1},

		// aggregates
		"count":      {special: fnCount, agg: true},
		"sum":        {special: fnSum, agg: true},
		"avg":        {special: fnAvg, agg: true},
		"min":        {special: fnMinMax, agg: true},
		"max":        {special: fnMinMax, agg: true},
		"string_agg": {special: fnStringAgg, agg: true},
		"bool_and":   {special: fnBoolAgg, agg: true},
		"bool_or":    {special: fnBoolAgg, agg: true},
		"every":      {special: fnBoolAgg, agg: true},

		// system information
		"version":                 {special: fnConst(pgval.TextOID, "PostgreSQL 16.4 (chr2sql) on x86_64-pc-linux-gnu, compiled by Go, 64-bit")},
		"current_database":        {special: fnCurrentDatabase},
		"current_schema":          {special: fnCurrentSchema},
		"pg_backend_pid":          {special: fnBackendPID},
		"pg_my_temp_schema":       {special: fnMyTempSchema},
		"pg_is_other_temp_schema": {special: fnIsOtherTempSchema},
	}
}

func fnConst(typ pgval.OID, v string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(*translator, *scope, *pg.FuncCall) (expr, error) {
		return typed(sqltype.QuoteString(v), typ, ""), nil
	}
}

func fnBackendPID(t *translator, _ *scope, _ *pg.FuncCall) (expr, error) {
	return typed(strconv.FormatUint(uint64(t.opts.ProcessID), 10), int4, "pg_backend_pid"), nil
}

func fnCurrentDatabase(t *translator, _ *scope, _ *pg.FuncCall) (expr, error) {
	return typed(sqltype.QuoteString(t.opts.Database), pgval.NameOID, ""), nil
}

func fnCurrentSchema(t *translator, _ *scope, _ *pg.FuncCall) (expr, error) {
	if len(t.opts.SearchPath) == 0 {
		return expr{sql: "NULL", typ: pgval.NameOID, mod: -1, null: true, name: "current_schema"}, nil
	}
	return typed(sqltype.QuoteString(t.opts.SearchPath[0]), pgval.NameOID, ""), nil
}

// funcCall translates a function call.
func (t *translator) funcCall(s *scope, fc *pg.FuncCall) (expr, error) {
	parts := names(fc.Funcname)
	name := parts[len(parts)-1]
	schema := ""
	if len(parts) > 1 {
		schema = parts[len(parts)-2]
	}
	if schema != "" && schema != "pg_catalog" && !(schema == "chr2" && name == "effect_id") {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s does not exist", strings.Join(parts, "."))
	}
	spec, ok := functions[name]
	if err := checkWithinGroup(fc, name, ok); err != nil {
		return expr{}, err // orderedset.go
	}
	if fc.Over != nil {
		return t.windowCall(s, fc, name, spec, ok)
	}
	if _, isWindow := windowFuncs[name]; isWindow {
		return expr{}, pgerr.New(pgerr.WrongObjectType, "window function %s requires an OVER clause", name).
			WithPosition(fc.Location + 1)
	}
	if !ok || (name == "effect_id" && schema != "chr2") {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s does not exist", name).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
			WithPosition(fc.Location + 1)
	}
	if !spec.agg && (fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil) && !fc.AggWithinGroup {
		return expr{}, pgerr.New(pgerr.WrongObjectType, "%s is not an aggregate function", name)
	}
	if spec.agg && (s == nil || !s.aggAllowed) {
		return expr{}, pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed here").
			WithPosition(fc.Location + 1)
	}
	var e expr
	var err error
	if spec.special != nil {
		e, err = spec.special(t, s, fc)
	} else {
		e, err = t.plainCall(s, name, spec, fc.Args)
	}
	if err != nil {
		return expr{}, err
	}
	if e.name == "" {
		e.name = name
	}
	if e.mod == 0 {
		e.mod = -1
	}
	e.agg = e.agg || spec.agg
	return e, nil
}

func (t *translator) plainCall(s *scope, name string, spec fnSpec, args []*pg.Node) (expr, error) {
	if len(args) < spec.minArgs || (spec.maxArgs >= 0 && len(args) > spec.maxArgs) {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(args))
	}
	out := make([]string, 0, len(args))
	var first expr
	agg := false
	for i, a := range args {
		e, err := t.expr(s, a)
		if err != nil {
			return expr{}, err
		}
		if spec.args != nil && i < len(spec.args) && spec.args[i] != 0 {
			if e, err = t.coerceArg(e, spec.args[i]); err != nil {
				return expr{}, err
			}
		} else if e.lit != nil || e.param > 0 && e.typ == pgval.Unspecified {
			if e, err = t.coerce(e, pgval.NumericOID); err != nil {
				return expr{}, err
			}
		}
		if i == 0 {
			first = e
		}
		agg = agg || e.agg
		out = append(out, e.sql)
	}
	ret := spec.ret
	if ret == 0 {
		ret = first.typ
	}
	return expr{sql: spec.sqlName + "(" + strings.Join(out, ", ") + ")", typ: ret, mod: -1, agg: agg}, nil
}

// coerceArg converts a function argument, accepting PostgreSQL's implicit
// casts to text for string functions.
func (t *translator) coerceArg(e expr, target pgval.OID) (expr, error) {
	if target == pgval.TextOID && !sqltype.IsText(e.typ) && e.lit == nil && !e.null && e.param == 0 {
		sql, err := t.asText(e)
		if err != nil {
			return expr{}, err
		}
		return expr{sql: sql, typ: pgval.TextOID, mod: -1, agg: e.agg}, nil
	}
	return t.coerce(e, target)
}

func fnNow(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 0 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function now() takes no arguments")
	}
	return t.nowExpr(pgval.TimestamptzOID), nil
}

func fnConcat(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	parts := make([]string, 0, len(fc.Args))
	for _, a := range fc.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return expr{}, err
		}
		sql, err := t.asText(e)
		if err != nil {
			return expr{}, err
		}
		parts = append(parts, "coalesce("+sql+", '')")
	}
	if len(parts) == 0 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function concat() does not exist")
	}
	return typed("("+strings.Join(parts, " || ")+")", text, "concat"), nil
}

func fnConcatWS(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function concat_ws() does not exist")
	}
	parts := make([]string, 0, len(fc.Args))
	for _, a := range fc.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return expr{}, err
		}
		sql, err := t.asText(e)
		if err != nil {
			return expr{}, err
		}
		parts = append(parts, sql)
	}
	return typed("chr2_concat_ws("+strings.Join(parts, ", ")+")", text, "concat_ws"), nil
}

func fnPosition(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function position takes two arguments")
	}
	// POSITION(sub IN str) arrives as position(str, sub).
	e, err := t.plainCall(s, "position", functions["strpos"], fc.Args)
	e.name = "position"
	return e, err
}

func fnDateTrunc(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function date_trunc takes two arguments")
	}
	field, err := t.exprAs(s, fc.Args[0], text)
	if err != nil {
		return expr{}, err
	}
	ts, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if ts.lit != nil || ts.param > 0 && ts.typ == pgval.Unspecified {
		if ts, err = t.coerce(ts, pgval.TimestamptzOID); err != nil {
			return expr{}, err
		}
	}
	if !sqltype.IsTime(ts.typ) {
		return expr{}, opMissing("date_trunc", text, ts.typ)
	}
	typ := ts.typ
	if typ == pgval.DateOID {
		typ = pgval.TimestamptzOID
	}
	return typed("chr2_date_trunc("+field.sql+", "+ts.sql+")", typ, "date_trunc"), nil
}

// fnTimezone is timezone(zone, ts), which AT TIME ZONE parses to.
func fnTimezone(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function timezone takes two arguments")
	}
	zone, err := t.exprAs(s, fc.Args[0], text)
	if err != nil {
		return expr{}, err
	}
	ts, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if ts.lit != nil || ts.param > 0 && ts.typ == pgval.Unspecified {
		if ts, err = t.coerce(ts, pgval.TimestamptzOID); err != nil {
			return expr{}, err
		}
	}
	switch ts.typ {
	case pgval.TimestamptzOID:
		return typed("chr2_at_time_zone("+ts.sql+", "+zone.sql+", 1)", pgval.TimestampOID, "timezone"), nil
	case pgval.TimestampOID, pgval.DateOID:
		return typed("chr2_at_time_zone("+ts.sql+", "+zone.sql+", 2)", pgval.TimestamptzOID, "timezone"), nil
	}
	return expr{}, pgerr.New(pgerr.UndefinedFunction, "function timezone(text, %s) does not exist", typeSQLName(ts.typ))
}

func fnDatePart(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function date_part takes two arguments")
	}
	field, err := t.exprAs(s, fc.Args[0], text)
	if err != nil {
		return expr{}, err
	}
	ts, err := t.expr(s, fc.Args[1])
	if err != nil {
		return expr{}, err
	}
	if ts.lit != nil {
		if ts, err = t.coerce(ts, pgval.TimestamptzOID); err != nil {
			return expr{}, err
		}
	}
	name := strVal(fc.Funcname[len(fc.Funcname)-1])
	if name == "extract" { // numeric, with PostgreSQL 15's scale per field
		return typed("chr2_extract("+field.sql+", "+ts.sql+", "+oidLit(ts.typ)+")", pgval.NumericOID, name), nil
	}
	typ := ts.typ
	if typ == pgval.DateOID {
		typ = pgval.TimestampOID // date_part has no date form: the date is cast to timestamp
	}
	return typed("chr2_date_part("+field.sql+", "+ts.sql+", "+oidLit(typ)+")", flt8, name), nil
}

func fnCount(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if fc.AggStar {
		inner := &scope{parent: s.parent, items: s.items}
		filter, err := t.aggFilter(inner, fc.AggFilter)
		if err != nil {
			return expr{}, err
		}
		return typed("count(*)"+filter, int8, "count"), nil
	}
	return t.aggregate(s, fc, "count", func(e expr) (expr, error) {
		return typed("", int8, "count"), nil
	})
}

func fnSum(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	return t.aggregate(s, fc, "sum", func(e expr) (expr, error) {
		switch {
		case e.typ == pgval.Int2OID || e.typ == pgval.Int4OID:
			return typed("", int8, "sum"), nil
		case e.typ == pgval.Int8OID || e.typ == pgval.NumericOID:
			return typed("", pgval.NumericOID, "sum"), nil
		case e.typ == pgval.Float4OID || e.typ == pgval.Float8OID || e.typ == pgval.IntervalOID:
			return typed("", e.typ, "sum"), nil
		}
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function sum(%s) does not exist", typeSQLName(e.typ))
	})
}

func fnAvg(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	return t.aggregate(s, fc, "avg", func(e expr) (expr, error) {
		switch {
		case e.typ == pgval.Float4OID || e.typ == pgval.Float8OID:
			return typed("", flt8, "avg"), nil
		case sqltype.IsNumeric(e.typ):
			return typed("", pgval.NumericOID, "avg"), nil
		case e.typ == pgval.IntervalOID:
			return typed("", pgval.IntervalOID, "avg"), nil
		}
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function avg(%s) does not exist", typeSQLName(e.typ))
	})
}

func fnMinMax(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	name := strVal(fc.Funcname[len(fc.Funcname)-1])
	return t.aggregate(s, fc, name, func(e expr) (expr, error) {
		switch e.typ {
		case boolT, pgval.ByteaOID, pgval.UUIDOID, pgval.JSONOID, pgval.JSONBOID:
			// PostgreSQL defines no ordering aggregate for these.
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeSQLName(e.typ)).
				WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").
				WithPosition(fc.Location + 1)
		}
		r := typed("", e.typ, name)
		r.mod = e.mod
		return r, nil
	})
}

func fnBoolAgg(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	name := strVal(fc.Funcname[len(fc.Funcname)-1])
	fn := "min"
	if name == "bool_or" {
		fn = "max"
	}
	e, err := t.aggregate(s, fc, fn, func(e expr) (expr, error) {
		if e.typ != boolT {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeSQLName(e.typ))
		}
		return typed("", boolT, name), nil
	})
	e.name = name
	return e, err
}

func fnStringAgg(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function string_agg takes two arguments")
	}
	inner := &scope{parent: s.parent, items: s.items}
	v, err := t.expr(inner, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	vs, err := t.asText(v)
	if err != nil {
		return expr{}, err
	}
	d, err := t.exprAs(inner, fc.Args[1], text)
	if err != nil {
		return expr{}, err
	}
	order, err := t.aggOrder(inner, fc.AggOrder)
	if err != nil {
		return expr{}, err
	}
	fn := "group_concat("
	if fc.AggDistinct {
		fn = "chr2_string_agg_distinct(" // SQLite's DISTINCT takes one argument (funcs/jsonfns.go)
		if order == "" {
			order = " ORDER BY " + vs // PostgreSQL's DISTINCT sorts the values
		}
	}
	filter, err := t.aggFilter(inner, fc.AggFilter)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: fn + vs + ", " + d.sql + order + ")" + filter,
		typ: text, mod: -1, name: "string_agg", agg: true}, nil
}

// aggregate translates agg(x) with DISTINCT, ORDER BY and FILTER, typing
// the result with resultType.
func (t *translator) aggregate(s *scope, fc *pg.FuncCall, sqlFn string, resultType func(expr) (expr, error)) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", sqlFn, len(fc.Args))
	}
	if s == nil {
		return expr{}, pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed here")
	}
	// Arguments of an aggregate may not contain aggregates.
	inner := &scope{parent: s.parent, items: s.items}
	arg, err := t.expr(inner, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	if arg.lit != nil || arg.param > 0 && arg.typ == pgval.Unspecified {
		if arg, err = t.coerce(arg, pgval.NumericOID); err != nil {
			return expr{}, err
		}
	}
	out, err := resultType(arg)
	if err != nil {
		return expr{}, err
	}
	distinct := ""
	if fc.AggDistinct {
		distinct = "DISTINCT "
	}
	filter, err := t.aggFilter(inner, fc.AggFilter)
	if err != nil {
		return expr{}, err
	}
	order, err := t.aggOrder(inner, fc.AggOrder)
	if err != nil {
		return expr{}, err
	}
	fn := sqlFn
	argSQL := arg.sql
	switch {
	case (sqlFn == "sum" || sqlFn == "avg") && out.typ == pgval.IntervalOID:
		fn = "chr2_interval_" + sqlFn // funcs/intervalsum.go
	case sqlFn == "sum" && out.typ == pgval.NumericOID:
		fn = "chr2_numeric_sum"
	case sqlFn == "avg" && out.typ == pgval.NumericOID:
		fn = "chr2_numeric_avg"
	}
	// min/max order, and DISTINCT compares, with the type's collation.
	switch {
	case (sqlFn == "min" || sqlFn == "max" || fc.AggDistinct) && isArrayType(arg.typ):
		argSQL = arraySortKey(arg)
	case sqlFn == "min" || sqlFn == "max" || fc.AggDistinct:
		argSQL = collatedSortKey(arg)
	}
	out.sql = fn + "(" + distinct + argSQL + order + ")" + filter
	if sql, ok := t.enumMinMax(fn, arg, order+")"+filter); ok && (fn == "min" || fn == "max") {
		out.sql = sql // enums.go
	}
	out.agg = true
	return out, nil
}

func (t *translator) aggFilter(s *scope, f *pg.Node) (string, error) {
	if f == nil {
		return "", nil
	}
	cond, err := t.boolExpr(s, f, "FILTER")
	if err != nil {
		return "", err
	}
	return " FILTER (WHERE " + cond + ")", nil
}

func (t *translator) aggOrder(s *scope, order []*pg.Node) (string, error) {
	if len(order) == 0 {
		return "", nil
	}
	items := make([]string, 0, len(order))
	for _, o := range order {
		sb := o.GetSortBy()
		e, err := t.expr(s, sb.Node)
		if err != nil {
			return "", err
		}
		items = append(items, t.sortKeySQL(e)+sortSuffix(sb))
	}
	return " ORDER BY " + strings.Join(items, ", "), nil
}
