package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Row-wise comparison, (a, b) op (x, y), as PostgreSQL compares row
// constructors: = and <> pair by pair; <, <=, > and >= are decided by the
// first pair that is unequal or null (so (1, NULL) < (2, 0) is true and
// (1, NULL) < (1, 0) is null). Keyset pagination, WHERE (created_at, id) >
// ($1, $2), is the everyday use. Each pair is compared by comparison(), so
// numeric, interval, jsonb and enum pairs keep their own semantics.

// rowArgs returns the elements of a row constructor, nil for other nodes.
func rowArgs(n *pg.Node) []*pg.Node {
	if n == nil {
		return nil
	}
	if r := n.GetRowExpr(); r != nil {
		return r.Args
	}
	return nil
}

func (t *translator) rowComparison(s *scope, op string, ln, rn []*pg.Node) (expr, error) {
	if len(ln) != len(rn) {
		return expr{}, pgerr.New(pgerr.SyntaxError, "unequal number of entries in row expressions")
	}
	strict := map[string]string{"<": "<", "<=": "<", ">": ">", ">=": ">"}[op]
	if op == "!=" {
		op = "<>"
	}
	if op != "=" && op != "<>" && strict == "" {
		return expr{}, pgerr.Unsupported("operator " + op + " on row constructors")
	}
	eq := make([]string, len(ln))
	terms := make([]string, 0, len(ln))
	agg := false
	for i := range ln {
		l, err := t.expr(s, ln[i])
		if err != nil {
			return expr{}, err
		}
		r, err := t.expr(s, rn[i])
		if err != nil {
			return expr{}, err
		}
		agg = agg || l.agg || r.agg
		e, err := t.comparison("=", l, r)
		if err != nil {
			return expr{}, err
		}
		eq[i] = e.sql
		if strict == "" {
			continue
		}
		pairOp := strict
		if i == len(ln)-1 {
			pairOp = op // the last pair decides ties: <= and >= include equality
		}
		c, err := t.comparison(pairOp, l, r)
		if err != nil {
			return expr{}, err
		}
		terms = append(terms, "("+strings.Join(append(append([]string(nil), eq[:i]...), c.sql), " AND ")+")")
	}
	var sql string
	switch op {
	case "=":
		sql = "(" + strings.Join(eq, " AND ") + ")"
	case "<>":
		sql = "(NOT (" + strings.Join(eq, " AND ") + "))"
	default:
		sql = "(" + strings.Join(terms, " OR ") + ")"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: agg}, nil
}

// rowInList is (a, b) [NOT] IN ((x, y), …): a disjunction of row
// equalities, negated for NOT IN (which is null rather than false when no
// row is equal but one comparison is null, as in PostgreSQL).
func (t *translator) rowInList(s *scope, l []*pg.Node, items []*pg.Node, negate bool) (expr, error) {
	parts := make([]string, 0, len(items))
	agg := false
	for _, it := range items {
		r := rowArgs(it)
		if r == nil {
			return expr{}, pgerr.New(pgerr.SyntaxError, "unequal number of entries in row expressions")
		}
		e, err := t.rowComparison(s, "=", l, r)
		if err != nil {
			return expr{}, err
		}
		parts = append(parts, e.sql)
		agg = agg || e.agg
	}
	sql := "(" + strings.Join(parts, " OR ") + ")"
	if negate {
		sql = "(NOT " + sql + ")"
	}
	return expr{sql: sql, typ: pgval.BoolOID, mod: -1, name: "?column?", agg: agg}, nil
}
