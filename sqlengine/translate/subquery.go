package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Subqueries in expressions: scalar (one row at most, 21000 beyond),
// EXISTS, IN and NOT IN (also of rows), op ANY/ALL, ARRAY(…).

// subLink translates EXISTS, IN (subquery), scalar subqueries and ALL.
func (t *translator) subLink(s *scope, sl *pg.SubLink) (expr, error) {
	sel, ok := sl.Subselect.Node.(*pg.Node_SelectStmt)
	if !ok {
		return expr{}, pgerr.Unsupported("this subquery")
	}
	inner := &scope{parent: s}
	q, err := t.selectQuery(inner, sel.SelectStmt)
	if err != nil {
		return expr{}, err
	}
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return expr{sql: "EXISTS (" + q.sql + ")", typ: pgval.BoolOID, mod: -1, name: "exists"}, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		if len(q.cols) != 1 {
			return expr{}, pgerr.New(pgerr.SyntaxError, "subquery must return only one column")
		}
		c := q.cols[0]
		sql := "(" + q.sql + ")"
		if !singleRow(sel.SelectStmt) {
			// SQLite would use the first row; PostgreSQL fails on a second.
			sql = "(SELECT CASE WHEN count(*) > 1 THEN chr2_raise('" + string(pgerr.CardinalityViolation) +
				"', 'more than one row returned by a subquery used as an expression') ELSE min(" + quote(c.sqlName) +
				") END FROM (SELECT * FROM " + sql + " LIMIT 2))"
		}
		return expr{sql: sql, typ: c.Type, mod: c.TypMod, name: c.Name}, nil
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		return t.inSubquery(s, sl, q)
	case pg.SubLinkType_ARRAY_SUBLINK:
		return t.arraySubLink(q)
	}
	return expr{}, pgerr.Unsupported("this kind of subquery")
}

// singleRow reports whether a SELECT plainly returns at most one row: an
// aggregate without GROUP BY, no FROM, or LIMIT 1.
func singleRow(sel *pg.SelectStmt) bool {
	if sel.Op != pg.SetOperation_SETOP_NONE || len(sel.ValuesLists) > 0 {
		return false
	}
	if c := sel.LimitCount.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok && iv.Ival.Ival <= 1 {
			return true
		}
	}
	for _, n := range sel.TargetList {
		if hasSetReturning(n) {
			return false
		}
	}
	if len(sel.FromClause) == 0 {
		return true
	}
	if len(sel.GroupClause) > 0 {
		return false
	}
	for _, n := range sel.TargetList {
		if hasAggregate(n.GetResTarget().Val) {
			return true
		}
	}
	return false
}

// hasSetReturning reports whether a select-list item calls a
// set-returning function.
func hasSetReturning(n *pg.Node) bool {
	found := false
	walkTree(n.ProtoReflect(), func(m proto.Message) {
		if fc, ok := m.(*pg.FuncCall); ok && srfNames[funcName(fc)] {
			found = true
		}
	})
	return found
}

func (t *translator) inSubquery(s *scope, sl *pg.SubLink, q query) (expr, error) {
	op := "="
	if len(sl.OperName) > 0 {
		op = strVal(sl.OperName[len(sl.OperName)-1])
	}
	isAny := sl.SubLinkType == pg.SubLinkType_ANY_SUBLINK
	if row := sl.Testexpr.GetRowExpr(); row != nil {
		return t.rowInSubquery(s, row, q, op, isAny)
	}
	if len(q.cols) != 1 {
		return expr{}, pgerr.New(pgerr.SyntaxError, "subquery has too many columns")
	}
	l, err := t.expr(s, sl.Testexpr)
	if err != nil {
		return expr{}, err
	}
	if !(isAny && op == "=") && !(!isAny && op == "<>") {
		return t.quantified(l, q, op, isAny)
	}
	if l, err = t.coerce(l, q.cols[0].Type); err != nil {
		return expr{}, err
	}
	kw := " IN "
	if !isAny {
		kw = " NOT IN "
	}
	return expr{sql: "(" + l.sql + kw + "(" + q.sql + "))", typ: pgval.BoolOID, mod: -1, name: "?column?", agg: l.agg}, nil
}

// quantified is x op ANY/ALL (subquery); see quantifiedOver.
func (t *translator) quantified(l expr, q query, op string, isAny bool) (expr, error) {
	t.aliasSeq++
	alias := quote("_q" + strconv.Itoa(t.aliasSeq))
	r := expr{sql: alias + "." + quote(q.cols[0].sqlName), typ: q.cols[0].Type, mod: -1}
	return t.quantifiedOver(l, r, "("+q.sql+") AS "+alias, op, isAny)
}

// quantifiedOver is x op ANY/ALL over the rows of source, r being the
// compared value of a row, with SQL's three-valued result: ANY is true if
// some comparison is true, else NULL if some is NULL, else false; ALL is
// false if some comparison is false, else NULL if some is NULL, else true
// (also when there are no rows).
func (t *translator) quantifiedOver(l, r expr, source, op string, isAny bool) (expr, error) {
	cmp, err := t.comparison(op, l, r)
	if err != nil {
		return expr{}, err
	}
	exists := func(cond string) string {
		return "EXISTS (SELECT 1 FROM " + source + " WHERE " + cond + ")"
	}
	decided, otherwise := "true", "false"
	decisive := cmp.sql
	if !isAny {
		decided, otherwise, decisive = "false", "true", "NOT "+cmp.sql
	}
	sql := "(CASE WHEN " + exists(decisive) + " THEN " + decided + " WHEN " + exists(cmp.sql+" IS NULL") +
		" THEN NULL ELSE " + otherwise + " END)"
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: l.agg}, nil
}

// rowInSubquery is (a, b) IN (SELECT x, y …) and its NOT IN form, which
// SQLite's row values evaluate as PostgreSQL does.
func (t *translator) rowInSubquery(s *scope, row *pg.RowExpr, q query, op string, isAny bool) (expr, error) {
	if !(isAny && op == "=") && !(!isAny && op == "<>") {
		return expr{}, pgerr.Unsupported("row comparison " + op + " with a subquery")
	}
	if len(row.Args) != len(q.cols) {
		if len(row.Args) > len(q.cols) {
			return expr{}, pgerr.New(pgerr.SyntaxError, "subquery has too few columns")
		}
		return expr{}, pgerr.New(pgerr.SyntaxError, "subquery has too many columns")
	}
	parts := make([]string, len(row.Args))
	agg := false
	for i, a := range row.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return expr{}, err
		}
		if e, err = t.coerce(e, q.cols[i].Type); err != nil {
			return expr{}, err
		}
		parts[i], agg = e.sql, agg || e.agg
	}
	kw := " IN "
	if !isAny {
		kw = " NOT IN "
	}
	return expr{sql: "((" + strings.Join(parts, ", ") + ")" + kw + "(" + q.sql + "))", typ: pgval.BoolOID, mod: -1,
		name: "?column?", agg: agg}, nil
}
