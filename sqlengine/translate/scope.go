package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// scope is the set of range items visible to expressions of one query level.
type scope struct {
	parent *scope
	items  []*rangeItem
	// aggAllowed is set while translating a select list, HAVING or ORDER BY.
	aggAllowed bool
	// windows are the query's named windows (WINDOW w AS (…)).
	windows map[string]*pg.WindowDef
	// gset, when set, is the grouping set of the UNION ALL arm this scope
	// translates (grouping_sets.go).
	gset *gsetArm
}

// rangeItem is one FROM item (table, subquery, CTE reference, VALUES).
type rangeItem struct {
	name     string // name visible to SQL (alias or relation name)
	sqlAlias string // SQLite qualifier; "" → columns are emitted unqualified
	rel      *catalog.Relation
	cols     []scopeCol
	// lateral is the condition a LATERAL subquery item puts on its join:
	// that the subquery returns a row (see lateralSubselect).
	lateral string
}

// scopeCol is one column of a range item.
type scopeCol struct {
	name     string
	sqlName  string // name of the column in SQLite
	typ      pgval.OID
	mod      int32
	tableOID uint32
	attnum   int16
	// usingMerged marks a column hidden by JOIN … USING (shown once).
	usingMerged bool
	// mergedExpr, when set, is the value of the JOIN … USING column this
	// (left side) column stands for when referenced unqualified.
	mergedExpr string
	// sqlExpr, when set, is the column's value as an expression (the
	// columns of a LATERAL subquery).
	sqlExpr string
}

func relationCols(rel *catalog.Relation) []scopeCol {
	cols := make([]scopeCol, 0, len(rel.Columns))
	for _, c := range rel.Columns {
		cols = append(cols, scopeCol{name: c.Name, sqlName: c.Name, typ: c.Type, mod: c.TypMod,
			tableOID: rel.OID, attnum: c.Num})
	}
	return cols
}

// ref renders a column reference for SQLite.
func (ri *rangeItem) ref(c scopeCol) string {
	if c.sqlExpr != "" {
		return c.sqlExpr
	}
	if ri.sqlAlias == "" {
		return quote(c.sqlName)
	}
	return quote(ri.sqlAlias) + "." + quote(c.sqlName)
}

// lookupRelation resolves a RangeVar to a catalog relation.
func (t *translator) lookupRelation(rv *pg.RangeVar) (*catalog.Relation, error) {
	if rv.Catalogname != "" && rv.Catalogname != t.opts.Database {
		return nil, pgerr.Unsupported("cross-database references")
	}
	path := append([]string{"pg_catalog"}, t.opts.SearchPath...)
	rel, ok := t.lookupRel(rv.Schemaname, rv.Relname, path)
	if !ok {
		name := rv.Relname
		if rv.Schemaname != "" {
			name = rv.Schemaname + "." + name
		}
		return nil, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", name).WithPosition(rv.Location + 1)
	}
	if rel.Namespace.Name == "chr2" && rel.Name == "effects" {
		t.effects = true
	}
	return rel, nil
}

// resolveColumn finds a column reference (fields: [col] or [rel, col] or
// [schema, rel, col]) in s or its parents.
func (t *translator) resolveColumn(s *scope, fields []string, loc int32) (*rangeItem, scopeCol, error) {
	col := fields[len(fields)-1]
	qual := ""
	if len(fields) >= 2 {
		qual = fields[len(fields)-2]
	}
	for sc := s; sc != nil; sc = sc.parent {
		item, c, found, err := sc.find(qual, col, loc)
		if err != nil {
			return nil, scopeCol{}, err
		}
		if found {
			return item, c, nil
		}
	}
	if qual != "" && !scopeHasItem(s, qual) {
		return nil, scopeCol{}, pgerr.New(pgerr.UndefinedTable,
			"missing FROM-clause entry for table %q", qual).WithPosition(loc + 1)
	}
	if qual != "" {
		return nil, scopeCol{}, pgerr.New(pgerr.UndefinedColumn, "column %s.%s does not exist", qual, col).WithPosition(loc + 1)
	}
	e := pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", col).WithPosition(loc + 1)
	if item, c, ok := closestColumn(s, col); ok {
		e = e.WithHint("Perhaps you meant to reference the column \"%s.%s\".", item.name, c.name)
	}
	return nil, scopeCol{}, e
}

// closestColumn finds the visible column whose name is nearest to name, as
// PostgreSQL's "Perhaps you meant…" hint does (edit distance at most half
// the name's length, and a single best match).
func closestColumn(s *scope, name string) (*rangeItem, scopeCol, bool) {
	best, bestDist, ties := -1, len(name)/2+1, 0
	var bi *rangeItem
	var bc scopeCol
	for sc := s; sc != nil; sc = sc.parent {
		for _, it := range sc.items {
			for _, c := range it.cols {
				d := levenshtein(name, c.name)
				switch {
				case d < bestDist:
					best, bestDist, ties, bi, bc = d, d, 1, it, c
				case d == bestDist && best >= 0:
					ties++
				}
			}
		}
	}
	return bi, bc, best >= 0 && ties == 1
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func scopeHasItem(s *scope, name string) bool {
	for sc := s; sc != nil; sc = sc.parent {
		for _, it := range sc.items {
			if it.name == name {
				return true
			}
		}
	}
	return false
}

func (s *scope) find(qual, col string, loc int32) (*rangeItem, scopeCol, bool, error) {
	var foundItem *rangeItem
	var foundCol scopeCol
	n := 0
	for _, it := range s.items {
		if qual != "" && it.name != qual {
			continue
		}
		for _, c := range it.cols {
			if c.name != col || (qual == "" && c.usingMerged) {
				continue
			}
			if n == 0 {
				foundItem, foundCol = it, c
				if qual == "" && c.mergedExpr != "" {
					foundCol.sqlExpr, foundCol.tableOID, foundCol.attnum = c.mergedExpr, 0, 0
				}
			}
			n++
		}
	}
	if n == 0 && col == "tableoid" {
		foundItem, foundCol, n = s.tableOID(qual)
	}
	if n > 1 {
		return nil, scopeCol{}, false, pgerr.New(pgerr.AmbiguousColumn,
			"column reference %q is ambiguous", col).WithPosition(loc + 1)
	}
	return foundItem, foundCol, n == 1, nil
}

// tableOID resolves the system column tableoid of the relation items
// matching qual: the relation's OID, a constant since there is no
// inheritance (psql's \dd matches pg_description.classoid with it).
func (s *scope) tableOID(qual string) (*rangeItem, scopeCol, int) {
	var found *rangeItem
	n := 0
	for _, it := range s.items {
		if it.rel == nil || qual != "" && it.name != qual {
			continue
		}
		if n == 0 {
			found = it
		}
		n++
	}
	if n == 0 {
		return nil, scopeCol{}, 0
	}
	return found, scopeCol{name: "tableoid", typ: pgval.OIDOID, mod: -1,
		sqlExpr: strconv.FormatUint(uint64(found.rel.OID), 10)}, n
}

// item returns the range item named name in s (not parents).
func (s *scope) item(name string) *rangeItem {
	for _, it := range s.items {
		if it.name == name {
			return it
		}
	}
	return nil
}

// fromClause translates FROM items, adding them to s, and returns the
// SQLite FROM text (without the FROM keyword).
func (t *translator) fromClause(s *scope, from []*pg.Node) (string, error) {
	parts := make([]string, 0, len(from))
	for _, n := range from {
		before := len(s.items)
		sql, err := t.fromItem(s, n)
		if err != nil {
			return "", err
		}
		if len(s.items) == before+1 && s.items[before].lateral != "" && len(parts) > 0 {
			// FROM a, LATERAL (…) x: a join whose condition is x's row.
			parts[len(parts)-1] += " JOIN " + sql + " ON " + s.items[before].lateral
			continue
		}
		parts = append(parts, sql)
	}
	return strings.Join(parts, ", "), nil
}

func (t *translator) fromItem(s *scope, n *pg.Node) (string, error) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		return t.fromRangeVar(s, x.RangeVar)
	case *pg.Node_JoinExpr:
		return t.fromJoin(s, x.JoinExpr)
	case *pg.Node_RangeSubselect:
		return t.fromSubselect(s, x.RangeSubselect)
	case *pg.Node_RangeFunction:
		return t.fromFunction(s, x.RangeFunction)
	}
	return "", pgerr.Unsupported("this kind of FROM item")
}

func (t *translator) fromRangeVar(s *scope, rv *pg.RangeVar) (string, error) {
	alias := rv.Relname
	var colAliases []string
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		colAliases = names(rv.Alias.Colnames)
	}
	if rv.Schemaname == "" {
		if c := t.lookupCTE(rv.Relname); c != nil {
			if err := t.noteCTE(c, rv); err != nil {
				return "", err
			}
			item := &rangeItem{name: alias, sqlAlias: alias, cols: append([]scopeCol(nil), c.cols...)}
			renameCols(item.cols, colAliases)
			s.items = append(s.items, item)
			return quote(c.name) + " AS " + quote(alias), nil
		}
	}
	rel, err := t.lookupRelation(rv)
	if err != nil {
		return "", err
	}
	t.noteRead(rel)
	if rel.Kind != catalog.KindTable && rel.Kind != catalog.KindView && rel.Kind != catalog.KindSequence {
		return "", pgerr.New(pgerr.WrongObjectType, "%q is not a table", rel.Name)
	}
	if s.item(alias) != nil {
		return "", pgerr.New(pgerr.DuplicateAlias, "table name %q specified more than once", alias)
	}
	if rel.Kind == catalog.KindSequence {
		return t.fromSequence(s, rel, alias, colAliases), nil
	}
	item := &rangeItem{name: alias, sqlAlias: alias, rel: rel, cols: relationCols(rel)}
	renameCols(item.cols, colAliases)
	s.items = append(s.items, item)
	if rel.ViewSQL != "" {
		return "(" + t.systemViewSQL(rel) + ") AS " + quote(alias), nil
	}
	return quote(rel.SQLiteName) + " AS " + quote(alias), nil
}

// fromSequence reads a sequence relation as PostgreSQL shows it: one row
// (last_value, log_cnt, is_called). The state lives in _chr2_sequences,
// written back after every statement that draws from it. log_cnt counts
// values PostgreSQL pre-logged in its WAL; chr2sql logs every advance, so
// it is always 0.
func (t *translator) fromSequence(s *scope, rel *catalog.Relation, alias string, colAliases []string) string {
	item := &rangeItem{name: alias, sqlAlias: alias, rel: rel, cols: []scopeCol{
		{name: "last_value", sqlName: "last_value", typ: pgval.Int8OID, mod: -1, tableOID: rel.OID, attnum: 1},
		{name: "log_cnt", sqlName: "log_cnt", typ: pgval.Int8OID, mod: -1, tableOID: rel.OID, attnum: 2},
		{name: "is_called", sqlName: "is_called", typ: pgval.BoolOID, mod: -1, tableOID: rel.OID, attnum: 3},
	}}
	renameCols(item.cols, colAliases)
	s.items = append(s.items, item)
	return fmt.Sprintf("(SELECT last_value, 0 AS log_cnt, is_called FROM _chr2_sequences WHERE oid = %d) AS %s",
		rel.OID, quote(alias))
}

// renameCols applies a column alias list (t AS x(a, b)).
func renameCols(cols []scopeCol, aliases []string) {
	for i, a := range aliases {
		if i < len(cols) {
			cols[i].name = a
		}
	}
}

func (t *translator) fromSubselect(s *scope, rs *pg.RangeSubselect) (string, error) {
	sel, ok := rs.Subquery.Node.(*pg.Node_SelectStmt)
	if !ok {
		return "", pgerr.Unsupported("this kind of subquery in FROM")
	}
	if rs.Alias == nil {
		return "", pgerr.New(pgerr.SyntaxError, "subquery in FROM must have an alias")
	}
	inner := &scope{}
	if rs.Lateral && len(s.items) > 0 {
		return t.lateralSubselect(s, rs, sel.SelectStmt)
	}
	q, err := t.selectQuery(inner, sel.SelectStmt)
	if err != nil {
		return "", err
	}
	alias := rs.Alias.Aliasname
	item := &rangeItem{name: alias, sqlAlias: alias}
	for _, c := range q.cols {
		item.cols = append(item.cols, scopeCol{name: c.Name, sqlName: c.sqlName, typ: c.Type, mod: c.TypMod})
	}
	renameColsKeepSQL(item, names(rs.Alias.Colnames))
	s.items = append(s.items, item)
	return "(" + q.sql + ") AS " + quote(alias), nil
}

// renameColsKeepSQL renames visible names only; SQLite names stay those of
// the subquery's output.
func renameColsKeepSQL(item *rangeItem, aliases []string) {
	for i, a := range aliases {
		if i < len(item.cols) {
			item.cols[i].name = a
		}
	}
}

func (t *translator) fromJoin(s *scope, j *pg.JoinExpr) (string, error) {
	left, err := t.fromItem(s, j.Larg)
	if err != nil {
		return "", err
	}
	leftItems := len(s.items)
	right, err := t.fromItem(s, j.Rarg)
	if err != nil {
		return "", err
	}
	var kw string
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER:
		kw = "JOIN"
		if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural {
			kw = "CROSS JOIN"
		}
	case pg.JoinType_JOIN_LEFT:
		kw = "LEFT JOIN"
	case pg.JoinType_JOIN_RIGHT:
		kw = "RIGHT JOIN"
	case pg.JoinType_JOIN_FULL:
		kw = "FULL JOIN"
	default:
		return "", pgerr.Unsupported("this join type")
	}
	if j.Alias != nil {
		return "", pgerr.Unsupported("an alias on a JOIN")
	}
	out := left + " " + kw + " " + right
	if lat := s.items[len(s.items)-1].lateral; lat != "" && len(s.items) == leftItems+1 {
		if j.Jointype != pg.JoinType_JOIN_INNER && j.Jointype != pg.JoinType_JOIN_LEFT {
			return "", pgerr.New(pgerr.InvalidColumnReference,
				"the combining JOIN type must be INNER or LEFT for a LATERAL reference")
		}
		return t.lateralJoin(s, j, left, right, lat)
	}
	switch {
	case j.IsNatural || len(j.UsingClause) > 0:
		using := names(j.UsingClause)
		if j.IsNatural {
			using = commonColumns(s.items[:leftItems], s.items[leftItems:])
		}
		if len(using) == 0 {
			return out + " ON 1", nil
		}
		cond, err := t.joinUsing(s.items[:leftItems], s.items[leftItems:], using, j.Jointype)
		if err != nil {
			return "", err
		}
		out += " ON " + cond
	case j.Quals != nil:
		on, err := t.boolExpr(s, j.Quals, "JOIN/ON")
		if err != nil {
			return "", err
		}
		out += " ON " + on
	}
	return out, nil
}

// commonColumns are the column names both sides of a NATURAL JOIN show,
// in the left side's order.
func commonColumns(left, right []*rangeItem) []string {
	rightNames := map[string]bool{}
	for _, it := range right {
		for _, c := range it.cols {
			if !c.usingMerged {
				rightNames[c.name] = true
			}
		}
	}
	var out []string
	for _, it := range left {
		for _, c := range it.cols {
			if !c.usingMerged && rightNames[c.name] && !slices.Contains(out, c.name) {
				out = append(out, c.name)
			}
		}
	}
	return out
}

// joinUsing builds the ON condition for JOIN … USING and hides the right
// side's copies of the columns from unqualified references and from *. The
// left side's column stands for the merged column: unqualified, it is the
// right side's value in a RIGHT JOIN and the non-null one in a FULL JOIN.
func (t *translator) joinUsing(left, right []*rangeItem, cols []string, jt pg.JoinType) (string, error) {
	conds := make([]string, 0, len(cols))
	for _, name := range cols {
		lsc := &scope{items: left}
		rsc := &scope{items: right}
		li, lc, found, err := lsc.find("", name, 0)
		if err != nil {
			return "", err
		}
		ri, rc, found2, err := rsc.find("", name, 0)
		if err != nil {
			return "", err
		}
		if !found || !found2 {
			return "", pgerr.New(pgerr.UndefinedColumn, "column %q specified in USING clause does not exist", name)
		}
		conds = append(conds, li.ref(lc)+" = "+ri.ref(rc))
		merged := ""
		switch jt {
		case pg.JoinType_JOIN_RIGHT:
			merged = ri.ref(rc)
		case pg.JoinType_JOIN_FULL:
			merged = "coalesce(" + li.ref(lc) + ", " + ri.ref(rc) + ")"
		}
		if merged != "" {
			for i := range li.cols {
				if li.cols[i].name == name {
					li.cols[i].mergedExpr = merged
				}
			}
		}
		for i := range ri.cols {
			if ri.cols[i].name == name {
				ri.cols[i].usingMerged = true
			}
		}
	}
	return strings.Join(conds, " AND "), nil
}
