package translate

import (
	"math"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

func (t *translator) createIndex(is *pg.IndexStmt) (*Plan, error) {
	if is.AccessMethod != "" && is.AccessMethod != "btree" {
		return nil, pgerr.Unsupported("index access method " + is.AccessMethod)
	}
	if len(is.IndexIncludingParams) > 0 {
		return nil, pgerr.Unsupported("INCLUDE columns in indexes")
	}
	rel, err := t.lookupRelation(is.Relation)
	if err != nil {
		return nil, err
	}
	if rel.Kind != catalog.KindTable {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a table", rel.Name)
	}
	td, err := t.loadTableDef(rel)
	if err != nil {
		return nil, err
	}
	idx := &catalog.Index{Unique: is.Unique}
	keys, err := t.indexKeys(td, idx, is.IndexParams)
	if err != nil {
		return nil, err
	}
	if is.WhereClause != nil {
		idx.Predicate = deparseExpr(is.WhereClause)
	}
	name := is.Idxname
	if name == "" {
		name = t.freeRelationName(rel.Namespace, rel.Name+"_"+strings.Join(keys, "_")+"_idx")
	} else if _, exists := t.cat.Lookup(rel.Namespace.Name, name, nil); exists {
		if is.IfNotExists {
			return skipped("CREATE INDEX", pgerr.New(pgerr.DuplicateTable, "relation %q already exists, skipping", name)), nil
		}
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", name)
	}
	idx.Name, idx.OID = name, t.allocOID()
	idx.SQLiteName = catalog.SQLiteName(rel.Namespace.Name, name)
	sql, err := t.indexSQL(td, idx, rel.SQLiteName)
	if err != nil {
		return nil, err
	}
	d := &ddl{}
	d.add("%s", sql)
	t.indexInsert(d, td, idx)
	return t.finishDDL(d, "CREATE INDEX"), nil
}

// freeRelationName returns base, or base with the smallest numeric suffix
// that no relation in nsp uses, as PostgreSQL names implicit objects.
func (t *translator) freeRelationName(nsp *catalog.Namespace, base string) string {
	if len(base) > 63 {
		base = base[:63]
	}
	name := base
	for i := 1; ; i++ {
		if _, exists := t.cat.Lookup(nsp.Name, name, nil); !exists {
			return name
		}
		name = base + strconv.Itoa(i)
	}
}

func (t *translator) createSequence(cs *pg.CreateSeqStmt) (*Plan, error) {
	nsp, err := t.creationNamespace(cs.Sequence.Schemaname)
	if err != nil {
		return nil, err
	}
	name := cs.Sequence.Relname
	if _, exists := t.cat.Lookup(nsp.Name, name, nil); exists {
		if cs.IfNotExists {
			return skipped("CREATE SEQUENCE", pgerr.New(pgerr.DuplicateTable, "relation %q already exists, skipping", name)), nil
		}
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", name)
	}
	sp := &catalog.Sequence{Increment: 1, Min: 1, Max: math.MaxInt64, Start: 1}
	startSet := false
	var ownedBy uint32
	for _, o := range cs.Options {
		de := o.GetDefElem()
		v, ok := defElemInt(de)
		switch de.Defname {
		case "increment":
			sp.Increment = v
		case "minvalue":
			sp.Min = v
		case "maxvalue":
			sp.Max = v
		case "start":
			sp.Start, startSet = v, true
		case "cycle":
			sp.Cycle = ok && v != 0 || de.Arg == nil
		case "as":
			if err := t.sequenceType(sp, de); err != nil {
				return nil, err
			}
		case "owned_by":
			owner, err := t.sequenceOwner(de)
			if err != nil {
				return nil, err
			}
			ownedBy = owner
		case "cache":
		default:
			return nil, pgerr.Unsupported("sequence option " + de.Defname)
		}
	}
	if sp.Increment == 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "INCREMENT must not be zero")
	}
	if sp.Increment < 0 && sp.Min == 1 {
		sp.Min, sp.Max = math.MinInt64, -1
		if !startSet {
			sp.Start = -1
		}
	}
	if !startSet && sp.Increment > 0 {
		sp.Start = sp.Min
	}
	seq := &catalog.Relation{OID: t.allocOID(), Namespace: nsp, Name: name, Kind: catalog.KindSequence, Sequence: sp,
		OwnedBy: ownedBy}
	d := &ddl{}
	t.sequenceInsert(d, seq)
	return t.finishDDL(d, "CREATE SEQUENCE"), nil
}

func defElemInt(de *pg.DefElem) (int64, bool) {
	if de.Arg == nil {
		return 0, false
	}
	switch x := de.Arg.Node.(type) {
	case *pg.Node_Integer:
		return int64(x.Integer.Ival), true
	case *pg.Node_Float:
		v, err := strconv.ParseInt(x.Float.Fval, 10, 64)
		return v, err == nil
	case *pg.Node_Boolean:
		if x.Boolean.Boolval {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func (t *translator) drop(ds *pg.DropStmt) (*Plan, error) {
	tag := "DROP " + objectTypeName(ds.RemoveType)
	d := &ddl{}
	var notices []*pgerr.Error
	if ds.RemoveType == pg.ObjectType_OBJECT_TABLE {
		return t.dropTableStmt(ds, tag)
	}
	for _, obj := range ds.Objects {
		err := t.dropOne(d, ds, obj)
		if pe, ok := err.(*pgerr.Error); ok && ds.MissingOk && (pe.Code == pgerr.UndefinedTable ||
			pe.Code == pgerr.UndefinedObject || pe.Code == pgerr.InvalidSchemaName) {
			notices = append(notices, pgerr.New(pe.Code, "%s, skipping", pe.Message))
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if len(d.steps) == 0 {
		p := &Plan{Kind: KindWrite, Tag: tag}
		for _, n := range notices {
			n.Severity = pgerr.SeverityNotice
			p.Notices = append(p.Notices, n)
		}
		return p, nil
	}
	plan := t.finishDDL(d, tag)
	plan.Notices = notices
	return plan, nil
}

func objectTypeName(ot pg.ObjectType) string {
	switch ot {
	case pg.ObjectType_OBJECT_TABLE:
		return "TABLE"
	case pg.ObjectType_OBJECT_INDEX:
		return "INDEX"
	case pg.ObjectType_OBJECT_SEQUENCE:
		return "SEQUENCE"
	case pg.ObjectType_OBJECT_SCHEMA:
		return "SCHEMA"
	case pg.ObjectType_OBJECT_VIEW:
		return "VIEW"
	}
	return strings.TrimPrefix(ot.String(), "OBJECT_")
}

func (t *translator) dropOne(d *ddl, ds *pg.DropStmt, obj *pg.Node) error {
	switch ds.RemoveType {
	case pg.ObjectType_OBJECT_SCHEMA:
		return t.dropSchema(d, strVal(obj), ds.Behavior == pg.DropBehavior_DROP_CASCADE)
	case pg.ObjectType_OBJECT_EXTENSION:
		if !knownExtensions[strVal(obj)] {
			return pgerr.New(pgerr.UndefinedObject, "extension %q does not exist", strVal(obj))
		}
		return nil
	case pg.ObjectType_OBJECT_TYPE, pg.ObjectType_OBJECT_DOMAIN:
		return t.dropType(d, ds, obj) // enums.go
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_INDEX, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_VIEW:
	default:
		return pgerr.Unsupported("DROP " + objectTypeName(ds.RemoveType))
	}
	list := obj.GetList()
	if list == nil {
		return pgerr.Unsupported("DROP of this object")
	}
	parts := names(list.Items)
	rv := &pg.RangeVar{Relname: parts[len(parts)-1]}
	if len(parts) > 1 {
		rv.Schemaname = parts[len(parts)-2]
	}
	rel, ok := t.lookupRel(rv.Schemaname, rv.Relname, t.opts.SearchPath)
	if !ok {
		what := map[pg.ObjectType]string{pg.ObjectType_OBJECT_INDEX: "index", pg.ObjectType_OBJECT_SEQUENCE: "sequence",
			pg.ObjectType_OBJECT_VIEW: "view"}[ds.RemoveType]
		if what == "" {
			what = "table"
		}
		code := pgerr.UndefinedTable
		if what == "index" {
			code = pgerr.UndefinedObject // as PostgreSQL
		}
		return pgerr.New(code, "%s %q does not exist", what, rv.Relname)
	}
	switch ds.RemoveType {
	case pg.ObjectType_OBJECT_INDEX:
		return t.dropIndex(d, rel)
	case pg.ObjectType_OBJECT_SEQUENCE:
		if rel.Kind != catalog.KindSequence {
			return pgerr.New(pgerr.WrongObjectType, "%q is not a sequence", rel.Name)
		}
		d.add("DELETE FROM _chr2_sequences WHERE oid = %d", rel.OID)
		d.add("DELETE FROM _chr2_relations WHERE oid = %d", rel.OID)
		return nil
	case pg.ObjectType_OBJECT_VIEW:
		if rel.Kind != catalog.KindView || rel.ViewSQL != "" {
			return pgerr.New(pgerr.WrongObjectType, "%q is not a view", rel.Name).WithHint("Use DROP %s to remove it.", kindWord(rel.Kind))
		}
		t.dropView(d, rel)
		return nil
	}
	return pgerr.Unsupported("DROP " + objectTypeName(ds.RemoveType))
}

func kindWord(k byte) string {
	switch k {
	case catalog.KindIndex:
		return "INDEX"
	case catalog.KindSequence:
		return "SEQUENCE"
	case catalog.KindView:
		return "VIEW"
	}
	return "TABLE"
}

// dropTableStmt drops a list of tables together: foreign keys between them
// do not stand in the way, and CASCADE removes the foreign keys of other
// tables that reference them (rebuilding those tables, see alter.go).
func (t *translator) dropTableStmt(ds *pg.DropStmt, tag string) (*Plan, error) {
	var rels []*catalog.Relation
	var notices []*pgerr.Error
	for _, obj := range ds.Objects {
		rel, err := t.relationByNames(names(obj.GetList().GetItems()))
		if err != nil {
			if pe, ok := err.(*pgerr.Error); ok && ds.MissingOk && pe.Code == pgerr.UndefinedTable {
				notices = append(notices, notice(pe.Code, "table %q does not exist, skipping", strVal(obj.GetList().GetItems()[len(obj.GetList().GetItems())-1])))
				continue
			}
			return nil, err
		}
		if rel.Kind != catalog.KindTable || catalog.IsSystemSchema(rel.Namespace.Name) {
			return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a table", rel.Name).WithHint("Use DROP %s to remove it.", kindWord(rel.Kind))
		}
		rels = append(rels, rel)
	}
	if len(rels) == 0 {
		return &Plan{Kind: KindWrite, Tag: tag, Notices: notices}, nil
	}
	d := &ddl{}
	more, err := t.dropTables(d, rels, ds.Behavior == pg.DropBehavior_DROP_CASCADE)
	if err != nil {
		return nil, err
	}
	plan := t.finishDDL(d, tag)
	plan.Notices = append(notices, more...)
	return plan, nil
}

func (t *translator) dropTables(d *ddl, rels []*catalog.Relation, cascade bool) ([]*pgerr.Error, error) {
	set := map[uint32]*catalog.Relation{}
	for _, rel := range rels {
		set[rel.OID] = rel
	}
	var notices []*pgerr.Error
	children := map[uint32][]*catalog.Constraint{}
	var childOrder []*catalog.Relation
	for _, rel := range rels {
		for _, fk := range t.referencedBy(rel) {
			child := t.constraintTable(fk)
			if child == nil || set[child.OID] != nil {
				continue
			}
			if !cascade {
				return nil, pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop table %s because other objects depend on it", rel.Name).
					WithDetail("constraint %s on table %s depends on table %s", fk.Name, child.Name, rel.Name).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
			if children[child.OID] == nil {
				childOrder = append(childOrder, child)
			}
			children[child.OID] = append(children[child.OID], fk)
			notices = append(notices, notice(pgerr.SuccessfulCompletion, "drop cascades to constraint %s on table %s", fk.Name, child.Name))
		}
	}
	for _, child := range childOrder {
		if err := t.dropForeignKeys(d, child, children[child.OID]); err != nil {
			return nil, err
		}
	}
	for _, rel := range truncateOrder(t, rels, set) {
		t.dropTableRows(d, rel)
	}
	return notices, nil
}

// dropForeignKeys removes foreign keys from a table by rebuilding it.
func (t *translator) dropForeignKeys(d *ddl, rel *catalog.Relation, fks []*catalog.Constraint) error {
	td, err := t.loadTableDef(rel)
	if err != nil {
		return err
	}
	td.dropped = map[string]bool{}
	st := &alterState{td: td, orig: rel, src: map[int16]string{}, rebuild: true}
	for _, c := range rel.Columns {
		st.src[c.Num] = `"o".` + quote(c.Name)
	}
	var keep []*catalog.Constraint
	for _, con := range td.cons {
		drop := false
		for _, fk := range fks {
			drop = drop || fk.OID == con.OID
		}
		if !drop {
			keep = append(keep, con)
		}
	}
	td.cons = keep
	if err := t.emitRebuild(d, st); err != nil {
		return err
	}
	t.catalogReplace(d, st, "")
	return nil
}

// dropTableRows drops one table and its catalog rows.
func (t *translator) dropTableRows(d *ddl, rel *catalog.Relation) {
	d.add("DROP TABLE %s", quote(rel.SQLiteName))
	d.add("DELETE FROM _chr2_attributes WHERE rel = %d", rel.OID)
	d.add("DELETE FROM _chr2_constraints WHERE rel = %d", rel.OID)
	d.add("DELETE FROM _chr2_indexes WHERE rel = %d", rel.OID)
	d.add("DELETE FROM _chr2_descriptions WHERE objoid = %d OR objoid IN (SELECT oid FROM _chr2_relations WHERE owned_by = %d)",
		rel.OID, rel.OID)
	d.add("DELETE FROM _chr2_sequences WHERE oid IN (SELECT oid FROM _chr2_relations WHERE owned_by = %d AND kind = 'S')", rel.OID)
	d.add("DELETE FROM _chr2_relations WHERE oid = %d OR owned_by = %d", rel.OID, rel.OID)
}

func (t *translator) dropIndex(d *ddl, rel *catalog.Relation) error {
	if rel.Kind != catalog.KindIndex {
		return pgerr.New(pgerr.WrongObjectType, "%q is not an index", rel.Name)
	}
	owner, ok := t.cat.Relation(rel.OwnedBy)
	if ok {
		for _, con := range owner.Constraint {
			if con.IndexOID == rel.OID {
				return pgerr.New(pgerr.DependentObjectsStillExist,
					"cannot drop index %s because constraint %s on table %s requires it", rel.Name, con.Name, owner.Name).
					WithHint("You can drop constraint %s on table %s instead.", con.Name, owner.Name)
			}
		}
	}
	d.add("DROP INDEX %s", quote(rel.SQLiteName))
	d.add("DELETE FROM _chr2_indexes WHERE oid = %d", rel.OID)
	d.add("DELETE FROM _chr2_relations WHERE oid = %d", rel.OID)
	return nil
}

func (t *translator) dropSchema(d *ddl, name string, cascade bool) error {
	nsp, ok := t.cat.Namespace(name)
	if !ok {
		return pgerr.New(pgerr.InvalidSchemaName, "schema %q does not exist", name)
	}
	if nsp.OID == catalog.PublicOID || catalog.IsSystemSchema(name) || name == "chr2" {
		return pgerr.New(pgerr.InsufficientPrivilege, "cannot drop schema %s", name)
	}
	var tables []*catalog.Relation
	for _, rel := range t.cat.Relations() {
		if rel.Namespace.OID != nsp.OID {
			continue
		}
		if !cascade {
			return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop schema %s because other objects depend on it", name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
		switch rel.Kind {
		case catalog.KindTable:
			tables = append(tables, rel)
		case catalog.KindView:
			t.dropView(d, rel)
		case catalog.KindSequence:
			if rel.OwnedBy == 0 {
				d.add("DELETE FROM _chr2_sequences WHERE oid = %d", rel.OID)
				d.add("DELETE FROM _chr2_relations WHERE oid = %d", rel.OID)
			}
		}
	}
	if len(tables) > 0 {
		if _, err := t.dropTables(d, tables, true); err != nil {
			return err
		}
	}
	d.add("DELETE FROM _chr2_namespaces WHERE oid = %d", nsp.OID)
	return nil
}
