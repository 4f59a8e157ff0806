package translate

import (
	"regexp"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// ALTER TABLE works on the table's model (tableDef): every command edits
// the model, and the statement ends by rendering the SQLite changes and
// replacing the table's catalog rows with the model's.
//
// SQLite changes a table in place only in a few ways (add a column, drop a
// column, rename, create or drop an index). When every command of the
// statement is one of those, the statement emits them ("native"). Anything
// else — a new NOT NULL, CHECK or foreign key, a type change — rebuilds the
// table, deterministically and inside the statement's transaction:
//
//  1. CREATE TABLE "<name>$new" with the final definition;
//  2. INSERT INTO it SELECT … FROM the old table ORDER BY rowid, keeping
//     rowids, computing added columns' defaults and converted values;
//  3. DROP the old table, RENAME the new one to the old name;
//  4. CREATE the standalone indexes again.
//
// Tables that reference the rebuilt one by foreign key are rebuilt with it
// (their rows copied first, then restored), so SQLite's DROP TABLE never
// runs their ON DELETE actions and their references stay valid; a cycle of
// such references is refused (0A000).

// alterState is one ALTER TABLE statement's work.
type alterState struct {
	td      *tableDef
	orig    *catalog.Relation
	rebuild bool
	native  []string // in-place SQLite statements, when no rebuild is needed
	post    []string // statements after the native ones (fill new columns)
	// postRebuild are statements after a rebuild (sequence positions).
	postRebuild []string
	src         map[int16]string // rebuild: final attnum → value computed from the old row "o"
	notices     []*pgerr.Error
	// dropSeqs are sequences owned by dropped columns; dropDesc the
	// attnums whose comments go with them.
	dropSeqs []uint32
	dropDesc []int16
}

func (t *translator) alterTable(as *pg.AlterTableStmt) (*Plan, error) {
	if as.Objtype != pg.ObjectType_OBJECT_TABLE {
		return t.alterOtherRelation(as)
	}
	rel, err := t.lookupRelation(as.Relation)
	if err != nil {
		if pe, ok := err.(*pgerr.Error); ok && as.MissingOk && pe.Code == pgerr.UndefinedTable {
			return skipped("ALTER TABLE", pgerr.New(pgerr.UndefinedTable, "relation %q does not exist, skipping",
				as.Relation.Relname)), nil
		}
		return nil, err
	}
	if err := t.checkAlterable(rel); err != nil {
		return nil, err
	}
	td, err := t.loadTableDef(rel)
	if err != nil {
		return nil, err
	}
	td.dropped = map[string]bool{}
	st := &alterState{td: td, orig: rel, src: map[int16]string{}}
	for _, c := range rel.Columns {
		st.src[c.Num] = `"o".` + quote(c.Name)
	}
	for _, n := range as.Cmds {
		if err := t.alterCommand(st, n.GetAlterTableCmd()); err != nil {
			return nil, err
		}
	}
	d := &ddl{}
	if st.rebuild {
		if err := t.emitRebuild(d, st); err != nil {
			return nil, err
		}
	} else {
		for _, sql := range append(st.native, st.post...) {
			d.add("%s", sql)
		}
	}
	t.catalogReplace(d, st, "")
	plan := t.finishDDL(d, "ALTER TABLE")
	plan.Notices = st.notices
	return plan, nil
}

func (t *translator) checkAlterable(rel *catalog.Relation) error {
	if catalog.IsSystemSchema(rel.Namespace.Name) {
		return pgerr.New(pgerr.InsufficientPrivilege, "permission denied: %q is a system catalog", rel.Name)
	}
	if rel.Kind != catalog.KindTable {
		return pgerr.New(pgerr.WrongObjectType, "%q is not a table", rel.Name)
	}
	return nil
}

// alterOtherRelation handles ALTER INDEX/SEQUENCE/VIEW … commands that do
// not change meaning here (owner, statistics, storage options).
func (t *translator) alterOtherRelation(as *pg.AlterTableStmt) (*Plan, error) {
	tag := "ALTER " + objectTypeName(as.Objtype)
	for _, n := range as.Cmds {
		if !harmlessAlter(n.GetAlterTableCmd().Subtype) {
			return nil, pgerr.Unsupported(tag + " " + alterName(n.GetAlterTableCmd().Subtype))
		}
	}
	if _, err := t.lookupRelation(as.Relation); err != nil && !as.MissingOk {
		return nil, err
	}
	return &Plan{Kind: KindWrite, Tag: tag}, nil
}

// harmlessAlter lists subcommands about storage and ownership, which have
// no effect on chr2sql's semantics and are accepted as no-ops.
func harmlessAlter(st pg.AlterTableType) bool {
	switch st {
	case pg.AlterTableType_AT_ChangeOwner, pg.AlterTableType_AT_SetStatistics, pg.AlterTableType_AT_SetStorage,
		pg.AlterTableType_AT_SetCompression, pg.AlterTableType_AT_ClusterOn, pg.AlterTableType_AT_DropCluster,
		pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions,
		pg.AlterTableType_AT_ReplaceRelOptions, pg.AlterTableType_AT_SetOptions, pg.AlterTableType_AT_ResetOptions,
		pg.AlterTableType_AT_ValidateConstraint, pg.AlterTableType_AT_ReplicaIdentity,
		pg.AlterTableType_AT_SetTableSpace, pg.AlterTableType_AT_SetLogged, pg.AlterTableType_AT_SetUnLogged:
		return true
	}
	return false
}

func alterName(st pg.AlterTableType) string {
	return strings.ReplaceAll(strings.TrimPrefix(st.String(), "AT_"), "_", " ")
}

func (t *translator) alterCommand(st *alterState, cmd *pg.AlterTableCmd) error {
	switch cmd.Subtype {
	case pg.AlterTableType_AT_AddColumn:
		return t.alterAddColumn(st, cmd)
	case pg.AlterTableType_AT_DropColumn:
		return t.alterDropColumn(st, cmd)
	case pg.AlterTableType_AT_ColumnDefault:
		return t.alterDefault(st, cmd)
	case pg.AlterTableType_AT_SetNotNull, pg.AlterTableType_AT_DropNotNull:
		return t.alterNotNull(st, cmd)
	case pg.AlterTableType_AT_AlterColumnType:
		return t.alterColumnType(st, cmd)
	case pg.AlterTableType_AT_AddConstraint:
		return t.alterAddConstraint(st, cmd.Def.GetConstraint())
	case pg.AlterTableType_AT_DropConstraint:
		return t.alterDropConstraint(st, cmd)
	}
	if harmlessAlter(cmd.Subtype) {
		return nil
	}
	return pgerr.Unsupported("ALTER TABLE " + alterName(cmd.Subtype))
}

func (st *alterState) column(name string) (*catalog.Column, error) {
	if cd := st.td.columnNamed(name); cd != nil {
		return cd.col, nil
	}
	return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", name, st.td.rel.Name)
}

// literalSQL matches the SQLite literals a constant default translates to.
var literalSQL = regexp.MustCompile(`^(NULL|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|'([^']|'')*'|X'[0-9A-F]*')$`)

func (t *translator) alterAddColumn(st *alterState, cmd *pg.AlterTableCmd) error {
	cd := cmd.Def.GetColumnDef()
	td := st.td
	if td.columnNamed(cd.Colname) != nil {
		if cmd.MissingOk {
			st.notices = append(st.notices, notice(pgerr.DuplicateColumn,
				"column %q of relation %q already exists, skipping", cd.Colname, td.rel.Name))
			return nil
		}
		return pgerr.New(pgerr.DuplicateColumn, "column %q of relation %q already exists", cd.Colname, td.rel.Name)
	}
	nCons := len(td.cons)
	if err := t.columnDef(td, cd); err != nil {
		return err
	}
	def := td.cols[len(td.cols)-1]
	col := def.col
	td.rel.Columns = append(td.rel.Columns, col)
	st.src[col.Num] = "NULL"
	if col.DefaultSQL != "" {
		st.src[col.Num] = col.DefaultSQL
	}
	if seq := td.newSequence(col.DefaultSeq); seq != nil {
		// The sequence is created by this statement: number the existing
		// rows in rowid order and leave the sequence after the last one.
		sp := seq.Sequence
		st.src[col.Num] = "(" + itoa64(sp.Start) + " + (row_number() OVER (ORDER BY \"o\".rowid) - 1) * " +
			itoa64(sp.Increment) + ")"
		st.post = append(st.post, "UPDATE _chr2_sequences SET is_called = (SELECT count(*) > 0 FROM "+
			quote(td.rel.SQLiteName)+"), last_value = "+itoa64(sp.Start)+" + max((SELECT count(*) FROM "+
			quote(td.rel.SQLiteName)+") - 1, 0) * "+itoa64(sp.Increment)+" WHERE oid = "+oidStr(seq.OID))
	} else {
		t.noteDefault(col)
	}
	constant := col.DefaultSQL != "" && literalSQL.MatchString(col.DefaultSQL)
	native := !col.NotNull || constant
	var indexes []string
	for _, con := range td.cons[nCons:] {
		if con.Type != catalog.ConUnique {
			native = false
			continue
		}
		idx := td.index(con.IndexOID)
		idx.SQLiteName = catalog.SQLiteName(td.rel.Namespace.Name, idx.Name)
		sql, err := t.indexSQL(td, idx, td.rel.SQLiteName)
		if err != nil {
			return err
		}
		indexes = append(indexes, sql)
	}
	if !native {
		st.rebuild = true
		st.postRebuild = append(st.postRebuild, st.post...)
		st.post = nil
		return nil
	}
	spec := quote(col.Name) + " " + sqlType(col.Type)
	if constant {
		spec += " DEFAULT " + col.DefaultSQL
	}
	for _, chk := range def.checks {
		spec += " " + chk
	}
	if col.NotNull {
		spec += " " + notNullCheck(td, col)
	}
	st.native = append(st.native, "ALTER TABLE "+quote(td.rel.SQLiteName)+" ADD COLUMN "+spec)
	st.native = append(st.native, indexes...)
	if col.DefaultSQL != "" && !constant {
		st.post = append(st.post, "UPDATE "+quote(td.rel.SQLiteName)+" SET "+quote(col.Name)+" = "+col.DefaultSQL)
	}
	return nil
}

// newSequence returns the sequence with the given OID if this statement
// creates it.
func (td *tableDef) newSequence(oid uint32) *catalog.Relation {
	for _, s := range td.sequences {
		if s.OID == oid && oid != 0 {
			return s
		}
	}
	return nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func notice(code pgerr.Code, format string, args ...any) *pgerr.Error {
	n := pgerr.New(code, format, args...)
	n.Severity = pgerr.SeverityNotice
	return n
}

func (t *translator) alterDropColumn(st *alterState, cmd *pg.AlterTableCmd) error {
	td := st.td
	cd := td.columnNamed(cmd.Name)
	if cd == nil {
		if cmd.MissingOk {
			st.notices = append(st.notices, notice(pgerr.UndefinedColumn,
				"column %q of relation %q does not exist, skipping", cmd.Name, td.rel.Name))
			return nil
		}
		return pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", cmd.Name, td.rel.Name)
	}
	col := cd.col
	if len(td.cols) == 1 {
		return pgerr.Unsupported("dropping the last column of a table")
	}
	for _, fk := range t.referencedBy(st.orig) {
		if containsNum(fk.RefColumns, col.Num) {
			if cmd.Behavior == pg.DropBehavior_DROP_CASCADE {
				return pgerr.Unsupported("DROP COLUMN … CASCADE that drops foreign keys of other tables")
			}
			return pgerr.New(pgerr.DependentObjectsStillExist,
				"cannot drop column %s of table %s because other objects depend on it", col.Name, td.rel.Name).
				WithDetail("constraint %s depends on column %s of table %s", fk.Name, col.Name, td.rel.Name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
	}
	var keepCons []*catalog.Constraint
	for _, con := range td.cons {
		uses := containsNum(con.Columns, col.Num) || con.Type == catalog.ConCheck && refersTo(con.CheckExpr, col.Name) ||
			con.Type == catalog.ConForeign && con.RefTable == td.rel.OID && containsNum(con.RefColumns, col.Num)
		if !uses {
			keepCons = append(keepCons, con)
			continue
		}
		if idx := td.index(con.IndexOID); idx == nil || idx.SQLiteName == "" {
			st.rebuild = true // an inline constraint goes with the column
		}
	}
	td.cons = keepCons
	var keepIdx []*catalog.Index
	for _, idx := range td.indexes {
		if containsNum(idx.Columns, col.Num) || idx.Predicate != "" && refersTo(idx.Predicate, col.Name) ||
			indexExprsReferTo(idx, col.Name) || !st.hasConstraintFor(idx) && idx.SQLiteName == "" {
			if idx.SQLiteName != "" {
				st.native = append(st.native, "DROP INDEX "+quote(idx.SQLiteName))
			}
			td.dropped[idx.Name] = true
			continue
		}
		keepIdx = append(keepIdx, idx)
	}
	td.indexes = keepIdx
	st.removeColumn(col)
	for _, cd := range td.cols {
		if cd.col.NotNull {
			st.rebuild = true // its NOT NULL check lists every column (notNullCheck)
		}
	}
	for _, con := range td.cons {
		if con.Type == catalog.ConCheck {
			st.rebuild = true // so does every CHECK (rowViolation)
		}
	}
	st.native = append(st.native, "ALTER TABLE "+quote(td.rel.SQLiteName)+" DROP COLUMN "+quote(col.Name))
	return nil
}

// hasConstraintFor reports whether idx still backs a kept constraint.
func (st *alterState) hasConstraintFor(idx *catalog.Index) bool {
	for _, con := range st.td.cons {
		if con.IndexOID == idx.OID {
			return true
		}
	}
	return false
}

func (st *alterState) removeColumn(col *catalog.Column) {
	td := st.td
	var cols []*colDef
	for _, cd := range td.cols {
		if cd.col != col {
			cols = append(cols, cd)
		}
	}
	td.cols = cols
	var relCols []*catalog.Column
	for _, c := range td.rel.Columns {
		if c != col {
			relCols = append(relCols, c)
		}
	}
	td.rel.Columns = relCols
	delete(st.src, col.Num)
	st.dropDesc = append(st.dropDesc, col.Num)
	if col.DefaultSeq != 0 {
		for _, c := range st.orig.Columns {
			if c.Num == col.Num && c.DefaultSeq == col.DefaultSeq {
				st.dropSeqs = append(st.dropSeqs, col.DefaultSeq)
			}
		}
	}
}

func containsNum(nums []int16, n int16) bool {
	for _, x := range nums {
		if x == n {
			return true
		}
	}
	return false
}

func (t *translator) alterDefault(st *alterState, cmd *pg.AlterTableCmd) error {
	col, err := st.column(cmd.Name)
	if err != nil {
		return err
	}
	if col.Identity != 0 {
		return pgerr.New(pgerr.SyntaxError, "column %q of relation %q is an identity column", col.Name, st.td.rel.Name).
			WithHint("Use ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY instead.")
	}
	if cmd.Def == nil {
		col.DefaultPG, col.DefaultSQL, col.DefaultSeq = "", "", 0
		return nil
	}
	return t.setDefault(col, cmd.Def)
}

func (t *translator) alterNotNull(st *alterState, cmd *pg.AlterTableCmd) error {
	col, err := st.column(cmd.Name)
	if err != nil {
		return err
	}
	want := cmd.Subtype == pg.AlterTableType_AT_SetNotNull
	if col.NotNull == want {
		return nil
	}
	if !want {
		if pk := st.td.primary(); pk != nil && containsNum(pk.Columns, col.Num) {
			return pgerr.New(pgerr.InvalidTableDefinition, "column %q is in a primary key", col.Name)
		}
		if col.Identity != 0 {
			return pgerr.New(pgerr.InvalidTableDefinition, "column %q of relation %q is an identity column",
				col.Name, st.td.rel.Name)
		}
	}
	col.NotNull = want
	st.rebuild = true
	return nil
}

func (td *tableDef) primary() *catalog.Constraint {
	for _, c := range td.cons {
		if c.Type == catalog.ConPrimary {
			return c
		}
	}
	return nil
}

func (t *translator) alterColumnType(st *alterState, cmd *pg.AlterTableCmd) error {
	cd := cmd.Def.GetColumnDef()
	def := st.td.columnNamed(cmd.Name)
	if def == nil {
		return pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", cmd.Name, st.td.rel.Name)
	}
	col := def.col
	typ, mod, serial, err := t.columnType(cd.TypeName)
	if err != nil {
		return err
	}
	if serial {
		return pgerr.New(pgerr.UndefinedObject, "type %q does not exist", names(cd.TypeName.Names)[0])
	}
	var value expr
	if cd.RawDefault != nil {
		old := &rangeItem{name: st.orig.Name, sqlAlias: "o", rel: st.orig, cols: relationCols(st.orig)}
		if value, err = t.expr(&scope{items: []*rangeItem{old}}, cd.RawDefault); err != nil {
			return err
		}
	} else {
		value = expr{sql: st.src[col.Num], typ: col.Type, mod: col.TypMod, name: col.Name}
	}
	conv, err := t.convertColumn(value, typ, mod, col.Name, cd.RawDefault != nil)
	if err != nil {
		return err
	}
	st.src[col.Num] = conv.sql
	col.Type, col.TypMod = typ, mod
	def.checks = typeChecks(col)
	if col.DefaultPG != "" && col.DefaultSeq == 0 {
		n, err := parseExprText(col.DefaultPG)
		if err != nil {
			return err
		}
		if err := t.setDefault(col, n); err != nil {
			return pgerr.New(pgerr.DatatypeMismatch, "default for column %q cannot be cast automatically to type %s",
				col.Name, typeSQLName(typ))
		}
	}
	st.rebuild = true
	return t.recompileChecks(st.td)
}

// convertColumn converts a column's old value to its new type: with an
// assignment cast, or (USING) an explicit one.
func (t *translator) convertColumn(e expr, typ pgval.OID, mod int32, name string, using bool) (expr, error) {
	if e.typ == typ || implicitlyCompatible(e.typ, typ) {
		out, err := t.coerce(e, typ)
		if err != nil {
			return expr{}, err
		}
		return t.assignTypmodOf(out, typ, mod) // varchar(n) is the new column's CHECK
	}
	out, err := t.castExpr(e, typ, mod)
	if err != nil || !using {
		return expr{}, pgerr.New(pgerr.DatatypeMismatch, "column %q cannot be cast automatically to type %s", name,
			typeSQLName(typ)).WithHint("You might need to specify \"USING %s::%s\".", name, typeSQLName(typ))
	}
	return out, nil
}

func (t *translator) alterAddConstraint(st *alterState, c *pg.Constraint) error {
	td := st.td
	if c.Conname != "" {
		for _, con := range td.cons {
			if con.Name == c.Conname {
				return pgerr.New(pgerr.DuplicateObject, "constraint %q for relation %q already exists", c.Conname, td.rel.Name)
			}
		}
	}
	if c.Contype == pg.ConstrType_CONSTR_PRIMARY || c.Contype == pg.ConstrType_CONSTR_UNIQUE {
		if c.Indexname != "" {
			return pgerr.Unsupported("constraints USING INDEX")
		}
	}
	notNullBefore := map[int16]bool{}
	for _, cd := range td.cols {
		notNullBefore[cd.col.Num] = cd.col.NotNull
	}
	nCons := len(td.cons)
	if err := t.tableConstraint(td, c, nil); err != nil {
		return err
	}
	con := td.cons[nCons]
	switch con.Type {
	case catalog.ConPrimary, catalog.ConUnique:
		for _, n := range con.Columns {
			if !notNullBefore[n] {
				st.rebuild = true // PRIMARY KEY makes its columns NOT NULL
			}
		}
		idx := td.index(con.IndexOID)
		idx.SQLiteName = catalog.SQLiteName(td.rel.Namespace.Name, idx.Name)
		sql, err := t.indexSQL(td, idx, td.rel.SQLiteName)
		if err != nil {
			return err
		}
		st.native = append(st.native, sql)
	default:
		st.rebuild = true
	}
	return nil
}

func (t *translator) alterDropConstraint(st *alterState, cmd *pg.AlterTableCmd) error {
	td := st.td
	var con *catalog.Constraint
	var keep []*catalog.Constraint
	for _, c := range td.cons {
		if c.Name == cmd.Name && con == nil {
			con = c
			continue
		}
		keep = append(keep, c)
	}
	if con == nil {
		if cmd.MissingOk {
			st.notices = append(st.notices, notice(pgerr.UndefinedObject,
				"constraint %q of relation %q does not exist, skipping", cmd.Name, td.rel.Name))
			return nil
		}
		return pgerr.New(pgerr.UndefinedObject, "constraint %q of relation %q does not exist", cmd.Name, td.rel.Name)
	}
	if con.Type == catalog.ConPrimary || con.Type == catalog.ConUnique {
		for _, fk := range t.referencedBy(st.orig) {
			if sameNums(fk.RefColumns, con.Columns) {
				if cmd.Behavior == pg.DropBehavior_DROP_CASCADE {
					return pgerr.Unsupported("DROP CONSTRAINT … CASCADE that drops foreign keys of other tables")
				}
				return pgerr.New(pgerr.DependentObjectsStillExist,
					"cannot drop constraint %s on table %s because other objects depend on it", con.Name, td.rel.Name).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
		}
	}
	td.cons = keep
	idx := td.index(con.IndexOID)
	switch {
	case idx != nil && idx.SQLiteName != "":
		st.native = append(st.native, "DROP INDEX "+quote(idx.SQLiteName))
	case con.Type == catalog.ConPrimary || con.Type == catalog.ConUnique:
		st.rebuild = true
	case con.Type == catalog.ConCheck || con.Type == catalog.ConForeign:
		st.rebuild = true
	}
	if idx != nil {
		var idxs []*catalog.Index
		for _, x := range td.indexes {
			if x != idx {
				idxs = append(idxs, x)
			}
		}
		td.indexes = idxs
		td.dropped[idx.Name] = true
	}
	return nil
}

func sameNums(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
