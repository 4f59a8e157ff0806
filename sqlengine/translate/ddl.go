package translate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// ddl accumulates the SQLite statements of one DDL statement.
type ddl struct {
	steps []Step
}

func (d *ddl) add(format string, args ...any) {
	d.steps = append(d.steps, Step{SQL: fmt.Sprintf(format, args...)})
}

// finish appends the OID counter and schema version updates.
func (t *translator) finishDDL(d *ddl, tag string) *Plan {
	d.add("UPDATE _chr2_meta SET value = %d WHERE key = '%s'", t.nextOID, catalog.MetaNextOID)
	d.add("UPDATE _chr2_meta SET value = value + 1 WHERE key = '%s'", catalog.MetaSchemaVersion)
	return &Plan{Kind: KindWrite, Tag: tag, Steps: d.steps, SchemaChange: true}
}

// skipped is the plan of an IF [NOT] EXISTS statement that does nothing.
func skipped(tag string, notice *pgerr.Error) *Plan {
	notice.Severity = pgerr.SeverityNotice
	return &Plan{Kind: KindWrite, Tag: tag, Notices: []*pgerr.Error{notice}}
}

// creationNamespace resolves the schema a new object goes into.
func (t *translator) creationNamespace(schema string) (*catalog.Namespace, error) {
	if schema == "" {
		if len(t.opts.SearchPath) == 0 {
			return nil, pgerr.New(pgerr.InvalidSchemaName, "no schema has been selected to create in")
		}
		schema = t.opts.SearchPath[0]
	}
	if catalog.IsSystemSchema(schema) {
		return nil, pgerr.New(pgerr.InsufficientPrivilege, "permission denied to create in schema %q", schema)
	}
	nsp, ok := t.cat.Namespace(schema)
	if !ok {
		return nil, pgerr.New(pgerr.InvalidSchemaName, "schema %q does not exist", schema)
	}
	return nsp, nil
}

func (t *translator) createSchema(cs *pg.CreateSchemaStmt) (*Plan, error) {
	if len(cs.SchemaElts) > 0 {
		return nil, pgerr.Unsupported("CREATE SCHEMA with schema elements")
	}
	if _, ok := t.cat.Namespace(cs.Schemaname); ok {
		if cs.IfNotExists {
			return skipped("CREATE SCHEMA", pgerr.New(pgerr.DuplicateSchema,
				"schema %q already exists, skipping", cs.Schemaname)), nil
		}
		return nil, pgerr.New(pgerr.DuplicateSchema, "schema %q already exists", cs.Schemaname)
	}
	if strings.HasPrefix(cs.Schemaname, "pg_") {
		return nil, pgerr.New(pgerr.ReservedName, "unacceptable schema name %q", cs.Schemaname).
			WithDetail("The prefix \"pg_\" is reserved for system schemas.")
	}
	d := &ddl{}
	d.add("INSERT INTO _chr2_namespaces (oid, name) VALUES (%d, %s)", t.allocOID(), sqltype.QuoteString(cs.Schemaname))
	return t.finishDDL(d, "CREATE SCHEMA"), nil
}

// tableDef collects what CREATE TABLE declares.
type tableDef struct {
	rel        *catalog.Relation
	cols       []*colDef
	cons       []*catalog.Constraint
	checks     map[uint32]string // constraint OID → SQLite CHECK expression
	indexes    []*catalog.Index
	sequences  []*catalog.Relation
	uniqueCols map[string]bool
	// dropped names relations (indexes) this statement drops, so their
	// names may be reused in it.
	dropped map[string]bool
}

// freeName returns base, or base with the smallest numeric suffix unused by
// relations of the schema and by constraints and indexes of td.
func (t *translator) freeName(td *tableDef, base string) string {
	if len(base) > 63 {
		base = base[:63]
	}
	taken := func(name string) bool {
		if _, exists := t.cat.Lookup(td.rel.Namespace.Name, name, nil); exists && !td.dropped[name] {
			return true
		}
		for _, c := range td.cons {
			if c.Name == name {
				return true
			}
		}
		for _, idx := range td.indexes {
			if idx.Name == name {
				return true
			}
		}
		return false
	}
	name := base
	for i := 1; taken(name); i++ {
		name = base + strconv.Itoa(i)
	}
	return name
}

type colDef struct {
	col    *catalog.Column
	checks []string // SQLite column CHECKs enforcing PostgreSQL type rules
}

func (t *translator) createTable(cs *pg.CreateStmt) (*Plan, error) {
	if len(cs.InhRelations) > 0 || cs.Partspec != nil || cs.OfTypename != nil {
		return nil, pgerr.Unsupported("table inheritance, partitioning and typed tables")
	}
	rv := cs.Relation
	d := &ddl{}
	nsp, onCommit, err := t.targetNamespace(d, rv, cs.Oncommit)
	if err != nil {
		return nil, err
	}
	if _, exists := t.cat.Lookup(nsp.Name, rv.Relname, nil); exists {
		if cs.IfNotExists {
			return skipped("CREATE TABLE", pgerr.New(pgerr.DuplicateTable,
				"relation %q already exists, skipping", rv.Relname)), nil
		}
		return nil, pgerr.New(pgerr.DuplicateTable, "relation %q already exists", rv.Relname)
	}
	td := &tableDef{checks: map[uint32]string{}, uniqueCols: map[string]bool{}}
	td.rel = &catalog.Relation{OID: t.allocOID(), Namespace: nsp, Name: rv.Relname, Kind: catalog.KindTable,
		SQLiteName: catalog.SQLiteName(nsp.Name, rv.Relname)}
	var tableCons []*pg.Constraint
	for _, el := range cs.TableElts {
		switch x := el.Node.(type) {
		case *pg.Node_ColumnDef:
			if err := t.columnDef(td, x.ColumnDef); err != nil {
				return nil, err
			}
		case *pg.Node_Constraint:
			tableCons = append(tableCons, x.Constraint)
		case *pg.Node_TableLikeClause:
			if err := t.likeClause(td, x.TableLikeClause); err != nil {
				return nil, err
			}
		default:
			return nil, pgerr.Unsupported("this CREATE TABLE element")
		}
	}
	if len(td.cols) == 0 {
		return nil, pgerr.Unsupported("tables without columns")
	}
	for _, c := range tableCons {
		if err := t.tableConstraint(td, c, nil); err != nil {
			return nil, err
		}
	}
	d.add("%s", t.sqliteCreateTable(td))
	t.catalogInserts(d, td)
	return markTemp(t.finishDDL(d, "CREATE TABLE"), nsp, rv.Relname, onCommit), nil
}

// likeClause copies another table's columns (LIKE src [INCLUDING
// DEFAULTS]); NOT NULL comes along as in PostgreSQL.
func (t *translator) likeClause(td *tableDef, lc *pg.TableLikeClause) error {
	const likeDefaults, likeComments = 1 << 3, 1 << 0
	const likeIgnored = 1<<1 | 1<<7 | 1<<8 // compression, statistics, storage
	if lc.Options&^(likeDefaults|likeComments|likeIgnored) != 0 && lc.Options != 0x7FFFFFFF {
		return pgerr.Unsupported("LIKE … INCLUDING CONSTRAINTS, INDEXES, IDENTITY or GENERATED")
	}
	src, err := t.lookupRelation(lc.Relation)
	if err != nil {
		return err
	}
	for _, c := range src.Columns {
		if td.columnNamed(c.Name) != nil {
			return pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		col := &catalog.Column{Num: int16(len(td.cols) + 1), Name: c.Name, Type: c.Type, TypMod: c.TypMod, NotNull: c.NotNull}
		if lc.Options&likeDefaults != 0 && c.Identity == 0 {
			col.DefaultPG, col.DefaultSQL, col.DefaultSeq = c.DefaultPG, c.DefaultSQL, c.DefaultSeq
		}
		td.cols = append(td.cols, &colDef{col: col, checks: typeChecks(col)})
	}
	return nil
}

func (t *translator) columnDef(td *tableDef, cd *pg.ColumnDef) error {
	for _, existing := range td.cols {
		if existing.col.Name == cd.Colname {
			return pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", cd.Colname)
		}
	}
	typ, mod, serial, err := t.columnType(cd.TypeName)
	if err != nil {
		return err
	}
	num := int16(1)
	for _, existing := range td.cols {
		if existing.col.Num >= num {
			num = existing.col.Num + 1
		}
	}
	col := &catalog.Column{Num: num, Name: cd.Colname, Type: typ, TypMod: mod, NotNull: cd.IsNotNull}
	def := &colDef{col: col}
	td.cols = append(td.cols, def)
	if serial {
		if err := t.attachSequence(td, col, 0); err != nil {
			return err
		}
		col.NotNull = true
	}
	def.checks = typeChecks(col)
	for _, n := range cd.Constraints {
		c := n.GetConstraint()
		if err := t.columnConstraint(td, col, c); err != nil {
			return err
		}
	}
	if cd.RawDefault != nil {
		if err := t.setDefault(col, cd.RawDefault); err != nil {
			return err
		}
	}
	return nil
}

// typeChecks returns SQLite CHECK expressions that enforce what the
// PostgreSQL type enforces and SQLite's storage class does not. Their
// constraint names (chr2_len$…, chr2_range$…) let errors be reported with
// PostgreSQL's SQLSTATE and message.
func typeChecks(col *catalog.Column) []string {
	q := quote(col.Name)
	switch {
	case (col.Type == pgval.VarcharOID || col.Type == pgval.BPCharOID) && col.TypMod > 4:
		n := col.TypMod - 4
		return []string{fmt.Sprintf("CONSTRAINT %s CHECK (length(%s) <= %d)",
			quote(fmt.Sprintf("chr2_len$%s$%d", col.Name, n)), q, n)}
	case col.Type == pgval.Int2OID:
		return []string{fmt.Sprintf("CONSTRAINT %s CHECK (%s BETWEEN %d AND %d)",
			quote("chr2_range$"+col.Name+"$smallint"), q, math.MinInt16, math.MaxInt16)}
	case col.Type == pgval.Int4OID:
		return []string{fmt.Sprintf("CONSTRAINT %s CHECK (%s BETWEEN %d AND %d)",
			quote("chr2_range$"+col.Name+"$integer"), q, math.MinInt32, math.MaxInt32)}
	}
	return nil
}

// columnType resolves a column's declared type; serial types report serial.
func (t *translator) columnType(tn *pg.TypeName) (pgval.OID, int32, bool, error) {
	nm := names(tn.Names)
	last := nm[len(nm)-1]
	switch last {
	case "serial", "serial4":
		return pgval.Int4OID, -1, true, nil
	case "bigserial", "serial8":
		return pgval.Int8OID, -1, true, nil
	case "smallserial", "serial2":
		return pgval.Int2OID, -1, true, nil
	}
	oid, mod, err := t.resolveTypeName(tn)
	if err == nil && t.domainType(oid) != nil {
		return 0, -1, false, pgerr.Unsupported("columns of a domain type")
	}
	return oid, mod, false, err
}

// attachSequence creates the sequence behind a serial or identity column.
func (t *translator) attachSequence(td *tableDef, col *catalog.Column, identity byte) error {
	seqName := td.rel.Name + "_" + col.Name + "_seq"
	if _, exists := t.cat.Lookup(td.rel.Namespace.Name, seqName, nil); exists {
		return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", seqName)
	}
	maxVal := int64(math.MaxInt64)
	switch col.Type {
	case pgval.Int4OID:
		maxVal = math.MaxInt32
	case pgval.Int2OID:
		maxVal = math.MaxInt16
	}
	seq := &catalog.Relation{OID: t.allocOID(), Namespace: td.rel.Namespace, Name: seqName, Kind: catalog.KindSequence,
		OwnedBy: td.rel.OID, Sequence: &catalog.Sequence{Increment: 1, Min: 1, Max: maxVal, Start: 1}}
	td.sequences = append(td.sequences, seq)
	col.DefaultSeq = seq.OID
	col.DefaultSQL = "chr2_nextval(" + strconv.FormatUint(uint64(seq.OID), 10) + ")"
	col.DefaultPG = "nextval('" + qualifiedForText(td.rel.Namespace.Name, seqName) + "'::regclass)"
	col.Identity = identity
	if identity != 0 {
		col.DefaultPG = ""
	}
	return nil
}

func qualifiedForText(schema, name string) string {
	if schema == "public" {
		return name
	}
	return schema + "." + name
}

func (t *translator) columnConstraint(td *tableDef, col *catalog.Column, c *pg.Constraint) error {
	switch c.Contype {
	case pg.ConstrType_CONSTR_NOTNULL:
		col.NotNull = true
	case pg.ConstrType_CONSTR_NULL:
		col.NotNull = false
	case pg.ConstrType_CONSTR_DEFAULT:
		return t.setDefault(col, c.RawExpr)
	case pg.ConstrType_CONSTR_IDENTITY:
		kind := byte('d')
		if c.GeneratedWhen == "a" {
			kind = 'a'
		}
		col.NotNull = true
		return t.attachSequence(td, col, kind)
	case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE, pg.ConstrType_CONSTR_FOREIGN, pg.ConstrType_CONSTR_CHECK:
		return t.tableConstraint(td, c, col)
	case pg.ConstrType_CONSTR_ATTR_DEFERRABLE, pg.ConstrType_CONSTR_ATTR_NOT_DEFERRABLE,
		pg.ConstrType_CONSTR_ATTR_DEFERRED, pg.ConstrType_CONSTR_ATTR_IMMEDIATE:
		return nil
	default:
		return pgerr.Unsupported("column constraint " + c.Contype.String())
	}
	return nil
}

// setDefault records a column default in both PostgreSQL and SQLite form.
func (t *translator) setDefault(col *catalog.Column, n *pg.Node) error {
	e, err := t.expr(nil, n)
	if err != nil {
		return err
	}
	if e.agg {
		return pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in DEFAULT expressions")
	}
	if e.param > 0 {
		return pgerr.New(pgerr.SyntaxError, "there is no parameter $%d", e.param)
	}
	c, err := t.coerce(e, col.Type)
	if err != nil {
		return err
	}
	if c, err = t.assignTypmod(c, col); err != nil {
		return err
	}
	col.DefaultSQL = c.sql
	col.DefaultPG = t.deparseDefault(n, col)
	col.DefaultSeq = 0
	if rest, ok := strings.CutPrefix(c.sql, "chr2_nextval("); ok {
		if oid, err := strconv.ParseUint(strings.TrimSuffix(rest, ")"), 10, 32); err == nil {
			col.DefaultSeq = uint32(oid)
		}
	}
	return nil
}

// deparseDefault prints a column default as pg_get_expr shows the stored
// expression: a string literal carries its cast to the column's type.
func (t *translator) deparseDefault(n *pg.Node, col *catalog.Column) string {
	if c, ok := n.Node.(*pg.Node_AConst); ok {
		if _, isStr := c.AConst.Val.(*pg.A_Const_Sval); isStr {
			typeName := catalog.FormatType(col.Type, -1)
			if uint32(col.Type) >= catalog.FirstUserOID {
				if ty, ok := t.cat.Type(uint32(col.Type)); ok {
					typeName = ty.Name // an enum ('ok'::mood)
				}
			}
			return deparseExpr(n) + "::" + typeName
		}
	}
	return deparseExpr(n)
}

// deparseExpr prints an expression as PostgreSQL would (for pg_get_expr).
func deparseExpr(n *pg.Node) string {
	tree := &pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: &pg.Node{Node: &pg.Node_SelectStmt{
		SelectStmt: &pg.SelectStmt{TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}}},
	}}}}}
	s, err := pg.Deparse(tree)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(s, "SELECT ")
}

// tableConstraint records PRIMARY KEY, UNIQUE, FOREIGN KEY and CHECK; col
// is set for a column constraint.
func (t *translator) tableConstraint(td *tableDef, c *pg.Constraint, col *catalog.Column) error {
	keys := names(c.Keys)
	if col != nil && c.Contype != pg.ConstrType_CONSTR_CHECK {
		keys = []string{col.Name}
	}
	nums, err := td.attnums(keys)
	if err != nil {
		return err
	}
	con := &catalog.Constraint{OID: t.allocOID(), Name: c.Conname, Columns: nums}
	switch c.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		return t.keyConstraint(td, con, catalog.ConPrimary, keys)
	case pg.ConstrType_CONSTR_UNIQUE:
		return t.keyConstraint(td, con, catalog.ConUnique, keys)
	case pg.ConstrType_CONSTR_FOREIGN:
		fkCols := names(c.FkAttrs)
		if col != nil {
			fkCols = []string{col.Name}
		}
		return t.foreignKey(td, con, c, fkCols)
	case pg.ConstrType_CONSTR_CHECK:
		return t.checkConstraint(td, con, c, col)
	case pg.ConstrType_CONSTR_EXCLUSION:
		return pgerr.Unsupported("exclusion constraints")
	}
	return pgerr.Unsupported("table constraint " + c.Contype.String())
}

func (td *tableDef) attnums(keys []string) ([]int16, error) {
	out := make([]int16, 0, len(keys))
	for _, k := range keys {
		found := false
		for _, c := range td.cols {
			if c.col.Name == k {
				out = append(out, c.col.Num)
				found = true
			}
		}
		if !found {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q named in key does not exist", k)
		}
	}
	return out, nil
}

func (td *tableDef) column(num int16) *catalog.Column {
	for _, c := range td.cols {
		if c.col.Num == num {
			return c.col
		}
	}
	return nil
}

func (t *translator) keyConstraint(td *tableDef, con *catalog.Constraint, typ byte, keys []string) error {
	con.Type = typ
	if typ == catalog.ConPrimary {
		if td.hasPrimary() {
			return pgerr.New(pgerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", td.rel.Name)
		}
		for _, n := range con.Columns {
			td.column(n).NotNull = true
		}
		if con.Name == "" {
			con.Name = t.freeName(td, td.rel.Name+"_pkey")
		}
	} else if con.Name == "" {
		con.Name = t.freeName(td, td.rel.Name+"_"+strings.Join(keys, "_")+"_key")
	}
	for _, existing := range td.cons {
		if existing.Name == con.Name {
			return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", con.Name)
		}
	}
	if _, exists := t.cat.Lookup(td.rel.Namespace.Name, con.Name, nil); exists && !td.dropped[con.Name] {
		return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", con.Name)
	}
	idx := &catalog.Index{OID: t.allocOID(), Name: con.Name, Unique: true, Primary: typ == catalog.ConPrimary,
		Columns: con.Columns}
	con.IndexOID = idx.OID
	td.indexes = append(td.indexes, idx)
	td.cons = append(td.cons, con)
	return nil
}

func (td *tableDef) hasPrimary() bool {
	for _, c := range td.cons {
		if c.Type == catalog.ConPrimary {
			return true
		}
	}
	return false
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func constraintKeyword(typ byte) string {
	if typ == catalog.ConPrimary {
		return "PRIMARY KEY"
	}
	return "UNIQUE"
}

func (t *translator) foreignKey(td *tableDef, con *catalog.Constraint, c *pg.Constraint, fkCols []string) error {
	con.Type = catalog.ConForeign
	nums, err := td.attnums(fkCols)
	if err != nil {
		return err
	}
	con.Columns = nums
	var ref *catalog.Relation
	if c.Pktable.Relname == td.rel.Name && (c.Pktable.Schemaname == "" || c.Pktable.Schemaname == td.rel.Namespace.Name) {
		ref = td.rel
	} else if ref, err = t.lookupRelation(c.Pktable); err != nil {
		return err
	}
	refCols := names(c.PkAttrs)
	if len(refCols) == 0 {
		pk := primaryKeyColumns(ref, td)
		if len(pk) == 0 {
			return pgerr.New(pgerr.UndefinedObject, "there is no primary key for referenced table %q", ref.Name)
		}
		refCols = pk
	}
	if len(refCols) != len(fkCols) {
		return pgerr.New(pgerr.InvalidForeignKey, "number of referencing and referenced columns for foreign key disagree")
	}
	for _, rc := range refCols {
		if ref == td.rel {
			n, err := td.attnums([]string{rc})
			if err != nil {
				return err
			}
			con.RefColumns = append(con.RefColumns, n[0])
			continue
		}
		col, ok := ref.Column(rc)
		if !ok {
			return pgerr.New(pgerr.UndefinedColumn, "column %q referenced in foreign key constraint does not exist", rc)
		}
		con.RefColumns = append(con.RefColumns, col.Num)
	}
	con.RefTable = ref.OID
	if con.Name == "" {
		con.Name = t.freeName(td, td.rel.Name+"_"+strings.Join(fkCols, "_")+"_fkey")
	}
	con.FKActions = fkCode(c.FkUpdAction) + fkCode(c.FkDelAction)
	con.Deferrable = c.Deferrable
	td.cons = append(td.cons, con)
	return nil
}

func primaryKeyColumns(ref *catalog.Relation, td *tableDef) []string {
	var cons []*catalog.Constraint
	if ref == td.rel {
		cons = td.cons
	} else {
		cons = ref.Constraint
	}
	for _, c := range cons {
		if c.Type != catalog.ConPrimary {
			continue
		}
		out := make([]string, 0, len(c.Columns))
		for _, n := range c.Columns {
			if ref == td.rel {
				out = append(out, td.column(n).Name)
			} else if col, ok := ref.ColumnByNum(n); ok {
				out = append(out, col.Name)
			}
		}
		return out
	}
	return nil
}

// fkCode normalises a foreign key action code ("" means NO ACTION, 'a').
func fkCode(action string) string {
	switch action {
	case "c", "n", "d", "r":
		return action
	}
	return "a"
}

// fkAction renders an action code as SQL ("" for NO ACTION).
func fkAction(prefix, code string) string {
	switch code {
	case "c":
		return prefix + "CASCADE"
	case "n":
		return prefix + "SET NULL"
	case "d":
		return prefix + "SET DEFAULT"
	case "r":
		return prefix + "RESTRICT"
	}
	return ""
}

func (t *translator) checkConstraint(td *tableDef, con *catalog.Constraint, c *pg.Constraint, col *catalog.Column) error {
	con.Type = catalog.ConCheck
	item := &rangeItem{name: td.rel.Name}
	for _, cd := range td.cols {
		item.cols = append(item.cols, scopeCol{name: cd.col.Name, sqlName: cd.col.Name, typ: cd.col.Type, mod: cd.col.TypMod})
	}
	s := &scope{items: []*rangeItem{item}}
	sql, err := t.boolExpr(s, c.RawExpr, "CHECK")
	if err != nil {
		return err
	}
	if con.Name == "" {
		base := td.rel.Name + "_check"
		if refs := uniqueStrings(columnRefNames(deparseExpr(c.RawExpr))); col != nil || len(refs) == 1 {
			name := ""
			if col != nil {
				name = col.Name
			} else {
				name = refs[0]
			}
			base = td.rel.Name + "_" + name + "_check"
		}
		con.Name = t.freeName(td, base)
	}
	con.Columns = nil
	con.CheckExpr = deparseExpr(c.RawExpr)
	td.checks[con.OID] = sql
	td.cons = append(td.cons, con)
	return nil
}

// sqliteCreateTable renders the SQLite CREATE TABLE.
func (t *translator) sqliteCreateTable(td *tableDef) string {
	return t.sqliteCreateTableNamed(td, td.rel.SQLiteName)
}

// sqliteCreateTableNamed renders the table under a SQLite name of its own
// (a rebuild creates the new table next to the old one); self-references
// follow the name.
func (t *translator) sqliteCreateTableNamed(td *tableDef, name string) string {
	parts := make([]string, 0, len(td.cols)+len(td.cons))
	var notNull []string
	for _, cd := range td.cols {
		c := cd.col
		p := quote(c.Name) + " " + sqlType(c.Type)
		for _, chk := range cd.checks {
			p += " " + chk
		}
		parts = append(parts, p)
		if c.NotNull {
			notNull = append(notNull, notNullCheck(td, c))
		}
	}
	// NOT NULL before CHECK, CHECKs by name: PostgreSQL's order.
	parts = append(parts, notNull...)
	for _, con := range sortedByName(td.cons) {
		cols := make([]string, 0, len(con.Columns))
		for _, n := range con.Columns {
			cols = append(cols, quote(td.column(n).Name))
		}
		switch con.Type {
		case catalog.ConPrimary, catalog.ConUnique:
			if idx := td.index(con.IndexOID); idx != nil && idx.SQLiteName != "" {
				continue // enforced by a standalone unique index
			}
			parts = append(parts, "CONSTRAINT "+quote(con.Name)+" "+constraintKeyword(con.Type)+" ("+strings.Join(cols, ", ")+")")
		case catalog.ConForeign:
			parts = append(parts, "CONSTRAINT "+quote(con.Name)+" FOREIGN KEY ("+strings.Join(cols, ", ")+") "+
				t.fkClause(td, con, name))
		case catalog.ConCheck:
			parts = append(parts, "CONSTRAINT "+quote(con.Name)+" CHECK (("+td.checks[con.OID]+") IS NOT FALSE OR "+
				rowViolation(td, 'c', con.OID)+")")
		}
	}
	return "CREATE TABLE " + quote(name) + " (" + strings.Join(parts, ", ") + ") STRICT"
}

// Constraint checks that fail with PostgreSQL's message and its DETAIL
// "Failing row contains (…)": NOT NULL and CHECK are SQLite CHECK
// constraints that, when violated, call chr2_row_violation with the row's
// values. The call names the relation, constraint and column by OID and
// attnum, which renames do not change; the engine words the error from its
// catalog. Only tables created or rebuilt since carry this form; older ones
// keep SQLite's NOT NULL and CHECK and report without the row.

// notNullCheck is the table CHECK that enforces column c's NOT NULL.
func notNullCheck(td *tableDef, c *catalog.Column) string {
	return "CHECK (" + quote(c.Name) + " IS NOT NULL OR " + rowViolation(td, 'n', uint32(c.Num)) + ")"
}

// rowViolation calls chr2_row_violation(kind, relation, id, values…):
// kind 'n' with the column's attnum, 'c' with the constraint's OID.
func rowViolation(td *tableDef, kind byte, id uint32) string {
	args := []string{"'" + string(kind) + "'", oidStr(td.rel.OID), oidStr(id)}
	for _, cd := range td.cols {
		args = append(args, quote(cd.col.Name))
	}
	return "chr2_row_violation(" + strings.Join(args, ", ") + ")"
}

// sortedByName orders constraints by name (CHECKs are tested in that
// order); the sort is stable for equal names.
func sortedByName(cons []*catalog.Constraint) []*catalog.Constraint {
	out := append([]*catalog.Constraint(nil), cons...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sqlType is the STRICT column type for a PostgreSQL type; numeric,
// interval and jsonb columns compare with their collations so that
// '10' > '9' and '1 mon' > '10:00:00' (funcs/collations.go).
func sqlType(oid pgval.OID) string {
	decl := sqltype.StorageOf(oid).Decl()
	switch oid {
	case pgval.NumericOID:
		return decl + " COLLATE chr2_numeric"
	case pgval.IntervalOID:
		return decl + " COLLATE chr2_interval"
	case pgval.JSONBOID:
		return decl + " COLLATE chr2_jsonb"
	}
	return decl
}

func nullableText(s string) string {
	if s == "" {
		return "NULL"
	}
	return sqltype.QuoteString(s)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
