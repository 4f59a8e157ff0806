package translate

import (
	"math"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// relationsOf resolves a list of RangeVar nodes.
func (t *translator) relationsOf(nodes []*pg.Node) ([]*catalog.Relation, error) {
	out := make([]*catalog.Relation, 0, len(nodes))
	for _, n := range nodes {
		rv := n.GetRangeVar()
		if rv == nil {
			continue
		}
		rel, err := t.lookupRelation(rv)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

// vacuum accepts VACUUM and ANALYZE: SQLite needs neither for correctness.
func (t *translator) vacuum(vs *pg.VacuumStmt) (*Plan, error) {
	for _, n := range vs.Rels {
		if vr := n.GetVacuumRelation(); vr != nil && vr.Relation != nil {
			if _, err := t.lookupRelation(vr.Relation); err != nil {
				return nil, err
			}
		}
	}
	tag := "ANALYZE"
	if vs.IsVacuumcmd {
		tag = "VACUUM"
	}
	return &Plan{Kind: KindNoop, Tag: tag}, nil
}

// BlockOnly names a statement PostgreSQL refuses outside a transaction
// block before looking at what it names ("LOCK TABLE"), or returns "": an
// error translating it is reported as 25P01 outside a block.
func BlockOnly(node *pg.Node) string {
	if _, ok := node.GetNode().(*pg.Node_LockStmt); ok {
		return "LOCK TABLE"
	}
	return ""
}

func (t *translator) lockTable(ls *pg.LockStmt) (*Plan, error) {
	if _, err := t.relationsOf(ls.Relations); err != nil {
		return nil, err
	}
	// Every write transaction holds the cluster's single writer: a table
	// lock adds nothing to that.
	return &Plan{Kind: KindNoop, Tag: "LOCK TABLE", NeedsBlock: true}, nil
}

// knownExtensions are the extensions whose functions chr2sql provides.
var knownExtensions = map[string]bool{"uuid-ossp": true, "pgcrypto": true, "plpgsql": true}

func (t *translator) createExtension(cs *pg.CreateExtensionStmt) (*Plan, error) {
	if !knownExtensions[cs.Extname] {
		return nil, pgerr.Unsupported("extension " + cs.Extname)
	}
	return &Plan{Kind: KindNoop, Tag: "CREATE EXTENSION"}, nil
}

func (t *translator) truncate(ts *pg.TruncateStmt) (*Plan, error) {
	rels, err := t.relationsOf(ts.Relations)
	if err != nil {
		return nil, err
	}
	set := map[uint32]*catalog.Relation{}
	for _, rel := range rels {
		if rel.Kind != catalog.KindTable || catalog.IsSystemSchema(rel.Namespace.Name) {
			return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a table", rel.Name)
		}
		set[rel.OID] = rel
	}
	var notices []*pgerr.Error
	for changed := true; changed; {
		changed = false
		for _, rel := range rels {
			for _, fk := range t.referencedBy(rel) {
				child := t.constraintTable(fk)
				if child == nil || set[child.OID] != nil {
					continue
				}
				if ts.Behavior != pg.DropBehavior_DROP_CASCADE {
					return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot truncate a table referenced in a foreign key constraint").
						WithDetail("Table %q references %q.", child.Name, rel.Name).
						WithHint("Truncate table %q at the same time, or use TRUNCATE ... CASCADE.", child.Name)
				}
				set[child.OID] = child
				rels = append(rels, child)
				notices = append(notices, notice(pgerr.SuccessfulCompletion, "truncate cascades to table %q", child.Name))
				changed = true
			}
		}
	}
	d := &ddl{}
	for _, rel := range truncateOrder(t, rels, set) {
		d.add("DELETE FROM %s", quote(rel.SQLiteName))
	}
	if ts.RestartSeqs {
		for _, rel := range rels {
			d.add("UPDATE _chr2_sequences SET last_value = start_value, is_called = 0 WHERE oid IN "+
				"(SELECT default_seq FROM _chr2_attributes WHERE rel = %d AND default_seq <> 0)", rel.OID)
		}
	}
	return &Plan{Kind: KindWrite, Tag: "TRUNCATE TABLE", Steps: d.steps, Notices: notices}, nil
}

// constraintTable returns the table a constraint belongs to.
func (t *translator) constraintTable(con *catalog.Constraint) *catalog.Relation {
	for _, rel := range t.cat.Relations() {
		for _, c := range rel.Constraint {
			if c == con {
				return rel
			}
		}
	}
	return nil
}

// truncateOrder empties referencing tables before the tables they
// reference, so no step leaves a dangling foreign key.
func truncateOrder(t *translator, rels []*catalog.Relation, set map[uint32]*catalog.Relation) []*catalog.Relation {
	depth := map[uint32]int{}
	var visit func(rel *catalog.Relation, seen map[uint32]bool) int
	visit = func(rel *catalog.Relation, seen map[uint32]bool) int {
		if d, ok := depth[rel.OID]; ok {
			return d
		}
		if seen[rel.OID] {
			return 0
		}
		seen[rel.OID] = true
		d := 0
		for _, fk := range t.referencedBy(rel) {
			if child := t.constraintTable(fk); child != nil && set[child.OID] != nil {
				if cd := visit(child, seen) + 1; cd > d {
					d = cd
				}
			}
		}
		depth[rel.OID] = d
		return d
	}
	out := append([]*catalog.Relation(nil), rels...)
	for _, rel := range out {
		visit(rel, map[uint32]bool{})
	}
	sort.SliceStable(out, func(i, j int) bool { return depth[out[i].OID] < depth[out[j].OID] })
	return out
}

func (t *translator) comment(cs *pg.CommentStmt) (*Plan, error) {
	var objoid, classoid uint32
	var subid int16
	switch cs.Objtype {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_INDEX, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_VIEW:
		rel, err := t.relationByNames(names(cs.Object.GetList().GetItems()))
		if err != nil {
			return nil, err
		}
		objoid, classoid = rel.OID, 1259
	case pg.ObjectType_OBJECT_COLUMN:
		parts := names(cs.Object.GetList().GetItems())
		rel, err := t.relationByNames(parts[:len(parts)-1])
		if err != nil {
			return nil, err
		}
		col, ok := rel.Column(parts[len(parts)-1])
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", parts[len(parts)-1], rel.Name)
		}
		objoid, classoid, subid = rel.OID, 1259, col.Num
	case pg.ObjectType_OBJECT_SCHEMA:
		nsp, ok := t.cat.Namespace(strVal(cs.Object))
		if !ok {
			return nil, pgerr.New(pgerr.InvalidSchemaName, "schema %q does not exist", strVal(cs.Object))
		}
		objoid, classoid = nsp.OID, 2615
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		parts := names(cs.Object.GetList().GetItems())
		rel, err := t.relationByNames(parts[:len(parts)-1])
		if err != nil {
			return nil, err
		}
		for _, con := range rel.Constraint {
			if con.Name == parts[len(parts)-1] {
				objoid, classoid = con.OID, 2606
			}
		}
		if objoid == 0 {
			return nil, pgerr.New(pgerr.UndefinedObject, "constraint %q for table %q does not exist", parts[len(parts)-1], rel.Name)
		}
	default:
		return nil, pgerr.Unsupported("COMMENT ON " + objectTypeName(cs.Objtype))
	}
	d := &ddl{}
	d.add("DELETE FROM _chr2_descriptions WHERE objoid = %d AND classoid = %d AND objsubid = %d", objoid, classoid, subid)
	if cs.Comment != "" {
		d.add("INSERT INTO _chr2_descriptions (objoid, classoid, objsubid, description) VALUES (%d, %d, %d, %s)",
			objoid, classoid, subid, sqltype.QuoteString(cs.Comment))
	}
	return &Plan{Kind: KindWrite, Tag: "COMMENT", Steps: d.steps}, nil
}

// relationByNames resolves [schema,] name.
func (t *translator) relationByNames(parts []string) (*catalog.Relation, error) {
	rv := &pg.RangeVar{Relname: parts[len(parts)-1]}
	if len(parts) > 1 {
		rv.Schemaname = parts[len(parts)-2]
	}
	return t.lookupRelation(rv)
}

func (t *translator) createView(vs *pg.ViewStmt) (*Plan, error) {
	if vs.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION {
		return nil, pgerr.Unsupported("WITH CHECK OPTION")
	}
	if vs.View.Relpersistence == "t" {
		return nil, pgerr.Unsupported("temporary views")
	}
	sel := vs.Query.GetSelectStmt()
	if sel == nil {
		return nil, pgerr.Unsupported("this view query")
	}
	if sel.WithClause != nil && hasModifying(sel.WithClause) {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "views must not contain data-modifying statements in WITH")
	}
	nsp, err := t.creationNamespace(vs.View.Schemaname)
	if err != nil {
		return nil, err
	}
	d := &ddl{}
	existing, exists := t.cat.Lookup(nsp.Name, vs.View.Relname, nil)
	if exists {
		if !vs.Replace || existing.Kind != catalog.KindView {
			return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", vs.View.Relname)
		}
		t.dropView(d, existing)
	}
	q, err := t.selectQuery(&scope{}, sel)
	if err != nil {
		return nil, err
	}
	aliases := names(vs.Aliases)
	if len(aliases) > len(q.cols) {
		return nil, pgerr.New(pgerr.SyntaxError, "CREATE VIEW specifies more column names than columns")
	}
	rel := &catalog.Relation{OID: t.allocOID(), Namespace: nsp, Name: vs.View.Relname, Kind: catalog.KindView,
		SQLiteName: catalog.SQLiteName(nsp.Name, vs.View.Relname), Definition: deparseQuery(vs.Query)}
	if exists {
		rel.OID = existing.OID
	}
	cols := make([]string, len(q.cols))
	for i, c := range q.cols {
		name := c.Name
		if i < len(aliases) {
			name = aliases[i]
		}
		cols[i] = quote(name)
		rel.Columns = append(rel.Columns, &catalog.Column{Num: int16(i + 1), Name: name, Type: c.Type, TypMod: c.TypMod})
	}
	d.add("CREATE VIEW %s (%s) AS %s", quote(rel.SQLiteName), strings.Join(cols, ", "), q.sql)
	t.relationInsert(d, rel)
	for _, c := range rel.Columns {
		t.attributeInsert(d, rel.OID, c)
	}
	return t.finishDDL(d, "CREATE VIEW"), nil
}

func (t *translator) dropView(d *ddl, rel *catalog.Relation) {
	d.add("DROP VIEW %s", quote(rel.SQLiteName))
	d.add("DELETE FROM _chr2_attributes WHERE rel = %d", rel.OID)
	d.add("DELETE FROM _chr2_descriptions WHERE objoid = %d", rel.OID)
	d.add("DELETE FROM _chr2_relations WHERE oid = %d", rel.OID)
}

// deparseQuery prints a query as pg_get_viewdef would (without its
// pretty-printing).
func deparseQuery(n *pg.Node) string {
	s, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: n}}})
	if err != nil {
		return ""
	}
	return s
}

// createTableAs handles CREATE TABLE … AS and SELECT … INTO.
func (t *translator) createTableAs(into *pg.IntoClause, query *pg.Node, ifNotExists bool) (*Plan, error) {
	sel := query.GetSelectStmt()
	if sel == nil {
		return nil, pgerr.Unsupported("CREATE TABLE AS with this query")
	}
	d := &ddl{}
	nsp, onCommit, err := t.targetNamespace(d, into.Rel, into.OnCommit)
	if err != nil {
		return nil, err
	}
	if _, exists := t.cat.Lookup(nsp.Name, into.Rel.Relname, nil); exists {
		if ifNotExists {
			return skipped("CREATE TABLE AS", pgerr.New(pgerr.DuplicateTable, "relation %q already exists, skipping",
				into.Rel.Relname)), nil
		}
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", into.Rel.Relname)
	}
	q, err := t.selectQuery(&scope{}, sel)
	if err != nil {
		return nil, err
	}
	td := &tableDef{checks: map[uint32]string{}, uniqueCols: map[string]bool{}}
	td.rel = &catalog.Relation{OID: t.allocOID(), Namespace: nsp, Name: into.Rel.Relname, Kind: catalog.KindTable,
		SQLiteName: catalog.SQLiteName(nsp.Name, into.Rel.Relname)}
	aliases := names(into.ColNames)
	src := make([]string, len(q.cols))
	for i, c := range q.cols {
		name := c.Name
		if i < len(aliases) {
			name = aliases[i]
		}
		if td.columnNamed(name) != nil {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", name)
		}
		col := &catalog.Column{Num: int16(i + 1), Name: name, Type: c.Type, TypMod: c.TypMod}
		td.cols = append(td.cols, &colDef{col: col, checks: typeChecks(col)})
		src[i] = `"s".` + quote(c.sqlName)
	}
	d.add("%s", t.sqliteCreateTable(td))
	plan := markTemp(t.finishDDL(d, "SELECT"), nsp, into.Rel.Relname, onCommit)
	if !into.SkipData {
		names := make([]string, len(td.cols))
		for i, cd := range td.cols {
			names[i] = quote(cd.col.Name)
		}
		plan.Steps = append(plan.Steps, Step{SQL: "INSERT INTO " + quote(td.rel.SQLiteName) + " (" + strings.Join(names, ", ") +
			") SELECT " + strings.Join(src, ", ") + " FROM (" + q.sql + `) AS "s"`, Args: t.argsFor(""), Count: true})
	}
	cat := &ddl{}
	t.catalogInserts(cat, td)
	plan.Steps = append(plan.Steps, cat.steps...)
	return plan, nil
}

func (t *translator) alterSequence(as *pg.AlterSeqStmt) (*Plan, error) {
	rel, err := t.lookupRelation(as.Sequence)
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && as.MissingOk && pe.Code == pgerr.UndefinedTable {
			return skipped("ALTER SEQUENCE", pgerr.New(pgerr.UndefinedTable, "relation %q does not exist, skipping",
				as.Sequence.Relname)), nil
		}
		return nil, err
	}
	if rel.Kind != catalog.KindSequence {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a sequence", rel.Name)
	}
	sp := *rel.Sequence
	d := &ddl{}
	restart := ""
	for _, o := range as.Options {
		de := o.GetDefElem()
		v, ok := defElemInt(de)
		switch de.Defname {
		case "increment":
			sp.Increment = v
		case "minvalue":
			sp.Min = v
			if !ok {
				sp.Min = 1
			}
		case "maxvalue":
			sp.Max = v
			if !ok {
				sp.Max = math.MaxInt64
			}
		case "start":
			sp.Start = v
		case "restart":
			restart = "start_value"
			if ok {
				restart = itoa64(v)
			}
		case "cycle":
			sp.Cycle = ok && v != 0 || de.Arg == nil
		case "as":
			if err := t.sequenceType(&sp, de); err != nil {
				return nil, err
			}
		case "owned_by":
			owner, err := t.sequenceOwner(de)
			if err != nil {
				return nil, err
			}
			d.add("UPDATE _chr2_relations SET owned_by = %d WHERE oid = %d", owner, rel.OID)
		case "cache":
		default:
			return nil, pgerr.Unsupported("sequence option " + de.Defname)
		}
	}
	if sp.Increment == 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "INCREMENT must not be zero")
	}
	d.add("UPDATE _chr2_sequences SET increment = %d, min_value = %d, max_value = %d, start_value = %d, cycle = %d "+
		"WHERE oid = %d", sp.Increment, sp.Min, sp.Max, sp.Start, b2i(sp.Cycle), rel.OID)
	if restart != "" {
		d.add("UPDATE _chr2_sequences SET last_value = %s, is_called = 0 WHERE oid = %d", restart, rel.OID)
	}
	return t.finishDDL(d, "ALTER SEQUENCE"), nil
}

// sequenceType applies AS smallint|integer|bigint to the bounds.
func (t *translator) sequenceType(sp *catalog.Sequence, de *pg.DefElem) error {
	tn := de.Arg.GetTypeName()
	if tn == nil {
		return pgerr.New(pgerr.SyntaxError, "invalid AS clause")
	}
	typ, _, err := t.resolveTypeName(tn)
	if err != nil {
		return err
	}
	var max int64
	switch typ {
	case pgval.Int2OID:
		max = math.MaxInt16
	case pgval.Int4OID:
		max = math.MaxInt32
	case pgval.Int8OID:
		max = math.MaxInt64
	default:
		return pgerr.New(pgerr.InvalidParameterValue, "sequence type must be smallint, integer, or bigint")
	}
	if sp.Max > max || sp.Max == math.MaxInt64 {
		sp.Max = max
	}
	return nil
}

// sequenceOwner resolves OWNED BY table.column | NONE to the table's OID.
func (t *translator) sequenceOwner(de *pg.DefElem) (uint32, error) {
	parts := names(de.Arg.GetList().GetItems())
	if len(parts) == 1 && parts[0] == "none" {
		return 0, nil
	}
	if len(parts) < 2 {
		return 0, pgerr.New(pgerr.SyntaxError, "invalid OWNED BY option")
	}
	rel, err := t.relationByNames(parts[:len(parts)-1])
	if err != nil {
		return 0, err
	}
	if _, ok := rel.Column(parts[len(parts)-1]); !ok {
		return 0, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", parts[len(parts)-1], rel.Name)
	}
	return rel.OID, nil
}
