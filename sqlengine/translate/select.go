package translate

import (
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// query is a translated SELECT (or VALUES, or set operation).
type query struct {
	sql  string
	cols []outCol
}

// outCol is one output column with the SQLite alias it was given.
type outCol struct {
	Column
	sqlName string
	expr    expr
}

// cte is a WITH query visible to the statement.
type cte struct {
	name string // its SQLite name
	cols []scopeCol
	// noReturning marks a data-modifying query without RETURNING, which
	// cannot be read.
	noReturning bool
}

func (t *translator) selectPlan(sel *pg.SelectStmt) (*Plan, error) {
	if plan, err := t.advisoryPlan(sel); plan != nil || err != nil {
		return plan, err
	}
	if plan, err := t.setConfigPlan(sel); plan != nil || err != nil {
		return plan, err
	}
	if w := sel.WithClause; w != nil && hasModifying(w) && !t.inWith {
		if sel.IntoClause != nil {
			return nil, pgerr.Unsupported("SELECT INTO with a data-modifying WITH query")
		}
		sel.WithClause = nil
		defer func() { sel.WithClause = w }()
		return t.modifyingWith(w, func() (*Plan, error) { return t.selectPlan(sel) })
	}
	if sel.IntoClause != nil {
		into := sel.IntoClause
		sel.IntoClause = nil
		return t.createTableAs(into, &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}}, false)
	}
	q, err := t.selectQuery(&scope{}, sel)
	if err != nil {
		return nil, err
	}
	sql := t.outputForm(q)
	plan := &Plan{Kind: KindQuery, Tag: "SELECT",
		Steps: []Step{{SQL: sql, Rows: true, Args: t.argsFor(sql)}}}
	for _, c := range q.cols {
		plan.Columns = append(plan.Columns, c.Column)
	}
	if hasLocking(sel) {
		plan.Volatile = true
	}
	return plan, nil
}

// outputForm wraps a top-level query whose result has reg* columns so they
// print as names, as PostgreSQL's output functions do.
func (t *translator) outputForm(q query) string {
	needs := false
	for _, c := range q.cols {
		if isRegOutput(c.Type) {
			needs = true
		}
	}
	if !needs {
		return q.sql
	}
	parts := make([]string, len(q.cols))
	for i, c := range q.cols {
		ref := `"_out".` + quote(c.sqlName)
		if isRegOutput(c.Type) {
			ref = t.regOutput(ref, c.Type)
		}
		parts[i] = ref + " AS " + quote(c.sqlName)
	}
	return "SELECT " + strings.Join(parts, ", ") + ` FROM (` + q.sql + `) AS "_out"`
}

func hasLocking(sel *pg.SelectStmt) bool {
	return len(sel.LockingClause) > 0
}

// argsFor lists the parameters referenced by sql as ?N placeholders; every
// parameter is bound by number, so binding all of them is always correct.
func (t *translator) argsFor(string) []Arg {
	args := make([]Arg, 0, len(t.params))
	for i := range t.params {
		args = append(args, Arg{Param: i + 1})
	}
	return args
}

// selectQuery translates a SELECT at any nesting level; s is the query's own
// (empty) scope whose parent is the enclosing query's scope, if correlated.
func (t *translator) selectQuery(s *scope, sel *pg.SelectStmt) (query, error) {
	with := ""
	if sel.WithClause != nil {
		w, err := t.withClause(s, sel.WithClause)
		if err != nil {
			return query{}, err
		}
		defer t.popCTEs()
		with = w
	}
	var q query
	var err error
	switch {
	case sel.Op != pg.SetOperation_SETOP_NONE && sel.Op != pg.SetOperation_SET_OPERATION_UNDEFINED:
		q, err = t.setOperation(s, sel)
	case len(sel.ValuesLists) > 0:
		q, err = t.valuesQuery(s, sel)
	default:
		q, err = t.simpleSelect(s, sel)
	}
	if err != nil {
		return query{}, err
	}
	q.sql = with + q.sql
	return q, nil
}

func (t *translator) simpleSelect(s *scope, sel *pg.SelectStmt) (query, error) {
	if s.gset == nil && usesGroupingSets(sel) {
		return t.groupingSetsSelect(s, sel) // grouping_sets.go
	}
	sel, err := t.rewriteTargetSRF(sel)
	if err != nil {
		return query{}, err
	}
	var b strings.Builder
	from := ""
	if len(sel.FromClause) > 0 {
		f, err := t.fromClause(s, sel.FromClause)
		if err != nil {
			return query{}, err
		}
		from = f
	}
	for _, n := range sel.WindowClause {
		wd := n.GetWindowDef()
		if s.windows == nil {
			s.windows = map[string]*pg.WindowDef{}
		}
		s.windows[wd.Name] = wd
	}
	if err := t.checkGrouping(s, sel); err != nil {
		return query{}, err
	}
	s.aggAllowed = true
	cols, err := t.targetList(s, sel.TargetList)
	if err != nil {
		return query{}, err
	}
	s.aggAllowed = false
	distinctOn := len(sel.DistinctClause) > 0 && sel.DistinctClause[0].GetNode() != nil
	b.WriteString("SELECT ")
	if len(sel.DistinctClause) > 0 && !distinctOn {
		b.WriteString("DISTINCT ")
	}
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		item := c.expr.sql
		if len(sel.DistinctClause) > 0 && !distinctOn {
			item = collatedSortKey(c.expr) // DISTINCT compares with the type's collation
		}
		b.WriteString(item + " AS " + quote(c.sqlName))
	}
	colsEnd := b.Len() // where DISTINCT ON adds its hidden columns
	if from != "" {
		b.WriteString(" FROM " + from)
	}
	if sel.WhereClause != nil {
		w, err := t.boolExpr(s, sel.WhereClause, "WHERE")
		if err != nil {
			return query{}, err
		}
		b.WriteString(" WHERE " + w)
	}
	if err := t.groupHaving(&b, s, sel, cols); err != nil {
		return query{}, err
	}
	if distinctOn {
		return t.distinctOn(b.String(), colsEnd, s, sel, cols)
	}
	if err := t.orderLimit(&b, s, sel, cols); err != nil {
		return query{}, err
	}
	return query{sql: b.String(), cols: cols}, nil
}

func (t *translator) groupHaving(b *strings.Builder, s *scope, sel *pg.SelectStmt, cols []outCol) error {
	groupBy := sel.GroupClause
	if s.gset != nil {
		groupBy = s.gset.groupBy
	}
	if len(groupBy) > 0 {
		items := make([]string, 0, len(groupBy))
		for _, g := range groupBy {
			e, err := t.groupKey(s, g, cols)
			if err != nil {
				return err
			}
			items = append(items, t.sortKeySQL(e))
		}
		b.WriteString(" GROUP BY " + strings.Join(items, ", "))
	}
	if sel.HavingClause != nil {
		s.aggAllowed = true
		h, err := t.boolExpr(s, sel.HavingClause, "HAVING")
		s.aggAllowed = false
		if err != nil {
			return err
		}
		b.WriteString(" HAVING " + h)
	}
	return nil
}

// orderLimit appends ORDER BY, LIMIT and OFFSET.
func (t *translator) orderLimit(b *strings.Builder, s *scope, sel *pg.SelectStmt, cols []outCol) error {
	items, err := t.orderItems(s, sel, cols)
	if err != nil {
		return err
	}
	if len(items) > 0 {
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = t.sortKeySQL(it.e) + it.suffix
		}
		b.WriteString(" ORDER BY " + strings.Join(parts, ", "))
	}
	limit, err := t.limitClause(s, sel)
	b.WriteString(limit)
	return err
}

// sortItem is one translated ORDER BY item.
type sortItem struct {
	e      expr
	suffix string // ASC/DESC NULLS FIRST/LAST
	loc    int32
}

// orderItems translates ORDER BY; with plain DISTINCT every item must be
// an output column (42P10).
func (t *translator) orderItems(s *scope, sel *pg.SelectStmt, cols []outCol) ([]sortItem, error) {
	items := make([]sortItem, 0, len(sel.SortClause))
	s.aggAllowed = true
	defer func() { s.aggAllowed = false }()
	plainDistinct := len(sel.DistinctClause) > 0 && sel.DistinctClause[0].GetNode() == nil
	for _, n := range sel.SortClause {
		sb := n.GetSortBy()
		e, err := t.sortKey(s, sb.Node, cols)
		if err != nil {
			return nil, err
		}
		if plainDistinct && !slices.ContainsFunc(cols, func(c outCol) bool { return c.expr.sql == e.sql }) {
			return nil, pgerr.New(pgerr.InvalidColumnReference,
				"for SELECT DISTINCT, ORDER BY expressions must appear in select list").WithPosition(sortLocation(sb) + 1)
		}
		items = append(items, sortItem{e: e, suffix: sortSuffix(sb), loc: sortLocation(sb)})
	}
	return items, nil
}

// limitClause renders LIMIT and OFFSET ("" if neither).
func (t *translator) limitClause(s *scope, sel *pg.SelectStmt) (string, error) {
	limit, offset := "", ""
	if sel.LimitCount != nil {
		e, err := t.limitExpr(s, sel.LimitCount)
		if err != nil {
			return "", err
		}
		limit = e
	}
	if sel.LimitOffset != nil {
		e, err := t.limitExpr(s, sel.LimitOffset)
		if err != nil {
			return "", err
		}
		offset = e
	}
	if limit == "" && offset == "" {
		return "", nil
	}
	if limit == "" {
		limit = "-1"
	}
	out := " LIMIT " + limit
	if offset != "" {
		out += " OFFSET " + offset
	}
	return out, nil
}

func (t *translator) limitExpr(s *scope, n *pg.Node) (string, error) {
	if c, ok := n.Node.(*pg.Node_AConst); ok && c.AConst.Isnull {
		return "-1", nil // LIMIT ALL / LIMIT NULL
	}
	e, err := t.exprAs(s, n, pgval.Int8OID)
	if err != nil {
		return "", err
	}
	return e.sql, nil
}

// sortLocation is where an ORDER BY item starts in the statement text.
func sortLocation(sb *pg.SortBy) int32 {
	if cr := sb.Node.GetColumnRef(); cr != nil {
		return cr.Location
	}
	return sb.Location
}

func sortSuffix(sb *pg.SortBy) string {
	desc := sb.SortbyDir == pg.SortByDir_SORTBY_DESC
	out := " ASC"
	if desc {
		out = " DESC"
	}
	nullsFirst := desc
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		nullsFirst = true
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		nullsFirst = false
	}
	if nullsFirst {
		return out + " NULLS FIRST"
	}
	return out + " NULLS LAST"
}

// groupKey resolves a GROUP BY item: an output column position, an input
// column, an output column name (input names win, unlike ORDER BY), or an
// expression over the FROM items.
func (t *translator) groupKey(s *scope, n *pg.Node, cols []outCol) (expr, error) {
	if cr, ok := n.Node.(*pg.Node_ColumnRef); ok && len(cr.ColumnRef.Fields) == 1 {
		name := strVal(cr.ColumnRef.Fields[0])
		if _, _, err := t.resolveColumn(s, []string{name}, 0); err == nil {
			return t.expr(s, n)
		}
	}
	return t.sortKey(s, n, cols)
}

// sortKey resolves an ORDER BY item: an output column position,
// an output column name, or an expression over the FROM items.
func (t *translator) sortKey(s *scope, n *pg.Node, cols []outCol) (expr, error) {
	if c, ok := n.Node.(*pg.Node_AConst); ok {
		if iv, ok := c.AConst.Val.(*pg.A_Const_Ival); ok {
			pos := int(iv.Ival.Ival)
			if pos < 1 || pos > len(cols) {
				return expr{}, pgerr.New(pgerr.InvalidColumnReference, "ORDER BY position %d is not in select list", pos)
			}
			return cols[pos-1].expr, nil
		}
	}
	// As PostgreSQL (SQL92 rule): a bare name is first an output column
	// name, and only if no output column has it an input column.
	if cr, ok := n.Node.(*pg.Node_ColumnRef); ok && len(cr.ColumnRef.Fields) == 1 {
		if _, isStar := cr.ColumnRef.Fields[0].Node.(*pg.Node_AStar); !isStar {
			name := strVal(cr.ColumnRef.Fields[0])
			var match *outCol
			for i := range cols {
				if cols[i].Name != name {
					continue
				}
				if match != nil && match.expr.sql != cols[i].expr.sql {
					return expr{}, pgerr.New(pgerr.AmbiguousColumn, "ORDER BY %q is ambiguous", name).
						WithPosition(cr.ColumnRef.Location + 1)
				}
				if match == nil {
					match = &cols[i]
				}
			}
			if match != nil {
				return match.expr, nil
			}
		}
	}
	return t.expr(s, n)
}

// targetList translates the select list, expanding * and t.*.
func (t *translator) targetList(s *scope, targets []*pg.Node) ([]outCol, error) {
	cols := make([]outCol, 0, len(targets))
	used := map[string]int{}
	add := func(c outCol) {
		used[c.Name]++
		c.sqlName = c.Name
		if n := used[c.Name]; n > 1 {
			c.sqlName = c.Name + "_" + strconv.Itoa(n)
		}
		cols = append(cols, c)
	}
	for _, n := range targets {
		rt := n.GetResTarget()
		if star, qual, ok := starRef(rt.Val); ok && star {
			expanded, err := t.expandStar(s, qual, rt.Location)
			if err != nil {
				return nil, err
			}
			for _, c := range expanded {
				add(c)
			}
			continue
		}
		e, err := t.expr(s, rt.Val)
		if err != nil {
			return nil, err
		}
		if e.lit != nil || e.typ == pgval.UnknownOID || e.null || e.typ == pgval.Unspecified {
			if e, err = t.coerce(e, pgval.TextOID); err != nil {
				return nil, err
			}
		}
		name := e.name
		if rt.Name != "" {
			name = rt.Name
		}
		if name == "" {
			name = "?column?"
		}
		c := outCol{Column: Column{Name: name, Type: e.typ, TypMod: e.mod}, expr: e}
		if e.col != nil && e.col.tableOID != 0 {
			c.TableOID, c.Attnum = e.col.tableOID, e.col.attnum
		}
		add(c)
	}
	return cols, nil
}

// starRef reports whether n is * or rel.*.
func starRef(n *pg.Node) (bool, string, bool) {
	cr, ok := n.Node.(*pg.Node_ColumnRef)
	if !ok {
		return false, "", false
	}
	f := cr.ColumnRef.Fields
	if _, ok := f[len(f)-1].Node.(*pg.Node_AStar); !ok {
		return false, "", false
	}
	if len(f) == 1 {
		return true, "", true
	}
	return true, strVal(f[len(f)-2]), true
}

func (t *translator) expandStar(s *scope, qual string, loc int32) ([]outCol, error) {
	var out []outCol
	found := false
	for _, it := range s.items {
		if qual != "" && it.name != qual {
			continue
		}
		found = true
		for _, c := range it.cols {
			if qual == "" && c.usingMerged {
				continue
			}
			if qual == "" && c.mergedExpr != "" {
				c.sqlExpr, c.tableOID, c.attnum = c.mergedExpr, 0, 0
			}
			col := c
			e := expr{sql: it.ref(c), typ: c.typ, mod: c.mod, col: &col, name: c.name}
			out = append(out, outCol{Column: Column{Name: c.name, Type: c.typ, TypMod: c.mod,
				TableOID: c.tableOID, Attnum: c.attnum}, expr: e})
		}
	}
	if qual != "" && !found {
		return nil, pgerr.New(pgerr.UndefinedTable, "missing FROM-clause entry for table %q", qual).WithPosition(loc + 1)
	}
	if qual == "" && len(s.items) == 0 {
		return nil, pgerr.New(pgerr.SyntaxError, "SELECT * with no tables specified is not valid").WithPosition(loc + 1)
	}
	return out, nil
}

func (t *translator) valuesQuery(s *scope, sel *pg.SelectStmt) (query, error) {
	rows := make([][]expr, 0, len(sel.ValuesLists))
	width := -1
	for _, vl := range sel.ValuesLists {
		list := vl.GetList()
		if width >= 0 && len(list.Items) != width {
			return query{}, pgerr.New(pgerr.SyntaxError, "VALUES lists must all be the same length")
		}
		width = len(list.Items)
		row := make([]expr, 0, width)
		for _, it := range list.Items {
			e, err := t.expr(s, it)
			if err != nil {
				return query{}, err
			}
			row = append(row, e)
		}
		rows = append(rows, row)
	}
	cols := make([]outCol, width)
	for c := 0; c < width; c++ {
		column := make([]expr, len(rows))
		for r := range rows {
			column[r] = rows[r][c]
		}
		unified, typ, err := t.unifyAll(column)
		if err != nil {
			return query{}, err
		}
		for r := range rows {
			rows[r][c] = unified[r]
		}
		name := "column" + strconv.Itoa(c+1)
		cols[c] = outCol{Column: Column{Name: name, Type: typ, TypMod: -1}, sqlName: name,
			expr: expr{sql: quote(name), typ: typ, mod: -1, name: name}}
	}
	var b strings.Builder
	// A SELECT wrapper gives the columns PostgreSQL's names in SQLite too.
	b.WriteString("SELECT ")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("column" + strconv.Itoa(i+1) + " AS " + quote(cols[i].sqlName))
	}
	b.WriteString(" FROM (VALUES ")
	for r, row := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		parts := make([]string, len(row))
		for i, e := range row {
			parts[i] = e.sql
		}
		b.WriteString("(" + strings.Join(parts, ", ") + ")")
	}
	b.WriteString(")")
	if err := t.orderLimit(&b, &scope{parent: s.parent}, sel, cols); err != nil {
		return query{}, err
	}
	return query{sql: b.String(), cols: cols}, nil
}

func (t *translator) setOperation(s *scope, sel *pg.SelectStmt) (query, error) {
	l, err := t.selectQuery(&scope{parent: s.parent}, sel.Larg)
	if err != nil {
		return query{}, err
	}
	r, err := t.selectQuery(&scope{parent: s.parent}, sel.Rarg)
	if err != nil {
		return query{}, err
	}
	if len(l.cols) != len(r.cols) {
		return query{}, pgerr.New(pgerr.SyntaxError, "each %s query must have the same number of columns", setOpName(sel.Op))
	}
	var op string
	switch sel.Op {
	case pg.SetOperation_SETOP_UNION:
		op = " UNION "
	case pg.SetOperation_SETOP_INTERSECT:
		op = " INTERSECT "
	default:
		op = " EXCEPT "
	}
	if sel.All {
		if sel.Op != pg.SetOperation_SETOP_UNION {
			return query{}, pgerr.Unsupported(setOpName(sel.Op) + " ALL")
		}
		op = " UNION ALL "
	}
	cols := make([]outCol, len(l.cols))
	for i := range l.cols {
		typ := l.cols[i].Type
		if typ == pgval.TextOID && r.cols[i].Type != pgval.TextOID {
			typ = widerType(r.cols[i].Type, typ)
		} else {
			typ = widerType(typ, r.cols[i].Type)
		}
		cols[i] = l.cols[i]
		cols[i].Type = typ
		cols[i].TableOID, cols[i].Attnum = 0, 0
		cols[i].expr = expr{sql: quote(l.cols[i].sqlName), typ: typ, mod: -1, name: l.cols[i].Name}
	}
	left := wrapCompound(l.sql)
	if op != " UNION ALL " {
		left = collatedArm(left, l.cols, cols)
	}
	var b strings.Builder
	b.WriteString("SELECT * FROM (" + left + op + wrapCompound(r.sql) + ")")
	if err := t.orderLimit(&b, &scope{parent: s.parent}, sel, cols); err != nil {
		return query{}, err
	}
	return query{sql: b.String(), cols: cols}, nil
}

// collatedArm gives the left arm of UNION/INTERSECT/EXCEPT its columns'
// collations (funcs/collations.go): SQLite compares a compound's rows with
// the left-most arm's, so 1.0 and 1.00 would stay two rows.
func collatedArm(sql string, armCols, cols []outCol) string {
	items := make([]string, len(cols))
	changed := false
	for i, c := range cols {
		ref := quote(armCols[i].sqlName)
		key := collatedSortKey(expr{sql: ref, typ: c.Type})
		changed = changed || key != ref
		items[i] = key + " AS " + ref
	}
	if !changed {
		return sql
	}
	return "SELECT " + strings.Join(items, ", ") + " FROM (" + sql + ")"
}

// wrapCompound makes an arm of a compound SELECT safe to combine: SQLite
// forbids ORDER BY/LIMIT inside an arm, so such arms become subqueries.
func wrapCompound(sql string) string {
	up := strings.ToUpper(sql)
	if strings.Contains(up, " ORDER BY ") || strings.Contains(up, " LIMIT ") || strings.HasPrefix(up, "WITH") {
		return "SELECT * FROM (" + sql + ")"
	}
	return sql
}

func setOpName(op pg.SetOperation) string {
	switch op {
	case pg.SetOperation_SETOP_UNION:
		return "UNION"
	case pg.SetOperation_SETOP_INTERSECT:
		return "INTERSECT"
	}
	return "EXCEPT"
}

// withClause translates WITH and registers the CTEs for the statement.
func (t *translator) withClause(s *scope, w *pg.WithClause) (string, error) {
	frame := map[string]*cte{}
	t.ctes = append(t.ctes, frame)
	parts := make([]string, 0, len(w.Ctes))
	for _, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		sel, ok := c.Ctequery.Node.(*pg.Node_SelectStmt)
		if !ok {
			return "", notTopLevel() // a top-level one is handled by modifyingWith
		}
		q, err := t.cteQuery(s, c, sel.SelectStmt, w.Recursive, frame, c.Ctename)
		if err != nil {
			return "", err
		}
		aliases := names(c.Aliascolnames)
		def := &cte{name: c.Ctename}
		colNames := make([]string, len(q.cols))
		for i, col := range q.cols {
			name := col.Name
			if i < len(aliases) {
				name = aliases[i]
			}
			colNames[i] = quote(col.sqlName)
			def.cols = append(def.cols, scopeCol{name: name, sqlName: col.sqlName, typ: col.Type, mod: col.TypMod})
		}
		frame[c.Ctename] = def
		parts = append(parts, quote(c.Ctename)+"("+strings.Join(colNames, ", ")+") AS ("+q.sql+")")
	}
	kw := "WITH "
	if w.Recursive {
		kw = "WITH RECURSIVE "
	}
	return kw + strings.Join(parts, ", ") + " ", nil
}

// cteQuery translates one CTE body; a recursive one is registered with the
// columns of its non-recursive arm before its recursive arm is translated,
// under its SQLite name sqlName.
func (t *translator) cteQuery(s *scope, c *pg.CommonTableExpr, sel *pg.SelectStmt, recursive bool,
	frame map[string]*cte, sqlName string) (query, error) {
	if recursive && sel.Op == pg.SetOperation_SETOP_UNION && sel.Larg != nil {
		base, err := t.selectQuery(&scope{parent: s.parent}, sel.Larg)
		if err != nil {
			return query{}, err
		}
		aliases := names(c.Aliascolnames)
		def := &cte{name: sqlName}
		for i, col := range base.cols {
			name := col.Name
			if i < len(aliases) {
				name = aliases[i]
			}
			def.cols = append(def.cols, scopeCol{name: name, sqlName: col.sqlName, typ: col.Type, mod: col.TypMod})
		}
		frame[c.Ctename] = def
		if len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil || sel.WithClause != nil {
			return query{}, pgerr.Unsupported("ORDER BY, LIMIT or WITH on a recursive query")
		}
		rec, err := t.selectQuery(&scope{parent: s.parent}, sel.Rarg)
		if err != nil {
			return query{}, err
		}
		if len(rec.cols) != len(base.cols) {
			return query{}, pgerr.New(pgerr.SyntaxError, "each UNION query must have the same number of columns")
		}
		// SQLite needs the recursive arm to read the CTE at its own top
		// level: the compound is emitted as is, not wrapped.
		op := " UNION "
		if sel.All {
			op = " UNION ALL "
		}
		return query{sql: wrapCompound(base.sql) + op + rec.sql, cols: base.cols}, nil
	}
	return t.selectQuery(&scope{parent: s.parent}, sel)
}

func (t *translator) popCTEs() { t.ctes = t.ctes[:len(t.ctes)-1] }

func (t *translator) lookupCTE(name string) *cte {
	for i := len(t.ctes) - 1; i >= 0; i-- {
		if c, ok := t.ctes[i][name]; ok {
			return c
		}
	}
	return nil
}
