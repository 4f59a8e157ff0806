package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
)

// distinctOn finishes SELECT DISTINCT ON (keys) …: inner is the query
// without DISTINCT, ORDER BY and LIMIT, its select list ending at colsEnd. The first row of each group of
// equal keys in ORDER BY order is the one kept, as in PostgreSQL:
//
//	SELECT cols FROM (SELECT cols, row_number() OVER (PARTITION BY keys
//	  ORDER BY order) AS _dn, order items AS _do1… FROM …) WHERE _dn = 1
//	ORDER BY _do1… LIMIT …
func (t *translator) distinctOn(inner string, colsEnd int, s *scope, sel *pg.SelectStmt, cols []outCol) (query, error) {
	s.aggAllowed = true
	keys := make([]string, 0, len(sel.DistinctClause))
	for _, n := range sel.DistinctClause {
		e, err := t.sortKey(s, n, cols)
		if err != nil {
			s.aggAllowed = false
			return query{}, err
		}
		keys = append(keys, t.sortKeySQL(e))
	}
	s.aggAllowed = false
	items, err := t.orderItems(s, sel, cols)
	if err != nil {
		return query{}, err
	}
	for i, it := range items {
		if i >= len(keys) {
			break
		}
		if !containsString(keys, t.sortKeySQL(it.e)) {
			return query{}, pgerr.New(pgerr.InvalidColumnReference,
				"SELECT DISTINCT ON expressions must match initial ORDER BY expressions").WithPosition(it.loc + 1)
		}
	}
	from := colsEnd
	window := "PARTITION BY " + strings.Join(keys, ", ")
	hidden := ""
	outerOrder := make([]string, 0, len(items))
	if len(items) > 0 {
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = t.sortKeySQL(it.e) + it.suffix
			name := quote("_do" + strconv.Itoa(i+1))
			hidden += ", " + it.e.sql + " AS " + name
			key := it.e
			key.sql = name
			outerOrder = append(outerOrder, t.sortKeySQL(key)+it.suffix)
		}
		window += " ORDER BY " + strings.Join(parts, ", ")
	}
	sql := inner[:from] + ", row_number() OVER (" + window + `) AS "_dn"` + hidden + inner[from:]
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.sqlName)
	}
	out := "SELECT " + strings.Join(names, ", ") + " FROM (" + sql + `) WHERE "_dn" = 1`
	if len(outerOrder) > 0 {
		out += " ORDER BY " + strings.Join(outerOrder, ", ")
	}
	limit, err := t.limitClause(s, sel)
	if err != nil {
		return query{}, err
	}
	return query{sql: out + limit, cols: cols}, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
