package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Set-returning functions in FROM. Each becomes a subquery producing a
// column "value" (and "ordinality" WITH ORDINALITY), in a defined order.

// srfResult is a translated set-returning function: a subquery (sql), or
// a table-valued function (tvf: json_each over a list the chr2_* function
// builds), which — unlike a subquery — may read columns of the FROM items
// before it, as PostgreSQL's implicitly LATERAL function calls do.
type srfResult struct {
	sql     string
	tvf     string
	cols    []srfCol
	named   bool   // the columns keep their own names (OUT parameters: key, value)
	defName string // item (and single column) name when the call has no alias
}

// srfCol is one output column: its name, its SQLite name in the subquery,
// or (tvf) its value as an expression over the alias {t}.
type srfCol struct {
	name, sqlName string
	typ           pgval.OID
	expr          string
}

func single(sql string, typ pgval.OID, defName string) srfResult {
	return srfResult{sql: sql, cols: []srfCol{{name: defName, sqlName: "value", typ: typ}}, defName: defName}
}

// tvfItems is a table-valued function over a JSON array of items; each row
// is one item, value is the item.
func tvfItems(list string, typ pgval.OID, defName string) srfResult {
	return srfResult{tvf: "json_each(" + list + ")", cols: []srfCol{{name: defName, typ: typ, expr: "{t}.value"}},
		defName: defName}
}

// srfNames are the set-returning functions chr2sql implements.
var srfNames = map[string]bool{"generate_series": true, "unnest": true, "pg_partition_ancestors": true,
	"jsonb_array_elements": true, "jsonb_array_elements_text": true, "json_array_elements": true,
	"json_array_elements_text": true, "jsonb_object_keys": true, "json_object_keys": true, "jsonb_each": true,
	"jsonb_each_text": true, "json_each": true, "json_each_text": true, "regexp_matches": true,
	"regexp_split_to_table": true, "generate_subscripts": true}

func (t *translator) fromFunction(s *scope, rf *pg.RangeFunction) (string, error) {
	rf = splitUnnest(rf) // arrays.go
	if len(rf.Functions) > 1 {
		return t.rowsFrom(s, rf)
	}
	list, ok := rf.Functions[0].Node.(*pg.Node_List)
	if !ok || len(list.List.Items) == 0 {
		return "", pgerr.Unsupported("this FROM function")
	}
	fc, ok := list.List.Items[0].Node.(*pg.Node_FuncCall)
	if !ok {
		return "", pgerr.Unsupported("this FROM function")
	}
	res, err := t.setReturning(s, fc.FuncCall, rf.Ordinality)
	if err != nil {
		return "", err
	}
	return t.addFunctionItem(s, rf, res)
}

func (t *translator) setReturning(s *scope, fc *pg.FuncCall, ordinality bool) (srfResult, error) {
	name := strings.TrimPrefix(strings.Join(names(fc.Funcname), "."), "pg_catalog.")
	switch name {
	case "generate_series":
		return t.generateSeries(s, fc, ordinality)
	case "unnest":
		return t.unnest(s, fc)
	case "pg_partition_ancestors":
		e, err := t.expr(s, &pg.Node{Node: &pg.Node_FuncCall{FuncCall: fc}})
		if err != nil {
			return srfResult{}, err
		}
		return single("SELECT "+e.sql+` AS "value", 1 AS "ordinality"`, pgval.RegclassOID, "relid"), nil
	case "jsonb_array_elements", "json_array_elements", "jsonb_array_elements_text", "json_array_elements_text",
		"jsonb_object_keys", "json_object_keys", "jsonb_each", "json_each", "jsonb_each_text", "json_each_text":
		return t.jsonSetReturning(s, fc, name)
	case "regexp_matches", "regexp_split_to_table":
		return t.regexpSetReturning(s, fc, name)
	case "generate_subscripts":
		return t.generateSubscripts(s, fc)
	}
	return srfResult{}, pgerr.Unsupported("function " + name + " in FROM")
}

func (t *translator) addFunctionItem(s *scope, rf *pg.RangeFunction, res srfResult) (string, error) {
	alias := res.defName
	var colNames []string
	if rf.Alias != nil {
		alias = rf.Alias.Aliasname
		colNames = names(rf.Alias.Colnames)
	}
	if s.item(alias) != nil {
		return "", pgerr.New(pgerr.DuplicateAlias, "table name %q specified more than once", alias)
	}
	if n := len(res.cols) + b2i(rf.Ordinality); len(colNames) > n {
		return "", pgerr.New(pgerr.InvalidColumnReference, "table %q has %d columns available but %d columns specified",
			alias, n, len(colNames))
	}
	ref := quote(alias)
	item := &rangeItem{name: alias, sqlAlias: alias}
	for i, c := range res.cols {
		name := c.name
		if len(res.cols) == 1 && !res.named {
			name = alias
		}
		if i < len(colNames) {
			name = colNames[i]
		}
		sc := scopeCol{name: name, sqlName: c.sqlName, typ: c.typ, mod: -1}
		if res.tvf != "" {
			sc.sqlExpr = strings.ReplaceAll(c.expr, "{t}", ref)
		}
		item.cols = append(item.cols, sc)
	}
	if rf.Ordinality {
		ordName := "ordinality"
		if len(colNames) > len(res.cols) {
			ordName = colNames[len(res.cols)]
		}
		sc := scopeCol{name: ordName, sqlName: "ordinality", typ: int8, mod: -1}
		if res.tvf != "" {
			sc.sqlExpr = "(" + ref + ".key + 1)"
		}
		item.cols = append(item.cols, sc)
	}
	s.items = append(s.items, item)
	if res.tvf != "" {
		return res.tvf + " AS " + ref, nil
	}
	return "(" + res.sql + ") AS " + ref, nil
}

// jsonSetReturning expands a JSON document: chr2_json_items lists the parts
// as a JSON array of texts (exact numbers, normalised jsonb) for json_each.
func (t *translator) jsonSetReturning(s *scope, fc *pg.FuncCall, name string) (srfResult, error) {
	if len(fc.Args) != 1 {
		return srfResult{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes one argument", name)
	}
	jsonb := strings.HasPrefix(name, "jsonb")
	doc, err := t.expr(s, fc.Args[0])
	if err != nil {
		return srfResult{}, err
	}
	if doc, err = t.coerce(doc, jsonType(jsonb)); err != nil {
		return srfResult{}, err
	}
	if doc.typ != pgval.JSONOID && doc.typ != pgval.JSONBOID {
		return srfResult{}, pgerr.New(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, typeSQLName(doc.typ))
	}
	valueType := jsonType(jsonb)
	if strings.HasSuffix(name, "_text") {
		valueType = text
	}
	mode := strings.TrimPrefix(strings.TrimPrefix(name, "jsonb_"), "json_")
	list := "chr2_json_items(" + doc.sql + ", '" + mode + "', " + style(jsonb) + ")"
	switch mode {
	case "each", "each_text":
		return srfResult{tvf: "json_each(" + list + ")", named: true, defName: name, cols: []srfCol{
			{name: "key", typ: text, expr: "json_extract({t}.value, '$[0]')"},
			{name: "value", typ: valueType, expr: "json_extract({t}.value, '$[1]')"}}}, nil
	case "object_keys":
		return tvfItems(list, text, name), nil
	}
	res := tvfItems(list, valueType, name)
	res.cols[0].name, res.named = "value", true
	return res, nil
}

// rewriteTargetSRF turns a set-returning function in the select list
// (SELECT unnest(a) FROM t) into a FROM item joined to the query, which is
// what PostgreSQL's evaluation amounts to; several such functions become
// one ROWS FROM item, as they run in lockstep.
func (t *translator) rewriteTargetSRF(sel *pg.SelectStmt) (*pg.SelectStmt, error) {
	var found []int
	for i, n := range sel.TargetList {
		if fc := targetSRF(n.GetResTarget().Val); fc != nil {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		return sel, nil
	}
	out := proto.Clone(sel).(*pg.SelectStmt)
	t.aliasSeq++
	alias := "_srf" + strconv.Itoa(t.aliasSeq)
	rf := &pg.RangeFunction{Alias: &pg.Alias{Aliasname: alias}}
	for i, at := range found {
		rt := out.TargetList[at].GetResTarget()
		fc := targetSRF(rt.Val)
		if n := funcName(fc); strings.HasSuffix(n, "_each") || strings.HasSuffix(n, "_each_text") {
			return nil, pgerr.Unsupported(n + " in the select list")
		}
		if rt.Name == "" {
			rt.Name = funcName(fc)
		}
		col := "v" + strconv.Itoa(i+1)
		rf.Functions = append(rf.Functions, &pg.Node{Node: &pg.Node_List{List: &pg.List{Items: []*pg.Node{
			{Node: &pg.Node_FuncCall{FuncCall: fc}}}}}})
		rf.Alias.Colnames = append(rf.Alias.Colnames, pg.MakeStrNode(col))
		ref := &pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: &pg.ColumnRef{Fields: []*pg.Node{pg.MakeStrNode(alias),
			pg.MakeStrNode(col)}}}}
		if tc := rt.Val.GetTypeCast(); tc != nil {
			tc.Arg = ref // SELECT generate_series(…)::date keeps its cast
		} else {
			rt.Val = ref
		}
	}
	out.FromClause = append(out.FromClause, &pg.Node{Node: &pg.Node_RangeFunction{RangeFunction: rf}})
	return out, nil
}

// targetSRF is the set-returning function call a select list item is,
// directly or under a cast, or nil.
func targetSRF(n *pg.Node) *pg.FuncCall {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	if fc := n.GetFuncCall(); fc != nil && fc.Over == nil && srfNames[funcName(fc)] {
		return fc
	}
	return nil
}

// generateSeries renders generate_series(start, stop[, step]) over
// integers as a recursive CTE (SQLite's series extension is not built in).
func (t *translator) generateSeries(s *scope, fc *pg.FuncCall, ordinality bool) (srfResult, error) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return srfResult{}, pgerr.New(pgerr.UndefinedFunction, "function generate_series with %d arguments does not exist",
			len(fc.Args))
	}
	args := make([]expr, 0, 3)
	typ := int4
	for _, a := range fc.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return srfResult{}, err
		}
		args = append(args, e)
	}
	if isTimeSeries(args) {
		return t.timeSeries(fc, args) // timeseries.go
	}
	for _, e := range args {
		if e.typ == int8 {
			typ = int8
		}
		if e.typ != pgval.Unspecified && e.lit == nil && !e.null && !sqltype.IsInteger(e.typ) {
			return srfResult{}, pgerr.Unsupported("generate_series over " + typeSQLName(e.typ))
		}
	}
	for i := range args {
		var err error
		if args[i], err = t.coerce(args[i], typ); err != nil {
			return srfResult{}, err
		}
	}
	start, stop, step := args[0].sql, args[1].sql, "1"
	if len(args) == 3 {
		step = "(CASE WHEN " + args[2].sql + " = 0 THEN chr2_raise('" + string(pgerr.InvalidParameterValue) +
			"', 'step size cannot equal zero') ELSE " + args[2].sql + " END)"
	}
	t.aliasSeq++
	cte := quote("_gs" + strconv.Itoa(t.aliasSeq))
	sql := "WITH RECURSIVE " + cte + `("value", "ordinality") AS (SELECT ` + start + `, 1 UNION ALL SELECT "value" + ` +
		step + `, "ordinality" + 1 FROM ` + cte + ` WHERE (` + step + ` > 0 AND "value" + ` + step + ` <= ` + stop +
		`) OR (` + step + ` < 0 AND "value" + ` + step + ` >= ` + stop + `)) SELECT "value", "ordinality" FROM ` + cte +
		` WHERE (` + step + ` > 0 AND ` + start + ` <= ` + stop + `) OR (` + step + ` < 0 AND ` + start + ` >= ` + stop + `)`
	return single(sql, typ, "generate_series"), nil
}

// unnest renders unnest(array) in element order.
func (t *translator) unnest(s *scope, fc *pg.FuncCall) (srfResult, error) {
	if len(fc.Args) != 1 {
		return srfResult{}, pgerr.Unsupported("unnest with several arrays")
	}
	arr, elem, err := t.arrayArg(s, fc.Args[0], "unnest")
	if err != nil {
		return srfResult{}, err
	}
	src := "chr2_array_json(" + arr.sql + ", " + oidLit(elem) + ")"
	if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
		src = "chr2_vector_json(" + arr.sql + ")"
	}
	return tvfItems(src, vectorElem(elem), "unnest"), nil
}

// generateSubscripts is generate_subscripts(array, dim [, reverse]): the
// subscripts of one dimension of an array (from 0 for int2vector/oidvector).
func (t *translator) generateSubscripts(s *scope, fc *pg.FuncCall) (srfResult, error) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return srfResult{}, pgerr.New(pgerr.UndefinedFunction, "function generate_subscripts with %d arguments does not exist", len(fc.Args))
	}
	arr, elem, err := t.arrayArg(s, fc.Args[0], "generate_subscripts")
	if err != nil {
		return srfResult{}, err
	}
	dim, err := t.exprAs(s, fc.Args[1], int4)
	if err != nil {
		return srfResult{}, err
	}
	if elem != pgval.Int2VectorOID && elem != pgval.OIDVectorOID {
		return t.arraySubscripts(s, fc, arr, elem, dim) // arrays.go
	}
	if len(fc.Args) == 3 {
		return srfResult{}, pgerr.Unsupported("generate_subscripts in reverse over a vector")
	}
	src := "chr2_array_json(" + arr.sql + ", " + oidLit(elem) + ")"
	first := "1"
	if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
		src, first = "chr2_vector_json("+arr.sql+")", "0"
	}
	src = "CASE WHEN " + dim.sql + " = 1 THEN " + src + " ELSE '[]' END"
	res := tvfItems(src, int4, "generate_subscripts")
	res.cols[0].expr = "({t}.key + " + first + ")"
	return res, nil
}
