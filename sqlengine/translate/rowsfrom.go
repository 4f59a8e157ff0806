package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
)

// ROWS FROM (f1(…), f2(…)) and several set-returning functions in one
// select list, which PostgreSQL evaluates the same way: the functions run
// in lockstep, row i holds every function's i-th row, and a function that
// has run out gives NULLs until the longest is done. Only functions backed
// by a JSON list (unnest, the json/jsonb expanders, regexp functions,
// generate_subscripts) take part: row i reads item i of each list, and the
// rows are the items of the longest list.

// rowsFrom translates a RangeFunction with several functions.
func (t *translator) rowsFrom(s *scope, rf *pg.RangeFunction) (string, error) {
	var lists []string
	var parts []srfResult
	for _, fn := range rf.Functions {
		list, ok := fn.Node.(*pg.Node_List)
		if !ok || len(list.List.Items) == 0 {
			return "", pgerr.Unsupported("this FROM function")
		}
		fc, ok := list.List.Items[0].Node.(*pg.Node_FuncCall)
		if !ok {
			return "", pgerr.Unsupported("this FROM function")
		}
		res, err := t.setReturning(s, fc.FuncCall, false)
		if err != nil {
			return "", err
		}
		if res.tvf == "" || !strings.HasPrefix(res.tvf, "json_each(") {
			return "", pgerr.Unsupported(funcName(fc.FuncCall) + " together with other set-returning functions")
		}
		lists = append(lists, strings.TrimSuffix(strings.TrimPrefix(res.tvf, "json_each("), ")"))
		parts = append(parts, res)
	}
	const idx = "{i}" // the row number, the json_each key of the longest list
	zipped := srfResult{tvf: "json_each(" + longestList(lists) + ")", defName: parts[0].defName, named: true}
	for i, res := range parts {
		n := "coalesce(json_array_length(" + lists[i] + "), 0)"
		value := "json_extract(" + lists[i] + ", '$[' || " + idx + " || ']')"
		key := "(CASE WHEN " + idx + " < " + n + " THEN " + idx + " END)"
		for _, c := range res.cols {
			name := c.name
			if len(res.cols) == 1 && !res.named {
				name = res.defName
			}
			e := strings.ReplaceAll(strings.ReplaceAll(c.expr, "{t}.value", value), "{t}.key", key)
			zipped.cols = append(zipped.cols, srfCol{name: name, typ: c.typ, expr: strings.ReplaceAll(e, idx, "{t}.key")})
		}
	}
	return t.addFunctionItem(s, rf, zipped)
}

// longestList picks, row by row, the list with the most items: the first
// one at least as long as every later one.
func longestList(lists []string) string {
	if len(lists) == 1 {
		return lists[0]
	}
	var b strings.Builder
	b.WriteString("CASE")
	for i := 0; i < len(lists)-1; i++ {
		var conds []string
		for j := i + 1; j < len(lists); j++ {
			conds = append(conds, "coalesce(json_array_length("+lists[i]+"), 0) >= coalesce(json_array_length("+lists[j]+"), 0)")
		}
		b.WriteString(" WHEN " + strings.Join(conds, " AND ") + " THEN " + lists[i])
	}
	b.WriteString(" ELSE " + lists[len(lists)-1] + " END")
	return b.String()
}
