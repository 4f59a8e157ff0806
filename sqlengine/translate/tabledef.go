package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// A tableDef is the complete model of one table: what CREATE TABLE
// declares, or what the catalog holds when ALTER TABLE starts from it. The
// SQLite schema, the pg_get_*def texts and the meta table rows are all
// rendered from it, so they cannot disagree.

func (td *tableDef) index(oid uint32) *catalog.Index {
	for _, idx := range td.indexes {
		if idx.OID == oid {
			return idx
		}
	}
	return nil
}

func (td *tableDef) columnNamed(name string) *colDef {
	for _, cd := range td.cols {
		if cd.col.Name == name {
			return cd
		}
	}
	return nil
}

func (td *tableDef) colNames(nums []int16) []string {
	out := make([]string, 0, len(nums))
	for _, n := range nums {
		if c := td.column(n); c != nil {
			out = append(out, c.Name)
		}
	}
	return out
}

// refTable resolves a foreign key's referenced table: td itself for a
// self-reference (it may be being renamed or rebuilt).
func (t *translator) refTable(td *tableDef, con *catalog.Constraint) (*catalog.Relation, []string) {
	if con.RefTable == td.rel.OID {
		return td.rel, td.colNames(con.RefColumns)
	}
	ref, ok := t.overrides[con.RefTable]
	if !ok {
		if ref, ok = t.cat.Relation(con.RefTable); !ok {
			return nil, nil
		}
	}
	cols := make([]string, 0, len(con.RefColumns))
	for _, n := range con.RefColumns {
		if c, ok := ref.ColumnByNum(n); ok {
			cols = append(cols, c.Name)
		}
	}
	return ref, cols
}

// fkClause renders the SQLite REFERENCES clause; selfName is the SQLite name
// of the table being created (for self-references).
func (t *translator) fkClause(td *tableDef, con *catalog.Constraint, selfName string) string {
	ref, cols := t.refTable(td, con)
	name := selfName
	if ref != td.rel && ref != nil {
		name = ref.SQLiteName
		if n, ok := t.rebuildNames[ref.OID]; ok {
			name = n // rebuilt in the same statement
		}
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	actions := fkAction(" ON UPDATE ", string(con.FKActions[0])) + fkAction(" ON DELETE ", string(con.FKActions[1]))
	return "REFERENCES " + quote(name) + " (" + strings.Join(quoted, ", ") + ")" + actions
}

// constraintDefinition is pg_get_constraintdef's text.
func (t *translator) constraintDefinition(td *tableDef, con *catalog.Constraint) string {
	switch con.Type {
	case catalog.ConPrimary, catalog.ConUnique:
		return constraintKeyword(con.Type) + " (" + strings.Join(td.colNames(con.Columns), ", ") + ")"
	case catalog.ConForeign:
		ref, cols := t.refTable(td, con)
		refName := ""
		if ref != nil {
			refName = qualifiedForText(ref.Namespace.Name, ref.Name)
		}
		def := "FOREIGN KEY (" + strings.Join(td.colNames(con.Columns), ", ") + ") REFERENCES " + refName +
			"(" + strings.Join(cols, ", ") + ")"
		def += fkAction(" ON UPDATE ", string(con.FKActions[0])) + fkAction(" ON DELETE ", string(con.FKActions[1]))
		if con.Deferrable {
			def += " DEFERRABLE"
		}
		return def
	case catalog.ConCheck:
		return "CHECK (" + parenthesized(con.CheckExpr) + ")"
	}
	return ""
}

// parenthesized wraps an operator expression in parentheses, as
// pg_get_constraintdef and pg_get_indexdef print them.
func parenthesized(expr string) string {
	tree, err := pg.Parse("SELECT " + expr)
	if err != nil || len(tree.Stmts) != 1 {
		return expr
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 {
		return expr
	}
	switch sel.TargetList[0].GetResTarget().Val.Node.(type) {
	case *pg.Node_AExpr, *pg.Node_BoolExpr, *pg.Node_NullTest, *pg.Node_BooleanTest:
		return "(" + expr + ")"
	}
	return expr
}

// indexDefinition is pg_get_indexdef's text.
func (t *translator) indexDefinition(td *tableDef, idx *catalog.Index) string {
	kw := "CREATE INDEX "
	if idx.Unique {
		kw = "CREATE UNIQUE INDEX "
	}
	keys := indexKeyNames(td, idx)
	for i := range keys {
		if i < len(idx.Desc) && idx.Desc[i] {
			keys[i] += " DESC"
		}
	}
	def := kw + idx.Name + " ON " + td.rel.Namespace.Name + "." + td.rel.Name + " USING btree (" + strings.Join(keys, ", ") + ")"
	if idx.Predicate != "" {
		def += " WHERE " + parenthesized(idx.Predicate)
	}
	return def
}

// tableScope is a scope with the table's columns, for CHECK and index
// predicates.
func tableScope(td *tableDef) *scope {
	item := &rangeItem{name: td.rel.Name}
	for _, cd := range td.cols {
		item.cols = append(item.cols, scopeCol{name: cd.col.Name, sqlName: cd.col.Name, typ: cd.col.Type, mod: cd.col.TypMod})
	}
	return &scope{items: []*rangeItem{item}}
}

// parseExprText parses a stored PostgreSQL expression.
func parseExprText(text string) (*pg.Node, error) {
	tree, err := pg.Parse("SELECT " + text)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, pgerr.New(pgerr.DataCorrupted, "stored expression %q does not parse", text)
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 {
		return nil, pgerr.New(pgerr.DataCorrupted, "stored expression %q is not one expression", text)
	}
	return sel.TargetList[0].GetResTarget().Val, nil
}

// indexSQL renders a standalone SQLite CREATE INDEX on table sqliteTable.
func (t *translator) indexSQL(td *tableDef, idx *catalog.Index, sqliteTable string) (string, error) {
	keys := make([]string, 0, len(idx.Columns))
	for i, n := range idx.Columns {
		var k string
		if x := idx.Expr(i); x != nil {
			sql, err := t.indexExprSQL(td, x)
			if err != nil {
				return "", err
			}
			k = sql
		} else if c := td.column(n); c != nil {
			k = quote(c.Name)
		} else {
			return "", pgerr.New(pgerr.DataCorrupted, "index %s names a missing column", idx.Name)
		}
		if i < len(idx.Desc) && idx.Desc[i] {
			k += " DESC"
		}
		keys = append(keys, k)
	}
	unique := ""
	if idx.Unique {
		unique = "UNIQUE "
	}
	sql := "CREATE " + unique + "INDEX " + quote(idx.SQLiteName) + " ON " + quote(sqliteTable) + " (" + strings.Join(keys, ", ") + ")"
	if idx.Predicate != "" {
		n, err := parseExprText(idx.Predicate)
		if err != nil {
			return "", err
		}
		w, err := t.boolExpr(tableScope(td), n, "WHERE")
		if err != nil {
			return "", err
		}
		sql += " WHERE " + w
	}
	return sql, nil
}

// catalogInserts records the table, its columns, constraints, indexes and
// sequences in the meta tables.
func (t *translator) catalogInserts(d *ddl, td *tableDef) {
	t.relationInsert(d, td.rel)
	t.tableContentInserts(d, td)
}

// tableContentInserts records everything of td but its own relation row.
func (t *translator) tableContentInserts(d *ddl, td *tableDef) {
	for _, cd := range td.cols {
		t.attributeInsert(d, td.rel.OID, cd.col)
	}
	for _, idx := range td.indexes {
		t.indexInsert(d, td, idx)
	}
	for _, con := range td.cons {
		t.constraintInsert(d, td, con)
	}
	for _, seq := range td.sequences {
		t.sequenceInsert(d, seq)
	}
}

// indexInsert records an index: its relation row and its _chr2_indexes row.
func (t *translator) indexInsert(d *ddl, td *tableDef, idx *catalog.Index) {
	for _, x := range idx.Exprs {
		if x != nil {
			// Follow renames and type changes; indexSQL has already
			// reported any error the translation can give.
			_, _ = t.indexExprSQL(td, x)
		}
	}
	t.relationInsert(d, &catalog.Relation{OID: idx.OID, Namespace: td.rel.Namespace, Name: idx.Name,
		Kind: catalog.KindIndex, SQLiteName: idx.SQLiteName, OwnedBy: td.rel.OID})
	d.add("INSERT INTO _chr2_indexes (oid, rel, name, is_unique, is_primary, columns, definition, sqlite_name, "+
		"desc_flags, predicate, exprs) VALUES (%d, %d, %s, %d, %d, %s, %s, %s, %s, %s, %s)", idx.OID, td.rel.OID,
		sqltype.QuoteString(idx.Name), b2i(idx.Unique), b2i(idx.Primary),
		sqltype.QuoteString(catalog.FormatAttnums(idx.Columns)), sqltype.QuoteString(t.indexDefinition(td, idx)),
		sqltype.QuoteString(idx.SQLiteName), sqltype.QuoteString(catalog.FormatFlags(idx.Desc)),
		sqltype.QuoteString(idx.Predicate), sqltype.QuoteString(catalog.FormatIndexExprs(idx.Exprs)))
}

func (t *translator) relationInsert(d *ddl, rel *catalog.Relation) {
	d.add("INSERT INTO _chr2_relations (oid, nsp, name, kind, sqlite_name, owned_by, definition) "+
		"VALUES (%d, %d, %s, '%c', %s, %d, %s)", rel.OID, rel.Namespace.OID, sqltype.QuoteString(rel.Name), rel.Kind,
		sqltype.QuoteString(rel.SQLiteName), rel.OwnedBy, sqltype.QuoteString(rel.Definition))
}

func (t *translator) attributeInsert(d *ddl, rel uint32, c *catalog.Column) {
	identity := ""
	if c.Identity != 0 {
		identity = string(c.Identity)
	}
	d.add("INSERT INTO _chr2_attributes (rel, num, name, type_oid, typmod, not_null, default_pg, default_sql, "+
		"default_seq, identity) VALUES (%d, %d, %s, %d, %d, %d, %s, %s, %d, '%s')", rel, c.Num,
		sqltype.QuoteString(c.Name), c.Type, c.TypMod, b2i(c.NotNull), nullableText(c.DefaultPG),
		nullableText(c.DefaultSQL), c.DefaultSeq, identity)
}

func (t *translator) constraintInsert(d *ddl, td *tableDef, con *catalog.Constraint) {
	d.add("INSERT INTO _chr2_constraints (oid, rel, name, type, columns, ref_rel, ref_columns, definition, index_oid, "+
		"check_expr, fk_actions, is_deferrable) VALUES (%d, %d, %s, '%c', %s, %d, %s, %s, %d, %s, %s, %d)",
		con.OID, td.rel.OID, sqltype.QuoteString(con.Name), con.Type,
		sqltype.QuoteString(catalog.FormatAttnums(con.Columns)), con.RefTable,
		sqltype.QuoteString(catalog.FormatAttnums(con.RefColumns)), sqltype.QuoteString(t.constraintDefinition(td, con)),
		con.IndexOID, sqltype.QuoteString(con.CheckExpr), sqltype.QuoteString(con.FKActions), b2i(con.Deferrable))
}

func (t *translator) sequenceInsert(d *ddl, seq *catalog.Relation) {
	t.relationInsert(d, seq)
	sp := seq.Sequence
	d.add("INSERT INTO _chr2_sequences (oid, last_value, is_called, increment, min_value, max_value, start_value, cycle) "+
		"VALUES (%d, %d, 0, %d, %d, %d, %d, %d)", seq.OID, sp.Start, sp.Increment, sp.Min, sp.Max, sp.Start, b2i(sp.Cycle))
}

// loadTableDef rebuilds a table's model from the catalog.
func (t *translator) loadTableDef(rel *catalog.Relation) (*tableDef, error) {
	cp := *rel
	td := &tableDef{rel: &cp, checks: map[uint32]string{}, uniqueCols: map[string]bool{}}
	cp.Columns = nil
	for _, c := range rel.Columns {
		col := *c
		cp.Columns = append(cp.Columns, &col)
		td.cols = append(td.cols, &colDef{col: &col, checks: typeChecks(&col)})
	}
	for _, idx := range rel.Indexes {
		ix := *idx
		ix.Exprs = cloneIndexExprs(idx.Exprs)
		td.indexes = append(td.indexes, &ix)
	}
	for _, con := range rel.Constraint {
		c := *con
		if c.Type == catalog.ConForeign && len(c.FKActions) != 2 {
			c.FKActions = "aa"
		}
		td.cons = append(td.cons, &c)
	}
	cp.Indexes, cp.Constraint = td.indexes, td.cons
	if err := t.recompileChecks(td); err != nil {
		return nil, err
	}
	return td, nil
}

// recompileChecks translates every CHECK constraint's stored expression
// against the table's current columns.
func (t *translator) recompileChecks(td *tableDef) error {
	for _, con := range td.cons {
		if con.Type != catalog.ConCheck {
			continue
		}
		n, err := parseExprText(con.CheckExpr)
		if err != nil {
			return err
		}
		sql, err := t.boolExpr(tableScope(td), n, "CHECK")
		if err != nil {
			return err
		}
		td.checks[con.OID] = sql
	}
	return nil
}

// referencedBy lists the foreign keys of other tables that reference rel.
func (t *translator) referencedBy(rel *catalog.Relation) []*catalog.Constraint {
	var out []*catalog.Constraint
	for _, other := range t.cat.Relations() {
		if other.OID == rel.OID {
			continue
		}
		for _, con := range other.Constraint {
			if con.Type == catalog.ConForeign && con.RefTable == rel.OID {
				out = append(out, con)
			}
		}
	}
	return out
}

func oidStr(o uint32) string { return strconv.FormatUint(uint64(o), 10) }
