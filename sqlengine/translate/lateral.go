package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
)

// SQLite has no LATERAL. A LATERAL subquery that returns at most one row
// (LIMIT 1, an aggregate without GROUP BY, or no FROM) is rewritten:
//
//	… JOIN LATERAL (SELECT a, b … WHERE s.k = t.k LIMIT 1) x ON cond
//
// becomes a join with the one-row table (SELECT 1 AS "_one") AS x whose
// columns are correlated scalar subqueries, and whose join condition also
// requires the subquery to return a row (for an inner join):
//
//	… JOIN (SELECT 1 AS "_one") AS x ON cond AND EXISTS (SELECT …)
//
// with x.a = (SELECT "a" FROM (SELECT …)) (NULL when a LEFT JOIN found no
// row). Other LATERAL subqueries answer 0A000.

func (t *translator) lateralSubselect(s *scope, rs *pg.RangeSubselect, sel *pg.SelectStmt) (string, error) {
	q, err := t.selectQuery(&scope{parent: s}, sel)
	if err != nil {
		return "", err
	}
	if !atMostOneRow(sel, q) {
		return "", pgerr.Unsupported("LATERAL subqueries that may return more than one row")
	}
	alias := rs.Alias.Aliasname
	if s.item(alias) != nil {
		return "", pgerr.New(pgerr.DuplicateAlias, "table name %q specified more than once", alias)
	}
	item := &rangeItem{name: alias, sqlAlias: alias, lateral: "EXISTS (" + q.sql + ")"}
	for _, c := range q.cols {
		value := `CASE WHEN ` + quote(alias) + `."_one" IS NOT NULL THEN (SELECT ` + quote(c.sqlName) + ` FROM (` +
			q.sql + `)) END`
		item.cols = append(item.cols, scopeCol{name: c.Name, sqlName: c.sqlName, typ: c.Type, mod: c.TypMod, sqlExpr: value})
	}
	renameColsKeepSQL(item, names(rs.Alias.Colnames))
	s.items = append(s.items, item)
	return `(SELECT 1 AS "_one") AS ` + quote(alias), nil
}

// atMostOneRow reports whether a query returns no more than one row.
func atMostOneRow(sel *pg.SelectStmt, q query) bool {
	if sel.Op != pg.SetOperation_SETOP_NONE && sel.Op != pg.SetOperation_SET_OPERATION_UNDEFINED {
		return false
	}
	if n, ok := intConst(sel.LimitCount); ok && n <= 1 {
		return true
	}
	if len(sel.FromClause) == 0 && len(sel.ValuesLists) == 0 {
		return true
	}
	if len(sel.GroupClause) > 0 {
		return false
	}
	for _, c := range q.cols {
		if c.expr.agg {
			return true
		}
	}
	return false
}

// lateralJoin renders a join whose right side is a LATERAL item.
func (t *translator) lateralJoin(s *scope, j *pg.JoinExpr, left, right, exists string) (string, error) {
	cond := ""
	if j.Quals != nil {
		on, err := t.boolExpr(s, j.Quals, "JOIN/ON")
		if err != nil {
			return "", err
		}
		cond = on
	}
	if len(j.UsingClause) > 0 || j.IsNatural {
		return "", pgerr.Unsupported("USING or NATURAL with a LATERAL subquery")
	}
	if j.Jointype == pg.JoinType_JOIN_LEFT {
		if cond == "" {
			cond = "1"
		}
		return left + " LEFT JOIN " + right + " ON " + cond, nil
	}
	if cond != "" {
		exists = "(" + cond + ") AND " + exists
	}
	return left + " JOIN " + right + " ON " + exists, nil
}
