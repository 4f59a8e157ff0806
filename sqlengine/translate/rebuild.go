package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// emitRebuild renders the table rebuild described in alter.go. Every
// table that references the rebuilt one (directly or through others) is
// rebuilt with it, unchanged: their new copies reference the new tables, so
// dropping the old ones runs no foreign key action.
func (t *translator) emitRebuild(d *ddl, st *alterState) error {
	set, err := t.rebuildSet(st)
	if err != nil {
		return err
	}
	t.rebuildNames = map[uint32]string{}
	for _, x := range set {
		t.rebuildNames[x.orig.OID] = x.orig.SQLiteName + "$new"
	}
	defer func() { t.rebuildNames = nil }()
	for _, x := range set {
		t.copyIntoNew(d, x)
	}
	for i := len(set) - 1; i >= 0; i-- {
		d.add("DROP TABLE %s", quote(set[i].orig.SQLiteName))
	}
	// legacy_alter_table: the renames must not re-check views that named the
	// dropped tables; foreign keys are renamed regardless.
	d.add("PRAGMA legacy_alter_table = ON")
	for _, x := range set {
		d.add("ALTER TABLE %s RENAME TO %s", quote(x.orig.SQLiteName+"$new"), quote(x.orig.SQLiteName))
	}
	d.add("PRAGMA legacy_alter_table = OFF")
	for _, x := range set {
		for _, idx := range x.td.indexes {
			if idx.SQLiteName == "" {
				continue
			}
			sql, err := t.indexSQL(x.td, idx, x.orig.SQLiteName)
			if err != nil {
				return err
			}
			d.add("%s", sql)
		}
	}
	for _, sql := range st.postRebuild {
		d.add("%s", sql)
	}
	return nil
}

// copyIntoNew creates "<name>$new" with the table's final definition and
// copies the rows in rowid order.
func (t *translator) copyIntoNew(d *ddl, x *alterState) {
	old := x.orig.SQLiteName
	tmp := old + "$new"
	d.add("%s", t.sqliteCreateTableNamed(x.td, tmp))
	cols := make([]string, 0, len(x.td.cols)+1)
	vals := make([]string, 0, len(x.td.cols)+1)
	if !hasRowidAlias(x.td) {
		cols, vals = append(cols, "rowid"), append(vals, `"o".rowid`)
	}
	for _, cd := range x.td.cols {
		cols = append(cols, quote(cd.col.Name))
		vals = append(vals, x.src[cd.col.Num])
	}
	d.add("INSERT INTO %s (%s) SELECT %s FROM %s AS \"o\" ORDER BY \"o\".rowid", quote(tmp), strings.Join(cols, ", "),
		strings.Join(vals, ", "), quote(old))
}

// rebuildSet returns the rebuilt table followed by every table that
// references it transitively, parents before children.
func (t *translator) rebuildSet(st *alterState) ([]*alterState, error) {
	set := []*alterState{st}
	in := map[uint32]*alterState{st.orig.OID: st}
	for i := 0; i < len(set); i++ {
		for _, fk := range t.referencedBy(set[i].orig) {
			child := t.constraintTable(fk)
			if child == nil || in[child.OID] != nil {
				continue
			}
			td, err := t.loadTableDef(child)
			if err != nil {
				return nil, err
			}
			cst := &alterState{td: td, orig: child, src: map[int16]string{}}
			for _, c := range child.Columns {
				cst.src[c.Num] = `"o".` + quote(c.Name)
			}
			in[child.OID] = cst
			set = append(set, cst)
		}
	}
	return topoOrder(set)
}

// topoOrder orders tables so that a table comes after the tables it
// references (self-references aside); a cycle cannot be copied row by row
// under immediate foreign keys and is refused.
func topoOrder(set []*alterState) ([]*alterState, error) {
	in := map[uint32]bool{}
	for _, x := range set {
		in[x.orig.OID] = true
	}
	done := map[uint32]bool{}
	var out []*alterState
	for len(out) < len(set) {
		progressed := false
		for _, x := range set {
			if done[x.orig.OID] {
				continue
			}
			ready := true
			for _, con := range x.td.cons {
				if con.Type == catalog.ConForeign && con.RefTable != x.orig.OID && in[con.RefTable] && !done[con.RefTable] {
					ready = false
				}
			}
			if ready {
				done[x.orig.OID] = true
				out = append(out, x)
				progressed = true
			}
		}
		if !progressed {
			return nil, pgerr.Unsupported("this ALTER TABLE on tables that reference each other in a cycle")
		}
	}
	return out, nil
}

// hasRowidAlias reports whether the table's primary key is SQLite's
// INTEGER PRIMARY KEY (an alias of the rowid).
func hasRowidAlias(td *tableDef) bool {
	pk := td.primary()
	if pk == nil || len(pk.Columns) != 1 {
		return false
	}
	if idx := td.index(pk.IndexOID); idx != nil && idx.SQLiteName != "" {
		return false
	}
	c := td.column(pk.Columns[0])
	return c != nil && sqltype.StorageOf(c.Type) == sqltype.Integer
}

// catalogReplace rewrites the table's catalog rows from the model; newName
// is set when the table is renamed.
func (t *translator) catalogReplace(d *ddl, st *alterState, newName string) {
	td := st.td
	oid := td.rel.OID
	d.add("DELETE FROM _chr2_attributes WHERE rel = %d", oid)
	d.add("DELETE FROM _chr2_constraints WHERE rel = %d", oid)
	d.add("DELETE FROM _chr2_indexes WHERE rel = %d", oid)
	d.add("DELETE FROM _chr2_relations WHERE owned_by = %d AND kind = 'i'", oid)
	for _, seq := range st.dropSeqs {
		d.add("DELETE FROM _chr2_sequences WHERE oid = %d", seq)
		d.add("DELETE FROM _chr2_relations WHERE oid = %d", seq)
		d.add("DELETE FROM _chr2_descriptions WHERE objoid = %d", seq)
	}
	for _, num := range st.dropDesc {
		d.add("DELETE FROM _chr2_descriptions WHERE objoid = %d AND classoid = 1259 AND objsubid = %d", oid, num)
	}
	if newName != "" {
		d.add("UPDATE _chr2_relations SET name = %s, sqlite_name = %s WHERE oid = %d", sqltype.QuoteString(td.rel.Name),
			sqltype.QuoteString(td.rel.SQLiteName), oid)
	}
	t.tableContentInserts(d, td)
}

// refreshReferencingDefinitions re-renders the definitions of other tables'
// foreign keys that reference rel (after a rename changed its name or a
// column's).
func (t *translator) refreshReferencingDefinitions(d *ddl, renamed *tableDef) error {
	for _, other := range t.cat.Relations() {
		if other.OID == renamed.rel.OID || other.Kind != catalog.KindTable {
			continue
		}
		var otd *tableDef
		for _, con := range other.Constraint {
			if con.Type != catalog.ConForeign || con.RefTable != renamed.rel.OID {
				continue
			}
			if otd == nil {
				var err error
				if otd, err = t.loadTableDef(other); err != nil {
					return err
				}
			}
			t.overrides = map[uint32]*catalog.Relation{renamed.rel.OID: renamed.rel}
			def := t.constraintDefinition(otd, otd.constraint(con.OID))
			t.overrides = nil
			d.add("UPDATE _chr2_constraints SET definition = %s WHERE oid = %d", sqltype.QuoteString(def), con.OID)
		}
	}
	return nil
}

func (td *tableDef) constraint(oid uint32) *catalog.Constraint {
	for _, c := range td.cons {
		if c.OID == oid {
			return c
		}
	}
	return nil
}

// rename handles ALTER … RENAME.
func (t *translator) rename(rs *pg.RenameStmt) (*Plan, error) {
	switch rs.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		return t.renameTable(rs)
	case pg.ObjectType_OBJECT_COLUMN:
		return t.renameColumn(rs)
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		return t.renameConstraint(rs)
	case pg.ObjectType_OBJECT_INDEX:
		return t.renameIndex(rs)
	case pg.ObjectType_OBJECT_SEQUENCE:
		return t.renameSequence(rs)
	}
	return nil, pgerr.Unsupported("ALTER " + objectTypeName(rs.RenameType) + " … RENAME")
}

// renameTarget resolves the table of a RENAME and loads its model.
func (t *translator) renameTarget(rs *pg.RenameStmt, tag string) (*alterState, *Plan, error) {
	rel, err := t.lookupRelation(rs.Relation)
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && rs.MissingOk && pe.Code == pgerr.UndefinedTable {
			return nil, skipped(tag, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist, skipping",
				rs.Relation.Relname)), nil
		}
		return nil, nil, err
	}
	if err := t.checkAlterable(rel); err != nil {
		return nil, nil, err
	}
	td, err := t.loadTableDef(rel)
	if err != nil {
		return nil, nil, err
	}
	td.dropped = map[string]bool{}
	return &alterState{td: td, orig: rel, src: map[int16]string{}}, nil, nil
}

func (t *translator) renameTable(rs *pg.RenameStmt) (*Plan, error) {
	st, skip, err := t.renameTarget(rs, "ALTER TABLE")
	if st == nil {
		return skip, err
	}
	td := st.td
	if _, exists := t.cat.Lookup(td.rel.Namespace.Name, rs.Newname, nil); exists {
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", rs.Newname)
	}
	old := td.rel.SQLiteName
	td.rel.Name = rs.Newname
	td.rel.SQLiteName = catalog.SQLiteName(td.rel.Namespace.Name, rs.Newname)
	d := &ddl{}
	d.add("ALTER TABLE %s RENAME TO %s", quote(old), quote(td.rel.SQLiteName))
	t.catalogReplace(d, st, rs.Newname)
	if err := t.refreshReferencingDefinitions(d, td); err != nil {
		return nil, err
	}
	return t.finishDDL(d, "ALTER TABLE"), nil
}

func (t *translator) renameColumn(rs *pg.RenameStmt) (*Plan, error) {
	st, skip, err := t.renameTarget(rs, "ALTER TABLE")
	if st == nil {
		return skip, err
	}
	td := st.td
	col, err := st.column(rs.Subname)
	if err != nil {
		return nil, err
	}
	if td.columnNamed(rs.Newname) != nil {
		return nil, pgerr.New(pgerr.DuplicateColumn, "column %q of relation %q already exists", rs.Newname, td.rel.Name)
	}
	old := col.Name
	col.Name = rs.Newname
	for _, con := range td.cons {
		if con.CheckExpr != "" {
			con.CheckExpr = renameColumnRefs(con.CheckExpr, old, rs.Newname)
		}
	}
	for _, idx := range td.indexes {
		if idx.Predicate != "" {
			idx.Predicate = renameColumnRefs(idx.Predicate, old, rs.Newname)
		}
		renameIndexExprs(idx, old, rs.Newname)
	}
	d := &ddl{}
	d.add("ALTER TABLE %s RENAME COLUMN %s TO %s", quote(td.rel.SQLiteName), quote(old), quote(rs.Newname))
	t.catalogReplace(d, st, "")
	if err := t.refreshReferencingDefinitions(d, td); err != nil {
		return nil, err
	}
	return t.finishDDL(d, "ALTER TABLE"), nil
}

func (t *translator) renameConstraint(rs *pg.RenameStmt) (*Plan, error) {
	st, skip, err := t.renameTarget(rs, "ALTER TABLE")
	if st == nil {
		return skip, err
	}
	td := st.td
	var con *catalog.Constraint
	for _, c := range td.cons {
		if c.Name == rs.Subname {
			con = c
		}
		if c.Name == rs.Newname {
			return nil, pgerr.New(pgerr.DuplicateObject, "constraint %q for relation %q already exists", rs.Newname, td.rel.Name)
		}
	}
	if con == nil {
		return nil, pgerr.New(pgerr.UndefinedObject, "constraint %q for table %q does not exist", rs.Subname, td.rel.Name)
	}
	if con.Type == catalog.ConCheck {
		// SQLite reports a failed CHECK by the name in its schema.
		return nil, pgerr.Unsupported("renaming a CHECK constraint")
	}
	con.Name = rs.Newname
	d := &ddl{}
	if idx := td.index(con.IndexOID); idx != nil {
		if err := t.renameIndexModel(d, td, idx, rs.Newname); err != nil {
			return nil, err
		}
	}
	t.catalogReplace(d, st, "")
	return t.finishDDL(d, "ALTER TABLE"), nil
}

// renameIndexModel renames an index; SQLite cannot rename one, so a
// standalone index is dropped and created again under the new name.
func (t *translator) renameIndexModel(d *ddl, td *tableDef, idx *catalog.Index, name string) error {
	if _, exists := t.cat.Lookup(td.rel.Namespace.Name, name, nil); exists {
		return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", name)
	}
	idx.Name = name
	if idx.SQLiteName == "" {
		return nil
	}
	d.add("DROP INDEX %s", quote(idx.SQLiteName))
	idx.SQLiteName = catalog.SQLiteName(td.rel.Namespace.Name, name)
	sql, err := t.indexSQL(td, idx, td.rel.SQLiteName)
	if err != nil {
		return err
	}
	d.add("%s", sql)
	return nil
}

func (t *translator) renameIndex(rs *pg.RenameStmt) (*Plan, error) {
	irel, err := t.lookupRelation(rs.Relation)
	if err != nil {
		if rs.MissingOk {
			return skipped("ALTER INDEX", pgerr.New(pgerr.UndefinedTable, "relation %q does not exist, skipping",
				rs.Relation.Relname)), nil
		}
		return nil, err
	}
	if irel.Kind != catalog.KindIndex {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not an index", irel.Name)
	}
	table, ok := t.cat.Relation(irel.OwnedBy)
	if !ok {
		return nil, pgerr.New(pgerr.DataCorrupted, "index %q has no table", irel.Name)
	}
	td, err := t.loadTableDef(table)
	if err != nil {
		return nil, err
	}
	st := &alterState{td: td, orig: table}
	d := &ddl{}
	idx := td.index(irel.OID)
	if err := t.renameIndexModel(d, td, idx, rs.Newname); err != nil {
		return nil, err
	}
	for _, con := range td.cons {
		if con.IndexOID == idx.OID {
			con.Name = rs.Newname // an index backing a constraint names it
		}
	}
	t.catalogReplace(d, st, "")
	return t.finishDDL(d, "ALTER INDEX"), nil
}

func (t *translator) renameSequence(rs *pg.RenameStmt) (*Plan, error) {
	rel, err := t.lookupRelation(rs.Relation)
	if err != nil {
		if rs.MissingOk {
			return skipped("ALTER SEQUENCE", pgerr.New(pgerr.UndefinedTable, "relation %q does not exist, skipping",
				rs.Relation.Relname)), nil
		}
		return nil, err
	}
	if rel.Kind != catalog.KindSequence {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a sequence", rel.Name)
	}
	if _, exists := t.cat.Lookup(rel.Namespace.Name, rs.Newname, nil); exists {
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", rs.Newname)
	}
	d := &ddl{}
	d.add("UPDATE _chr2_relations SET name = %s WHERE oid = %d", sqltype.QuoteString(rs.Newname), rel.OID)
	// Column defaults print the sequence by name.
	def := "nextval('" + qualifiedForText(rel.Namespace.Name, rs.Newname) + "'::regclass)"
	d.add("UPDATE _chr2_attributes SET default_pg = %s WHERE default_seq = %d AND identity = ''",
		sqltype.QuoteString(def), rel.OID)
	return t.finishDDL(d, "ALTER SEQUENCE"), nil
}
