package translate

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Expression indexes: an index key may be an expression over the table's
// columns (CREATE INDEX … ON t (lower(title))). Its PostgreSQL text is kept
// in catalog.IndexExpr and translated again whenever the SQLite index is
// (re)created, so a rename or a type change of a column is followed the
// way PostgreSQL's stored expression trees follow it.

// indexKeys fills idx.Columns, idx.Desc and idx.Exprs from the index
// parameters and returns the names PostgreSQL derives the index name from.
func (t *translator) indexKeys(td *tableDef, idx *catalog.Index, params []*pg.Node) ([]string, error) {
	var keys []string
	hasExpr := false
	for _, p := range params {
		ie := p.GetIndexElem()
		idx.Desc = append(idx.Desc, ie.Ordering == pg.SortByDir_SORTBY_DESC)
		if ie.Name != "" {
			col, ok := td.rel.Column(ie.Name)
			if !ok {
				return nil, pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", ie.Name)
			}
			keys = append(keys, col.Name)
			idx.Columns = append(idx.Columns, col.Num)
			idx.Exprs = append(idx.Exprs, nil)
			continue
		}
		x, err := t.indexExpr(td, ie.Expr)
		if err != nil {
			return nil, err
		}
		keys = append(keys, x.Name)
		idx.Columns = append(idx.Columns, 0)
		idx.Exprs = append(idx.Exprs, x)
		hasExpr = true
	}
	if !hasExpr {
		idx.Exprs = nil
	}
	keys = uniqueColumnNames(keys)
	for i, x := range idx.Exprs {
		if x != nil {
			x.Name = keys[i]
		}
	}
	return keys, nil
}

// indexExpr checks and records one expression key.
func (t *translator) indexExpr(td *tableDef, n *pg.Node) (*catalog.IndexExpr, error) {
	e, err := t.expr(tableScope(td), n)
	if err != nil {
		return nil, err
	}
	if e.agg {
		return nil, pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in index expressions")
	}
	if e.param > 0 {
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $%d", e.param)
	}
	name := "expr"
	if fc, ok := n.Node.(*pg.Node_FuncCall); ok {
		name = funcName(fc.FuncCall)
	}
	return &catalog.IndexExpr{Text: deparseExpr(n), Name: name, Type: e.typ}, nil
}

// uniqueColumnNames makes repeated index column names unique as
// PostgreSQL's ChooseIndexColumnNames does: expr, expr1, expr2, …
func uniqueColumnNames(names []string) []string {
	seen := map[string]bool{}
	out := make([]string, len(names))
	for i, n := range names {
		name := n
		for j := 1; seen[name]; j++ {
			name = n + strconv.Itoa(j)
		}
		seen[name] = true
		out[i] = name
	}
	return out
}

// indexExprKey is an expression key as pg_get_indexdef prints it: a bare
// function call as it is, anything else in parentheses (an operator
// expression in two pairs, its own and the key's).
func indexExprKey(text string) string {
	pretty := indexExprKeyPretty(text)
	if pretty == text {
		return text
	}
	return "(" + parenthesized(text) + ")"
}

// indexExprKeyPretty is an expression key as pg_get_indexdef's pretty form
// and the unique violation DETAIL print it: in one pair of parentheses.
func indexExprKeyPretty(text string) string {
	n, err := parseExprText(text)
	if err == nil {
		switch n.Node.(type) {
		case *pg.Node_FuncCall, *pg.Node_CoalesceExpr, *pg.Node_MinMaxExpr, *pg.Node_SqlvalueFunction:
			return text
		}
	}
	return "(" + text + ")"
}

// indexExprSQL translates a stored expression key to SQLite against the
// table's current columns and records the result in x.SQL.
func (t *translator) indexExprSQL(td *tableDef, x *catalog.IndexExpr) (string, error) {
	n, err := parseExprText(x.Text)
	if err != nil {
		return "", err
	}
	e, err := t.expr(tableScope(td), n)
	if err != nil {
		return "", err
	}
	x.SQL = "(" + e.sql + ")"
	if e.typ == pgval.NumericOID {
		// Numbers in text form compare by value, as in numeric columns.
		x.SQL = "(" + e.sql + " COLLATE chr2_numeric)"
	}
	return x.SQL, nil
}

// cloneIndexExprs copies expression keys, so that a table model can change
// them without touching the immutable catalog it was loaded from.
func cloneIndexExprs(exprs []*catalog.IndexExpr) []*catalog.IndexExpr {
	if exprs == nil {
		return nil
	}
	out := make([]*catalog.IndexExpr, len(exprs))
	for i, x := range exprs {
		if x != nil {
			cp := *x
			out[i] = &cp
		}
	}
	return out
}

// indexExprsReferTo reports whether an expression key of idx uses column name.
func indexExprsReferTo(idx *catalog.Index, name string) bool {
	for _, x := range idx.Exprs {
		if x != nil && refersTo(x.Text, name) {
			return true
		}
	}
	return false
}

// renameIndexExprs rewrites references to column old in idx's expression
// keys (a model loaded by loadTableDef owns its copies).
func renameIndexExprs(idx *catalog.Index, old, new string) {
	for _, x := range idx.Exprs {
		if x != nil {
			x.Text = renameColumnRefs(x.Text, old, new)
		}
	}
}

// indexKeyNames renders the key list of an index for messages and
// definitions: column names and expression keys.
func indexKeyNames(td *tableDef, idx *catalog.Index) []string {
	keys := make([]string, 0, len(idx.Columns))
	for i, n := range idx.Columns {
		if x := idx.Expr(i); x != nil {
			keys = append(keys, indexExprKey(x.Text))
			continue
		}
		k := ""
		if c := td.column(n); c != nil {
			k = c.Name
		}
		keys = append(keys, k)
	}
	return keys
}

// conflictExpr translates an expression of an ON CONFLICT target as the
// index it names was created, so that SQLite matches the two.
func (t *translator) conflictExpr(rel *catalog.Relation, n *pg.Node) (string, error) {
	td, err := t.loadTableDef(rel)
	if err != nil {
		return "", err
	}
	return t.indexExprSQL(td, &catalog.IndexExpr{Text: deparseExpr(n)})
}
