package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// JSON construction functions and whole-row references.

func jsonFunctionTable() map[string]fnSpec {
	return map[string]fnSpec{
		"to_json":            {special: fnToJSON(false)},
		"to_jsonb":           {special: fnToJSON(true)},
		"row_to_json":        {special: fnRowToJSON},
		"json_build_object":  {special: fnJSONBuild("o", false)},
		"jsonb_build_object": {special: fnJSONBuild("o", true)},
		"json_build_array":   {special: fnJSONBuild("a", false)},
		"jsonb_build_array":  {special: fnJSONBuild("a", true)},
		"json_agg":           {special: fnJSONAgg(false), agg: true},
		"jsonb_agg":          {special: fnJSONAgg(true), agg: true},
		"json_object_agg":    {special: fnJSONObjectAgg(false), agg: true},
		"jsonb_object_agg":   {special: fnJSONObjectAgg(true), agg: true},
		"json_typeof":        {sqlName: "chr2_jsonb_typeof", args: []pgval.OID{pgval.JSONOID}, ret: text, minArgs: 1, maxArgs: 1},
		"jsonb_array_length": {sqlName: "chr2_json_array_length", args: []pgval.OID{pgval.JSONBOID}, ret: int4, minArgs: 1, maxArgs: 1},
		"json_array_length":  {sqlName: "chr2_json_array_length", args: []pgval.OID{pgval.JSONOID}, ret: int4, minArgs: 1, maxArgs: 1},
		"jsonb_strip_nulls":  {sqlName: "chr2_jsonb_strip_nulls", args: []pgval.OID{pgval.JSONBOID}, ret: pgval.JSONBOID, minArgs: 1, maxArgs: 1},
		"json_strip_nulls":   {sqlName: "chr2_jsonb_strip_nulls", args: []pgval.OID{pgval.JSONOID}, ret: pgval.JSONOID, minArgs: 1, maxArgs: 1},
		"jsonb_pretty":       {sqlName: "chr2_jsonb_pretty", args: []pgval.OID{pgval.JSONBOID}, ret: text, minArgs: 1, maxArgs: 1},
		"jsonb_set":          {special: fnJSONBSet(0)},
		"jsonb_insert":       {special: fnJSONBSet(1)},
	}
}

// fnJSONBSet is jsonb_set(doc, path, value [, create_missing]) and
// jsonb_insert(doc, path, value [, insert_after]).
func fnJSONBSet(insert int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) < 3 || len(fc.Args) > 4 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", funcName(fc), len(fc.Args))
		}
		types := []pgval.OID{pgval.JSONBOID, pgval.TextArrayOID, pgval.JSONBOID, pgval.BoolOID}
		parts := make([]string, 0, 5)
		for i, a := range fc.Args {
			e, err := t.expr(s, a)
			if err != nil {
				return expr{}, err
			}
			if e, err = t.coerce(e, types[i]); err != nil {
				return expr{}, err
			}
			parts = append(parts, e.sql)
		}
		flag := "NULL"
		if len(parts) == 4 {
			flag = parts[3]
		}
		mode := "0"
		if insert == 1 {
			mode = "CASE WHEN " + flag + " THEN 2 ELSE 1 END"
			if len(parts) == 3 {
				mode = "1"
			}
		}
		return typed("chr2_jsonb_set("+parts[0]+", "+parts[1]+", "+parts[2]+", "+flag+", "+mode+")", pgval.JSONBOID,
			funcName(fc)), nil
	}
}

// jsonbExists is ?, ?| and ?&.
func (t *translator) jsonbExists(op string, l, r expr) (expr, error) {
	var err error
	if l, err = t.coerce(l, pgval.JSONBOID); err != nil {
		return expr{}, err
	}
	mode, rt := "'one'", pgval.OID(text)
	switch op {
	case "?|":
		mode, rt = "'any'", pgval.TextArrayOID
	case "?&":
		mode, rt = "'all'", pgval.TextArrayOID
	}
	if r, err = t.coerce(r, rt); err != nil {
		return expr{}, err
	}
	if l.typ != pgval.JSONBOID {
		return expr{}, opMissing(op, l.typ, r.typ)
	}
	return expr{sql: "chr2_jsonb_exists(" + l.sql + ", " + r.sql + ", " + mode + ")", typ: pgval.BoolOID, mod: -1}, nil
}

// jsonbDelete is jsonb - text | int | text[].
func (t *translator) jsonbDelete(l, r expr) (expr, error) {
	kind := "'key'"
	var err error
	switch {
	case sqltype.IsInteger(r.typ):
		kind = "'idx'"
	case r.typ == pgval.TextArrayOID:
		kind = "'keys'"
	default:
		if r, err = t.coerce(r, text); err != nil {
			return expr{}, err
		}
	}
	return expr{sql: "chr2_jsonb_delete(" + l.sql + ", " + r.sql + ", " + kind + ")", typ: pgval.JSONBOID, mod: -1}, nil
}

func (t *translator) jsonbDeletePath(l, r expr) (expr, error) {
	var err error
	if l, err = t.coerce(l, pgval.JSONBOID); err != nil {
		return expr{}, err
	}
	if r, err = t.coerce(r, pgval.TextArrayOID); err != nil {
		return expr{}, err
	}
	return expr{sql: "chr2_jsonb_delete_path(" + l.sql + ", " + r.sql + ")", typ: pgval.JSONBOID, mod: -1}, nil
}

// wholeRow resolves a bare range item name used as a value: the row.
func (t *translator) wholeRow(s *scope, name string) (expr, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		it := sc.item(name)
		if it == nil {
			continue
		}
		e := expr{typ: pgval.RecordOID, mod: -1, name: name}
		texts := make([]string, 0, len(it.cols))
		for _, c := range it.cols {
			if c.usingMerged {
				continue
			}
			col := c
			f := expr{sql: it.ref(c), typ: c.typ, mod: c.mod, col: &col, name: c.name}
			e.row = append(e.row, rowField{name: c.name, e: f})
			txt, err := t.asText(f)
			if err != nil {
				return expr{}, false
			}
			texts = append(texts, txt)
		}
		e.sql = "chr2_record_text(" + strings.Join(texts, ", ") + ")"
		return e, true
	}
	return expr{}, false
}

// jsonValue renders e as JSON text for the chr2_json_* constructors.
func (t *translator) jsonValue(e expr) string {
	if e.row != nil {
		return t.jsonRow(e, false)
	}
	if e.lit != nil || e.null {
		e, _ = t.coerce(e, pgval.TextOID)
	}
	typ := e.typ
	if typ == pgval.Unspecified || typ == pgval.UnknownOID {
		typ = pgval.TextOID
	}
	return "chr2_to_json(" + e.sql + ", " + oidLit(typ) + ")"
}

// jsonRow renders a whole-row value as a JSON object.
func (t *translator) jsonRow(e expr, jsonb bool) string {
	parts := []string{style(jsonb)}
	for _, f := range e.row {
		parts = append(parts, sqltype.QuoteString(f.name), t.jsonValue(f.e))
	}
	return "chr2_json_row(" + strings.Join(parts, ", ") + ")"
}

func style(jsonb bool) string {
	if jsonb {
		return "1"
	}
	return "0"
}

func jsonType(jsonb bool) pgval.OID {
	if jsonb {
		return pgval.JSONBOID
	}
	return pgval.JSONOID
}

func fnToJSON(jsonb bool) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes one argument", funcName(fc))
		}
		e, err := t.expr(s, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		sql := t.jsonValue(e)
		switch {
		case e.row != nil:
			sql = t.jsonRow(e, jsonb)
		case e.null:
			sql = "NULL"
		default:
			if jsonb {
				sql = "chr2_json_build('n', 1, " + sql + ")"
			}
			// A NULL argument is SQL NULL, not JSON null.
			sql = "CASE WHEN " + e.sql + " IS NULL THEN NULL ELSE " + sql + " END"
		}
		return expr{sql: sql, typ: jsonType(jsonb), mod: -1, name: funcName(fc), agg: e.agg}, nil
	}
}

func fnRowToJSON(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function row_to_json with %d arguments does not exist", len(fc.Args))
	}
	e, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	if e.row == nil {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function row_to_json(%s) does not exist", typeSQLName(e.typ))
	}
	return expr{sql: t.jsonRow(e, false), typ: pgval.JSONOID, mod: -1, name: "row_to_json", agg: e.agg}, nil
}

func fnJSONBuild(kind string, jsonb bool) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if kind == "o" && len(fc.Args)%2 != 0 {
			return expr{}, pgerr.New(pgerr.InvalidParameterValue, "argument list must have even number of elements").
				WithHint("The arguments of %s() must consist of alternating keys and values.", funcName(fc))
		}
		parts := []string{"'" + kind + "'", style(jsonb)}
		agg := false
		for i, a := range fc.Args {
			e, err := t.expr(s, a)
			if err != nil {
				return expr{}, err
			}
			agg = agg || e.agg
			if kind == "o" && i%2 == 0 {
				sql, err := t.asText(e)
				if err != nil {
					return expr{}, err
				}
				parts = append(parts, sql)
				continue
			}
			parts = append(parts, t.jsonValue(e))
		}
		return expr{sql: "chr2_json_build(" + strings.Join(parts, ", ") + ")", typ: jsonType(jsonb), mod: -1,
			name: funcName(fc), agg: agg}, nil
	}
}

func fnJSONAgg(jsonb bool) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes one argument", funcName(fc))
		}
		inner := &scope{parent: s.parent, items: s.items}
		e, err := t.expr(inner, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		st := style(jsonb)
		if !jsonb && (e.typ == pgval.RecordOID || isArrayType(e.typ)) {
			st = "2" // json_agg puts "\n " before a row or an array (funcs.jsonAgg)
		}
		return t.jsonAggregate(inner, fc, "chr2_json_agg("+t.jsonValue(e)+", "+st, jsonb)
	}
}

func fnJSONObjectAgg(jsonb bool) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 2 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes two arguments", funcName(fc))
		}
		inner := &scope{parent: s.parent, items: s.items}
		k, err := t.expr(inner, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		ks, err := t.asText(k)
		if err != nil {
			return expr{}, err
		}
		v, err := t.expr(inner, fc.Args[1])
		if err != nil {
			return expr{}, err
		}
		return t.jsonAggregate(inner, fc, "chr2_json_object_agg("+ks+", "+t.jsonValue(v)+", "+style(jsonb), jsonb)
	}
}

// jsonAggregate closes a chr2_json_*agg call with ORDER BY and FILTER.
func (t *translator) jsonAggregate(s *scope, fc *pg.FuncCall, call string, jsonb bool) (expr, error) {
	if fc.AggDistinct {
		return expr{}, pgerr.Unsupported(funcName(fc) + "(DISTINCT …)")
	}
	order, err := t.aggOrder(s, fc.AggOrder)
	if err != nil {
		return expr{}, err
	}
	filter, err := t.aggFilter(s, fc.AggFilter)
	if err != nil {
		return expr{}, err
	}
	return expr{sql: call + order + ")" + filter, typ: jsonType(jsonb), mod: -1, name: funcName(fc), agg: true}, nil
}
