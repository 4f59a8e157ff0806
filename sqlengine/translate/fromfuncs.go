package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Set-returning functions in FROM. Each becomes a subquery producing a
// column "value" (and "ordinality" WITH ORDINALITY), in a defined order.

// srfResult is a translated set-returning function.
type srfResult struct {
	sql     string // SELECT producing "value" (and "ordinality")
	typ     pgval.OID
	defName string // column name when the call has no alias
}

func (t *translator) fromFunction(s *scope, rf *pg.RangeFunction) (string, error) {
	if len(rf.Functions) != 1 || rf.IsRowsfrom {
		return "", pgerr.Unsupported("ROWS FROM with several functions")
	}
	list, ok := rf.Functions[0].Node.(*pg.Node_List)
	if !ok || len(list.List.Items) == 0 {
		return "", pgerr.Unsupported("this FROM function")
	}
	fc, ok := list.List.Items[0].Node.(*pg.Node_FuncCall)
	if !ok {
		return "", pgerr.Unsupported("this FROM function")
	}
	name := strings.TrimPrefix(strings.Join(names(fc.FuncCall.Funcname), "."), "pg_catalog.")
	var res srfResult
	var err error
	switch name {
	case "generate_series":
		res, err = t.generateSeries(s, fc.FuncCall, rf.Ordinality)
	case "unnest":
		res, err = t.unnest(s, fc.FuncCall)
	case "pg_partition_ancestors":
		var e expr
		if e, err = t.expr(s, &pg.Node{Node: fc}); err == nil {
			res = srfResult{sql: "SELECT " + e.sql + ` AS "value", 1 AS "ordinality"`, typ: pgval.RegclassOID,
				defName: "relid"}
		}
	default:
		return "", pgerr.Unsupported("function " + name + " in FROM")
	}
	if err != nil {
		return "", err
	}
	return t.addFunctionItem(s, rf, res)
}

func (t *translator) addFunctionItem(s *scope, rf *pg.RangeFunction, res srfResult) (string, error) {
	alias, colName := res.defName, res.defName
	var colNames []string
	if rf.Alias != nil {
		alias, colName = rf.Alias.Aliasname, rf.Alias.Aliasname
		colNames = names(rf.Alias.Colnames)
	}
	if len(colNames) > 0 {
		colName = colNames[0]
	}
	if s.item(alias) != nil {
		return "", pgerr.New(pgerr.DuplicateAlias, "table name %q specified more than once", alias)
	}
	item := &rangeItem{name: alias, sqlAlias: alias,
		cols: []scopeCol{{name: colName, sqlName: "value", typ: res.typ, mod: -1}}}
	if rf.Ordinality {
		ordName := "ordinality"
		if len(colNames) > 1 {
			ordName = colNames[1]
		}
		item.cols = append(item.cols, scopeCol{name: ordName, sqlName: "ordinality", typ: int8, mod: -1})
	}
	s.items = append(s.items, item)
	return "(" + res.sql + ") AS " + quote(alias), nil
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
		if e.typ == int8 {
			typ = int8
		}
		if e.typ != pgval.Unspecified && e.lit == nil && !e.null && !sqltype.IsInteger(e.typ) {
			return srfResult{}, pgerr.Unsupported("generate_series over " + typeSQLName(e.typ))
		}
		args = append(args, e)
	}
	for i := range args {
		var err error
		if args[i], err = t.coerce(args[i], typ); err != nil {
			return srfResult{}, err
		}
	}
	start, stop, step := args[0].sql, args[1].sql, "1"
	if len(args) == 3 {
		step = "chr2_nonzero(" + args[2].sql + ")"
	}
	t.aliasSeq++
	cte := quote("_gs" + strconv.Itoa(t.aliasSeq))
	sql := "WITH RECURSIVE " + cte + `("value", "ordinality") AS (SELECT ` + start + `, 1 UNION ALL SELECT "value" + ` +
		step + `, "ordinality" + 1 FROM ` + cte + ` WHERE (` + step + ` > 0 AND "value" + ` + step + ` <= ` + stop +
		`) OR (` + step + ` < 0 AND "value" + ` + step + ` >= ` + stop + `)) SELECT "value", "ordinality" FROM ` + cte +
		` WHERE (` + step + ` > 0 AND ` + start + ` <= ` + stop + `) OR (` + step + ` < 0 AND ` + start + ` >= ` + stop + `)`
	return srfResult{sql: sql, typ: typ, defName: "generate_series"}, nil
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
	sql := `SELECT "j"."value" AS "value", "j"."key" + 1 AS "ordinality" FROM json_each(` + src + `) AS "j"`
	return srfResult{sql: sql, typ: vectorElem(elem), defName: "unnest"}, nil
}
