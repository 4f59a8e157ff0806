package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// userEffectColumns are the chr2.effects columns an application may set;
// the outbox owns the rest.
var userEffectColumns = map[string]bool{"id": true, "sink": true, "payload": true, "ordering_key": true, "run_at": true}

// targetTable resolves the table a DML statement modifies.
func (t *translator) targetTable(rv *pg.RangeVar, verb string) (*catalog.Relation, string, error) {
	rel, err := t.lookupRelation(rv)
	if err != nil {
		return nil, "", err
	}
	if rel.Kind == catalog.KindSequence {
		return nil, "", pgerr.New(pgerr.WrongObjectType, "cannot change sequence %q", rel.Name)
	}
	if rel.Kind != catalog.KindTable || catalog.IsSystemSchema(rel.Namespace.Name) {
		return nil, "", pgerr.New(pgerr.WrongObjectType, "cannot %s relation %q", verb, rel.Name)
	}
	t.noteWrite(rel, verb)
	alias := rel.Name
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
	}
	return rel, alias, nil
}

func (t *translator) insertPlan(ins *pg.InsertStmt) (*Plan, error) {
	if w := ins.WithClause; w != nil {
		ins.WithClause = nil
		defer func() { ins.WithClause = w }()
		return t.withStatement(w, func() (*Plan, error) { return t.insertPlan(ins) })
	}
	rel, alias, err := t.targetTable(ins.Relation, "insert into")
	if err != nil {
		return nil, err
	}
	t.target = rel
	if oc := ins.OnConflictClause; oc != nil && oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE {
		t.noteWrite(rel, "update")
	}
	cols, err := t.insertColumns(rel, ins.Cols)
	if err != nil {
		return nil, err
	}
	if n := sourceWidth(ins.SelectStmt); len(ins.Cols) == 0 && n > 0 && n < len(cols) {
		cols = cols[:n] // INSERT INTO t VALUES (a) fills the leading columns
	}
	if ins.SelectStmt == nil {
		cols = nil // DEFAULT VALUES: every column takes its default
	}
	if cols, err = identityTargets(cols, ins); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(rel.SQLiteName) + " AS " + quote(alias))
	source, allCols, err := t.insertSource(rel, cols, ins.SelectStmt)
	if err != nil {
		return nil, err
	}
	if len(allCols) > 0 {
		names := make([]string, len(allCols))
		for i, c := range allCols {
			names[i] = quote(c.Name)
		}
		b.WriteString("(" + strings.Join(names, ", ") + ")")
	}
	b.WriteString(" " + source)
	target := &rangeItem{name: alias, rel: rel, cols: relationCols(rel)}
	covered := map[uint32]bool{}
	if ins.OnConflictClause != nil {
		oc, err := t.onConflict(rel, target, ins.OnConflictClause)
		if err != nil {
			return nil, err
		}
		b.WriteString(oc)
		if ins.OnConflictClause.Infer == nil {
			covered = nil // DO NOTHING for every constraint
		} else if idx := t.inferredIndex(rel, ins.OnConflictClause.Infer); idx != nil {
			covered[idx.OID] = true
		}
	}
	if covered != nil && source != "DEFAULT VALUES" {
		b.WriteString(uniqueViolationClauses(rel, covered))
	}
	plan := &Plan{Kind: KindWrite, Tag: "INSERT"}
	if err := t.returning(&b, plan, target, ins.ReturningList); err != nil {
		return nil, err
	}
	plan.Steps = []Step{{SQL: b.String(), Args: t.argsFor(""), Rows: len(plan.Columns) > 0, Count: true}}
	return plan, nil
}

// identityTargets applies the identity-column rules to an INSERT's target
// columns: a GENERATED ALWAYS column takes only DEFAULT unless OVERRIDING
// SYSTEM VALUE; OVERRIDING USER VALUE replaces the values given for
// identity columns with their defaults (the VALUES items are rewritten).
func identityTargets(cols []*catalog.Column, ins *pg.InsertStmt) ([]*catalog.Column, error) {
	sel := ins.SelectStmt.GetSelectStmt()
	for i, c := range cols {
		if c.Identity == 0 {
			continue
		}
		switch {
		case ins.Override == pg.OverridingKind_OVERRIDING_USER_VALUE:
			if sel == nil || len(sel.ValuesLists) == 0 {
				return nil, pgerr.Unsupported("OVERRIDING USER VALUE with INSERT … SELECT")
			}
			for _, vl := range sel.ValuesLists {
				if items := vl.GetList().Items; i < len(items) {
					items[i] = &pg.Node{Node: &pg.Node_SetToDefault{SetToDefault: &pg.SetToDefault{}}}
				}
			}
		case c.Identity == 'a' && ins.Override != pg.OverridingKind_OVERRIDING_SYSTEM_VALUE && !allDefault(sel, i):
			return nil, pgerr.New(pgerr.GeneratedAlways, "cannot insert a non-DEFAULT value into column %q", c.Name).
				WithDetail("Column %q is an identity column defined as GENERATED ALWAYS.", c.Name).
				WithHint("Use OVERRIDING SYSTEM VALUE to override.")
		}
	}
	return cols, nil
}

// allDefault reports whether item i of every VALUES row is DEFAULT.
func allDefault(sel *pg.SelectStmt, i int) bool {
	if sel == nil || len(sel.ValuesLists) == 0 {
		return false
	}
	for _, vl := range sel.ValuesLists {
		items := vl.GetList().Items
		if i >= len(items) {
			return false
		}
		if _, ok := items[i].Node.(*pg.Node_SetToDefault); !ok {
			return false
		}
	}
	return true
}

// rowidColumn is the target table's column that is SQLite's INTEGER
// PRIMARY KEY (an alias of the rowid), or nil.
func (t *translator) rowidColumn() *catalog.Column {
	if t.target == nil {
		return nil
	}
	return RowidColumn(t.target)
}

// RowidColumn is rel's column that SQLite stores as the rowid (a
// one-column integer primary key without an index of its own), or nil.
// SQLite numbers a row whose rowid is NULL instead of refusing it, so
// every value written to it is checked (rowidGuard).
func RowidColumn(rel *catalog.Relation) *catalog.Column {
	for _, idx := range rel.Indexes {
		if !idx.Primary || len(idx.Columns) != 1 || idx.SQLiteName != "" {
			continue
		}
		if c, ok := rel.ColumnByNum(idx.Columns[0]); ok && sqltype.StorageOf(c.Type) == sqltype.Integer {
			return c
		}
	}
	return nil
}

// rowidGuard wraps a value written to the rowid column so that NULL fails
// with 23502 as in PostgreSQL.
func (t *translator) rowidGuard(col *catalog.Column, sql string) string {
	if col != t.rowidColumn() || col == nil {
		return sql
	}
	return "chr2_rowid_notnull(" + sql + ", " + sqltype.QuoteString(col.Name) + ", " +
		sqltype.QuoteString(t.target.Name) + ")"
}

// sourceWidth is the number of values each row of an INSERT source has
// when that is plain to see (VALUES, a select list without *), else 0.
func sourceWidth(src *pg.Node) int {
	sel := src.GetSelectStmt()
	if sel == nil || sel.Op != pg.SetOperation_SETOP_NONE {
		return 0
	}
	if len(sel.ValuesLists) > 0 {
		return len(sel.ValuesLists[0].GetList().Items)
	}
	for _, n := range sel.TargetList {
		if cr := n.GetResTarget().Val.GetColumnRef(); cr != nil {
			if _, star := cr.Fields[len(cr.Fields)-1].Node.(*pg.Node_AStar); star {
				return 0
			}
		}
	}
	return len(sel.TargetList)
}

// insertColumns returns the explicitly targeted columns (all, if none named).
func (t *translator) insertColumns(rel *catalog.Relation, targets []*pg.Node) ([]*catalog.Column, error) {
	isEffects := rel.Namespace.Name == "chr2" && rel.Name == "effects"
	if len(targets) == 0 {
		if isEffects && !t.opts.Internal {
			return nil, pgerr.New(pgerr.InsufficientPrivilege,
				"INSERT INTO chr2.effects must name its columns").
				WithHint("Set only id, sink, payload, ordering_key and run_at; the outbox owns the rest.")
		}
		return rel.Columns, nil
	}
	out := make([]*catalog.Column, 0, len(targets))
	seen := map[string]bool{}
	for _, n := range targets {
		rt := n.GetResTarget()
		if len(rt.Indirection) > 0 {
			return nil, pgerr.Unsupported("INSERT into a subfield or array element")
		}
		col, ok := rel.Column(rt.Name)
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, rel.Name).
				WithPosition(rt.Location + 1)
		}
		if seen[col.Name] {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", col.Name)
		}
		if isEffects && !userEffectColumns[col.Name] && !t.opts.Internal {
			return nil, pgerr.New(pgerr.InsufficientPrivilege, "column %q of chr2.effects is owned by the outbox", col.Name).
				WithHint("Set only id, sink, payload, ordering_key and run_at.")
		}
		seen[col.Name] = true
		out = append(out, col)
	}
	return out, nil
}

// insertSource renders VALUES/SELECT/DEFAULT VALUES with defaults injected
// for columns the statement omits; it returns the full column list.
func (t *translator) insertSource(rel *catalog.Relation, cols []*catalog.Column, src *pg.Node) (string, []*catalog.Column, error) {
	named := map[string]bool{}
	for _, c := range cols {
		named[c.Name] = true
	}
	var defaults []*catalog.Column
	for _, c := range rel.Columns {
		switch {
		case !named[c.Name] && c.DefaultSQL != "":
			defaults = append(defaults, c)
			t.noteDefault(c)
		case !named[c.Name] && c == t.rowidColumn():
			// Left out, SQLite would number the row itself.
			guarded := *c
			guarded.DefaultSQL = t.rowidGuard(c, "NULL")
			defaults = append(defaults, &guarded)
		}
	}
	all := append(append([]*catalog.Column{}, cols...), defaults...)
	if src == nil {
		if len(defaults) == 0 {
			return "DEFAULT VALUES", nil, nil
		}
		parts := make([]string, len(defaults))
		for i, c := range defaults {
			parts[i] = c.DefaultSQL
		}
		return "VALUES (" + strings.Join(parts, ", ") + ")", defaults, nil
	}
	sel := src.GetSelectStmt()
	if sel != nil && len(sel.ValuesLists) > 0 && sel.Op == pg.SetOperation_SETOP_NONE && len(sel.SortClause) == 0 &&
		sel.LimitCount == nil && sel.WithClause == nil {
		sql, err := t.insertValues(cols, defaults, sel.ValuesLists)
		return sql, all, err
	}
	if sel == nil {
		return "", nil, pgerr.Unsupported("this INSERT source")
	}
	sql, err := t.insertSelect(cols, defaults, sel)
	return sql, all, err
}

func (t *translator) noteDefault(c *catalog.Column) {
	if c.DefaultSeq != 0 {
		t.seqs[c.DefaultSeq] = true
	}
}

func (t *translator) insertValues(cols, defaults []*catalog.Column, lists []*pg.Node) (string, error) {
	var b strings.Builder
	b.WriteString("VALUES ")
	for r, vl := range lists {
		items := vl.GetList().Items
		if len(items) > len(cols) {
			return "", pgerr.New(pgerr.SyntaxError, "INSERT has more expressions than target columns")
		}
		if len(items) < len(cols) {
			return "", pgerr.New(pgerr.SyntaxError, "INSERT has more target columns than expressions")
		}
		if r > 0 {
			b.WriteString(", ")
		}
		parts := make([]string, 0, len(cols)+len(defaults))
		for i, it := range items {
			v, err := t.assignValue(nil, cols[i], it)
			if err != nil {
				return "", err
			}
			parts = append(parts, v)
		}
		for _, d := range defaults {
			parts = append(parts, d.DefaultSQL)
		}
		b.WriteString("(" + strings.Join(parts, ", ") + ")")
	}
	return b.String(), nil
}

// assignValue translates a value assigned to col (INSERT value or UPDATE SET).
func (t *translator) assignValue(s *scope, col *catalog.Column, n *pg.Node) (string, error) {
	sql, err := t.assignedValue(s, col, n)
	if err != nil {
		return "", err
	}
	return t.rowidGuard(col, sql), nil
}

func (t *translator) assignedValue(s *scope, col *catalog.Column, n *pg.Node) (string, error) {
	if _, ok := n.Node.(*pg.Node_SetToDefault); ok {
		if col.DefaultSQL == "" {
			return "NULL", nil
		}
		t.noteDefault(col)
		return col.DefaultSQL, nil
	}
	e, err := t.expr(s, n)
	if err != nil {
		return "", err
	}
	if e.agg {
		return "", pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in VALUES")
	}
	c, err := t.coerce(e, col.Type)
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && pe.Code == pgerr.DatatypeMismatch {
			return "", pgerr.New(pgerr.DatatypeMismatch, "column %q is of type %s but expression is of type %s",
				col.Name, typeSQLName(col.Type), typeSQLName(e.typ)).
				WithHint("You will need to rewrite or cast the expression.")
		}
		return "", err
	}
	if c, err = t.assignTypmod(c, col); err != nil {
		return "", err
	}
	return c.sql, nil
}

// assignTypmod applies a column's numeric(p, s) to a value stored into it
// (varchar(n) is checked by the column's CHECK constraint).
func (t *translator) assignTypmod(e expr, col *catalog.Column) (expr, error) {
	return t.assignTypmodOf(e, col.Type, col.TypMod)
}

func (t *translator) assignTypmodOf(e expr, typ pgval.OID, mod int32) (expr, error) {
	if typ == pgval.NumericOID && mod >= 4 {
		return t.applyNumericTypmod(e, mod)
	}
	if isArrayType(typ) {
		return arrayTypmod(e, typ, mod, true), nil // arrays.go
	}
	return timeTypmod(e, typ, mod), nil
}

func (t *translator) insertSelect(cols, defaults []*catalog.Column, sel *pg.SelectStmt) (string, error) {
	q, err := t.selectQuery(&scope{}, sel)
	if err != nil {
		return "", err
	}
	if len(q.cols) != len(cols) {
		if len(q.cols) > len(cols) {
			return "", pgerr.New(pgerr.SyntaxError, "INSERT has more expressions than target columns")
		}
		return "", pgerr.New(pgerr.SyntaxError, "INSERT has more target columns than expressions")
	}
	parts := make([]string, 0, len(cols)+len(defaults))
	simple := sel.Op == pg.SetOperation_SETOP_NONE && len(sel.ValuesLists) == 0 && len(sel.TargetList) == len(q.cols)
	for i, c := range q.cols {
		e := expr{sql: `"s".` + quote(c.sqlName), typ: c.Type, mod: -1}
		if simple {
			untypedConstant(&e, sel.TargetList[i].GetResTarget().Val)
		}
		conv, err := t.coerce(e, cols[i].Type)
		if err != nil {
			return "", err
		}
		if conv, err = t.assignTypmod(conv, cols[i]); err != nil {
			return "", err
		}
		parts = append(parts, t.rowidGuard(cols[i], conv.sql))
	}
	for _, d := range defaults {
		parts = append(parts, d.DefaultSQL)
	}
	// WHERE true keeps SQLite's parser from reading ON CONFLICT as a join.
	return "SELECT " + strings.Join(parts, ", ") + " FROM (" + q.sql + `) AS "s" WHERE true`, nil
}

// untypedConstant marks e as the untyped NULL or string literal the select
// list item n is: as in PostgreSQL it takes the target column's type
// (the same constant in every row).
func untypedConstant(e *expr, n *pg.Node) {
	ac := n.GetAConst()
	switch {
	case ac == nil:
	case ac.Isnull:
		e.null, e.typ = true, pgval.UnknownOID
	case ac.GetSval() != nil:
		lit := ac.GetSval().Sval
		e.lit, e.typ, e.sql = &lit, pgval.UnknownOID, sqltype.QuoteString(lit)
	}
}

func (t *translator) onConflict(rel *catalog.Relation, target *rangeItem, oc *pg.OnConflictClause) (string, error) {
	var b strings.Builder
	b.WriteString(" ON CONFLICT")
	if oc.Infer != nil {
		cols, err := t.conflictTarget(rel, oc.Infer)
		if err != nil {
			return "", err
		}
		b.WriteString(" (" + strings.Join(cols, ", ") + ")")
	} else if oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE {
		return "", pgerr.New(pgerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name")
	}
	if oc.Action == pg.OnConflictAction_ONCONFLICT_NOTHING {
		b.WriteString(" DO NOTHING")
		return b.String(), nil
	}
	excluded := &rangeItem{name: "excluded", sqlAlias: "excluded", rel: rel, cols: relationCols(rel)}
	s := &scope{items: []*rangeItem{target, excluded}}
	sets, err := t.setList(s, rel, oc.TargetList)
	if err != nil {
		return "", err
	}
	b.WriteString(" DO UPDATE SET " + sets)
	if oc.WhereClause != nil {
		w, err := t.boolExpr(s, oc.WhereClause, "WHERE")
		if err != nil {
			return "", err
		}
		b.WriteString(" WHERE " + w)
	}
	return b.String(), nil
}

func (t *translator) conflictTarget(rel *catalog.Relation, inf *pg.InferClause) ([]string, error) {
	if inf.Conname != "" {
		for _, con := range rel.Constraint {
			if con.Name == inf.Conname {
				out := make([]string, 0, len(con.Columns))
				for _, num := range con.Columns {
					if c, ok := rel.ColumnByNum(num); ok {
						out = append(out, quote(c.Name))
					}
				}
				return out, nil
			}
		}
		return nil, pgerr.New(pgerr.UndefinedObject, "constraint %q for table %q does not exist", inf.Conname, rel.Name)
	}
	out := make([]string, 0, len(inf.IndexElems))
	for _, n := range inf.IndexElems {
		ie := n.GetIndexElem()
		if ie.Name == "" {
			sql, err := t.conflictExpr(rel, ie.Expr) // exprindex.go
			if err != nil {
				return nil, err
			}
			out = append(out, sql)
			continue
		}
		if _, ok := rel.Column(ie.Name); !ok {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", ie.Name)
		}
		out = append(out, quote(ie.Name))
	}
	return out, nil
}

// setList translates UPDATE/ON CONFLICT SET items.
func (t *translator) setList(s *scope, rel *catalog.Relation, targets []*pg.Node) (string, error) {
	parts := make([]string, 0, len(targets))
	seen := map[string]bool{}
	elems := map[string]int{} // column → its part, for SET a[1] = x, a[2] = y
	for _, n := range targets {
		rt := n.GetResTarget()
		if len(rt.Indirection) > 0 {
			if err := t.setArrayElement(s, rel, rt, seen, elems, &parts); err != nil { // arrays.go
				return "", err
			}
			continue
		}
		if _, ok := rt.Val.Node.(*pg.Node_MultiAssignRef); ok {
			return "", pgerr.Unsupported("multiple-column assignment in SET")
		}
		col, ok := rel.Column(rt.Name)
		if !ok {
			return "", pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, rel.Name).
				WithPosition(rt.Location + 1)
		}
		if _, elem := elems[col.Name]; seen[col.Name] || elem {
			return "", pgerr.New(pgerr.SyntaxError, "multiple assignments to same column %q", col.Name)
		}
		seen[col.Name] = true
		if _, isDefault := rt.Val.Node.(*pg.Node_SetToDefault); col.Identity == 'a' && !isDefault {
			return "", pgerr.New(pgerr.GeneratedAlways, "column %q can only be updated to DEFAULT", col.Name).
				WithDetail("Column %q is an identity column defined as GENERATED ALWAYS.", col.Name)
		}
		v, err := t.assignValue(s, col, rt.Val)
		if err != nil {
			return "", err
		}
		parts = append(parts, quote(col.Name)+" = "+v)
	}
	return strings.Join(parts, ", "), nil
}

// returning appends RETURNING and fills plan.Columns.
func (t *translator) returning(b *strings.Builder, plan *Plan, target *rangeItem, list []*pg.Node) error {
	if len(list) == 0 {
		return nil
	}
	unq := *target
	unq.sqlAlias = ""
	s := &scope{items: []*rangeItem{&unq}}
	cols, err := t.targetList(s, list)
	if err != nil {
		return err
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		if c.expr.agg {
			return pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in RETURNING")
		}
		parts[i] = c.expr.sql + " AS " + quote(c.sqlName)
		plan.Columns = append(plan.Columns, c.Column)
	}
	b.WriteString(" RETURNING " + strings.Join(parts, ", "))
	return nil
}

func (t *translator) updatePlan(up *pg.UpdateStmt) (*Plan, error) {
	if w := up.WithClause; w != nil {
		up.WithClause = nil
		defer func() { up.WithClause = w }()
		return t.withStatement(w, func() (*Plan, error) { return t.updatePlan(up) })
	}
	rel, alias, err := t.targetTable(up.Relation, "update")
	if err != nil {
		return nil, err
	}
	t.target = rel
	target := &rangeItem{name: alias, sqlAlias: alias, rel: rel, cols: relationCols(rel)}
	s := &scope{items: []*rangeItem{target}}
	from := ""
	if len(up.FromClause) > 0 {
		if from, err = t.fromClause(s, up.FromClause); err != nil {
			return nil, err
		}
	}
	sets, err := t.setList(s, rel, up.TargetList)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("UPDATE " + quote(rel.SQLiteName) + " AS " + quote(alias) + " SET " + sets)
	if from != "" {
		b.WriteString(" FROM " + from)
	}
	if up.WhereClause != nil {
		w, err := t.boolExpr(s, up.WhereClause, "WHERE")
		if err != nil {
			return nil, err
		}
		b.WriteString(" WHERE " + w)
	}
	plan := &Plan{Kind: KindWrite, Tag: "UPDATE"}
	if err := t.returning(&b, plan, target, up.ReturningList); err != nil {
		return nil, err
	}
	plan.Steps = []Step{{SQL: b.String(), Args: t.argsFor(""), Rows: len(plan.Columns) > 0, Count: true}}
	return plan, nil
}

func (t *translator) deletePlan(del *pg.DeleteStmt) (*Plan, error) {
	if w := del.WithClause; w != nil {
		del.WithClause = nil
		defer func() { del.WithClause = w }()
		return t.withStatement(w, func() (*Plan, error) { return t.deletePlan(del) })
	}
	rel, alias, err := t.targetTable(del.Relation, "delete from")
	if err != nil {
		return nil, err
	}
	target := &rangeItem{name: alias, sqlAlias: alias, rel: rel, cols: relationCols(rel)}
	s := &scope{items: []*rangeItem{target}}
	var b strings.Builder
	b.WriteString("DELETE FROM " + quote(rel.SQLiteName) + " AS " + quote(alias))
	if len(del.UsingClause) > 0 {
		// SQLite has no DELETE … USING: select the target rowids with a join.
		using, err := t.fromClause(s, del.UsingClause)
		if err != nil {
			return nil, err
		}
		inner := "SELECT " + quote(alias) + ".rowid FROM " + quote(rel.SQLiteName) + " AS " + quote(alias) + ", " + using
		if del.WhereClause != nil {
			w, err := t.boolExpr(s, del.WhereClause, "WHERE")
			if err != nil {
				return nil, err
			}
			inner += " WHERE " + w
		}
		b.Reset()
		b.WriteString("DELETE FROM " + quote(rel.SQLiteName) + " WHERE rowid IN (" + inner + ")")
	} else if del.WhereClause != nil {
		w, err := t.boolExpr(s, del.WhereClause, "WHERE")
		if err != nil {
			return nil, err
		}
		b.WriteString(" WHERE " + w)
	}
	plan := &Plan{Kind: KindWrite, Tag: "DELETE"}
	if err := t.returning(&b, plan, target, del.ReturningList); err != nil {
		return nil, err
	}
	plan.Steps = []Step{{SQL: b.String(), Args: t.argsFor(""), Rows: len(plan.Columns) > 0, Count: true}}
	return plan, nil
}

// uniqueViolationClauses makes a unique violation name its key values, as
// PostgreSQL's DETAIL does ("Key (id)=(1) already exists."): SQLite's own
// error names only the columns, so each unique index gets an ON CONFLICT
// clause whose update raises the error with the conflicting values.
func uniqueViolationClauses(rel *catalog.Relation, covered map[uint32]bool) string {
	var b strings.Builder
	for _, idx := range rel.Indexes {
		if !idx.Unique || idx.Predicate != "" || covered[idx.OID] || len(idx.Columns) == 0 {
			continue
		}
		cols := make([]string, 0, len(idx.Columns))
		names := make([]string, 0, len(idx.Columns))
		args := make([]string, 0, 2*len(idx.Columns))
		for i, n := range idx.Columns {
			if x := idx.Expr(i); x != nil {
				// The existing row's key equals the new one's (exprindex.go).
				cols, names = append(cols, x.SQL), append(names, indexExprKeyPretty(x.Text))
				args = append(args, x.SQL, oidLit(x.Type))
				continue
			}
			c, ok := rel.ColumnByNum(n)
			if !ok {
				return ""
			}
			cols = append(cols, quote(c.Name))
			names = append(names, c.Name)
			args = append(args, `"excluded".`+quote(c.Name), oidLit(c.Type))
		}
		b.WriteString(" ON CONFLICT (" + strings.Join(cols, ", ") + ") DO UPDATE SET " + quote(rel.Columns[0].Name) +
			" = chr2_unique_violation(" + sqltype.QuoteString(idx.Name) + ", " + sqltype.QuoteString(rel.Name) + ", " +
			sqltype.QuoteString(strings.Join(names, ", ")) + ", " + strings.Join(args, ", ") + ")")
	}
	return b.String()
}

// inferredIndex finds the unique index an ON CONFLICT target names.
func (t *translator) inferredIndex(rel *catalog.Relation, inf *pg.InferClause) *catalog.Index {
	var nums []int16
	if inf.Conname != "" {
		for _, con := range rel.Constraint {
			if con.Name == inf.Conname {
				for _, idx := range rel.Indexes {
					if idx.OID == con.IndexOID {
						return idx
					}
				}
			}
		}
		return nil
	}
	for _, n := range inf.IndexElems {
		if c, ok := rel.Column(n.GetIndexElem().Name); ok {
			nums = append(nums, c.Num)
		} else if n.GetIndexElem().Name == "" {
			nums = append(nums, 0) // an expression key
		}
	}
	for _, idx := range rel.Indexes {
		if idx.Unique && sameNumSet(idx.Columns, nums) {
			return idx
		}
	}
	return nil
}

func sameNumSet(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !containsNum(b, x) {
			return false
		}
	}
	return true
}
