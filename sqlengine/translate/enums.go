package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Enum types. A value is stored as its label (TEXT), so output, equality,
// grouping and text casts need nothing special. Order is the enum's
// declaration order, not text order: wherever values are ordered (ORDER BY,
// <, >, BETWEEN, min/max, window and DISTINCT ON keys) the translator
// compares a sort key instead, a CASE that maps each label to its rank. The
// CASE is plain SQL built from the catalog the statement is translated
// against, so every node — follower or restored from a snapshot — computes
// the same order without registering anything; ALTER TYPE … ADD VALUE
// bumps the schema version, so plans are translated again with the new
// ranks.

// userType returns the user-defined type of the given OID and kind, nil
// for any other type.
func (t *translator) userType(oid pgval.OID, kind byte) *catalog.Type {
	if uint32(oid) < catalog.FirstUserOID {
		return nil
	}
	if ty, ok := t.cat.Type(uint32(oid)); ok && ty.Kind == kind {
		return ty
	}
	return nil
}

// enumType returns the enum with the given OID, nil for any other type.
func (t *translator) enumType(oid pgval.OID) *catalog.Type { return t.userType(oid, catalog.TypeEnum) }

// enumSortKey is the rank of an enum value in declaration order.
func enumSortKey(sql string, ty *catalog.Type) string {
	var b strings.Builder
	b.WriteString("(CASE " + sql)
	for i, l := range ty.Labels {
		b.WriteString(" WHEN " + sqltype.QuoteString(l.Label) + " THEN " + strconv.Itoa(i+1))
	}
	b.WriteString(" END)")
	return b.String()
}

// enumFromKey maps a rank back to its label (min/max over sort keys).
func enumFromKey(sql string, ty *catalog.Type) string {
	var b strings.Builder
	b.WriteString("(CASE " + sql)
	for i, l := range ty.Labels {
		b.WriteString(" WHEN " + strconv.Itoa(i+1) + " THEN " + sqltype.QuoteString(l.Label))
	}
	b.WriteString(" END)")
	return b.String()
}

// sortKeySQL is the SQL an expression is ordered and grouped by.
func (t *translator) sortKeySQL(e expr) string {
	if ty := t.enumType(e.typ); ty != nil {
		return enumSortKey(e.sql, ty)
	}
	if isArrayType(e.typ) {
		return arraySortKey(e) // arrays.go
	}
	return collatedSortKey(e)
}

// enumOrdered rewrites the operands of an ordering comparison of enum
// values to their sort keys; ok is false for other types.
func (t *translator) enumOrdered(op string, es ...expr) ([]expr, bool) {
	ty := t.enumType(es[0].typ)
	if ty == nil || op == "=" || op == "<>" {
		return es, false
	}
	out := make([]expr, len(es))
	for i, e := range es {
		out[i] = e
		out[i].sql = enumSortKey(e.sql, ty)
	}
	return out, true
}

// invalidEnum is PostgreSQL's error for a string that is no label of ty.
func invalidEnum(ty *catalog.Type, s string) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input value for enum %s: %q", ty.Name, s)
}

// enumChecked makes sql (a text value) fail with invalidEnum when it is no
// label of ty, for values only known when the statement runs.
func enumChecked(sql string, ty *catalog.Type) string {
	labels := make([]string, len(ty.Labels))
	for i, l := range ty.Labels {
		labels[i] = sqltype.QuoteString(l.Label)
	}
	msg := sqltype.QuoteString("invalid input value for enum " + ty.Name + `: "`)
	return "(CASE WHEN " + sql + " IS NULL OR " + sql + " IN (" + strings.Join(labels, ", ") + ") THEN " + sql +
		" ELSE chr2_raise('" + string(pgerr.InvalidTextRepresentation) + "', " + msg + " || " + sql + ` || '"') END)`
}

// coerceEnum converts e to enum ty: implicitly (assignment) or, with
// explicit set, as a cast, which also accepts text values.
func (t *translator) coerceEnum(e expr, ty *catalog.Type, explicit bool) (expr, error) {
	target := pgval.OID(ty.OID)
	out := e
	out.typ, out.mod = target, -1
	switch {
	case e.null || e.typ == target:
		return out, nil
	case e.lit != nil:
		if _, _, ok := ty.Label(*e.lit); !ok {
			return expr{}, invalidEnum(ty, *e.lit)
		}
		out.sql, out.lit = sqltype.QuoteString(*e.lit), nil
		return out, nil
	case e.param > 0 && (e.typ == pgval.Unspecified || e.typ == pgval.UnknownOID):
		t.params[e.param-1] = target
		out.sql = enumChecked(e.sql, ty)
		return out, nil
	case explicit && sqltype.IsText(e.typ):
		out.sql = enumChecked(e.sql, ty)
		return out, nil
	case explicit:
		return expr{}, pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", t.typeName(e.typ), ty.Name)
	}
	return expr{}, pgerr.New(pgerr.DatatypeMismatch, "column is of type %s but expression is of type %s",
		ty.Name, t.typeName(e.typ)).WithHint("You will need to rewrite or cast the expression.")
}

// castFromEnum converts an enum value to another type: to text as its
// label, to anything else not at all.
func (t *translator) castFromEnum(e expr, ty *catalog.Type, target pgval.OID) (expr, error) {
	if !sqltype.IsText(target) {
		return expr{}, pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", ty.Name, t.typeName(target))
	}
	out := e
	out.typ, out.mod = target, -1
	return out, nil
}

// typeName names built-in and user-defined types in messages.
func (t *translator) typeName(oid pgval.OID) string {
	if ty, ok := t.cat.Type(uint32(oid)); ok {
		return ty.Name
	}
	return typeSQLName(oid)
}

// userTypeByName resolves a type name against the user-defined types.
func (t *translator) userTypeByName(nm []string) (*catalog.Type, bool) {
	schema := ""
	if len(nm) > 1 {
		schema = nm[len(nm)-2]
	}
	return t.cat.LookupType(schema, nm[len(nm)-1], t.opts.SearchPath)
}

// enumMinMax is min/max over enum values: over their sort keys, mapped
// back to labels; rest closes the call (ORDER BY, ")", FILTER).
func (t *translator) enumMinMax(fn string, arg expr, rest string) (string, bool) {
	ty := t.enumType(arg.typ)
	if ty == nil {
		return "", false
	}
	return enumFromKey(fn+"("+enumSortKey(arg.sql, ty)+rest, ty), true
}

// resolveUserType resolves a type name that is not a built-in type to a
// user-defined one; ok is false when the name is left to the built-ins.
func (t *translator) resolveUserType(tn *pg.TypeName, nm []string) (pgval.OID, bool, error) {
	name := nm[len(nm)-1]
	if len(nm) == 1 {
		if _, alias := typeAliases[name]; alias {
			return 0, false, nil
		}
		if _, builtin := pgval.LookupName(name); builtin {
			return 0, false, nil
		}
	} else if nm[0] == "pg_catalog" {
		return 0, false, nil
	}
	ty, ok := t.userTypeByName(nm)
	if !ok {
		return 0, false, nil
	}
	if len(tn.Typmods) > 0 {
		return 0, true, pgerr.New(pgerr.SyntaxError, "type modifier is not allowed for type %q", ty.Name)
	}
	if len(tn.ArrayBounds) > 0 {
		return 0, true, pgerr.Unsupported("arrays of type " + ty.Name)
	}
	return pgval.OID(ty.OID), true, nil
}

func (t *translator) createEnum(cs *pg.CreateEnumStmt) (*Plan, error) {
	nsp, name, err := t.newTypeName(cs.TypeName)
	if err != nil {
		return nil, err
	}
	ty := &catalog.Type{OID: t.allocOID(), Namespace: nsp, Name: name, Kind: catalog.TypeEnum}
	ty.ArrayOID = t.allocOID()
	seen := map[string]bool{}
	for i, v := range cs.Vals {
		label := strVal(v)
		if err := checkEnumLabel(label); err != nil {
			return nil, err
		}
		if seen[label] {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "enum label %q used more than once", label)
		}
		seen[label] = true
		ty.Labels = append(ty.Labels, catalog.EnumLabel{OID: t.allocOID(), SortOrder: float64(i + 1), Label: label})
	}
	d := &ddl{}
	d.add("INSERT INTO _chr2_types (oid, nsp, name, kind, array_oid) VALUES (%d, %d, %s, 'e', %d)",
		ty.OID, nsp.OID, sqltype.QuoteString(name), ty.ArrayOID)
	for _, l := range ty.Labels {
		t.enumLabelInsert(d, ty, l)
	}
	return t.finishDDL(d, "CREATE TYPE"), nil
}

func (t *translator) enumLabelInsert(d *ddl, ty *catalog.Type, l catalog.EnumLabel) {
	d.add("INSERT INTO _chr2_enum_labels (oid, type_oid, sortorder, label) VALUES (%d, %d, %s, %s)", l.OID, ty.OID,
		strconv.FormatFloat(l.SortOrder, 'g', -1, 64), sqltype.QuoteString(l.Label))
}

func checkEnumLabel(label string) error {
	if len(label) == 0 || len(label) > 63 {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid enum label %q", label).
			WithDetail("Labels must be 63 bytes or less.")
	}
	return nil
}

// newTypeName resolves the schema and name of a type being created; the
// name must be free among types and the row types of relations.
func (t *translator) newTypeName(parts []*pg.Node) (*catalog.Namespace, string, error) {
	nm := names(parts)
	schema := ""
	if len(nm) > 1 {
		schema = nm[len(nm)-2]
	}
	nsp, err := t.creationNamespace(schema)
	if err != nil {
		return nil, "", err
	}
	name := nm[len(nm)-1]
	_, typeExists := t.cat.LookupType(nsp.Name, name, nil)
	rel, relExists := t.cat.Lookup(nsp.Name, name, nil)
	if typeExists || relExists && rel.Kind != catalog.KindIndex {
		return nil, "", pgerr.New(pgerr.DuplicateObject, "type %q already exists", name)
	}
	return nsp, name, nil
}

// alterEnum is ALTER TYPE … ADD VALUE [IF NOT EXISTS] [BEFORE | AFTER] and
// ALTER TYPE … RENAME VALUE.
func (t *translator) alterEnum(as *pg.AlterEnumStmt) (*Plan, error) {
	ty, ok := t.userTypeByName(names(as.TypeName))
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", joinDot(names(as.TypeName)))
	}
	if ty.Kind != catalog.TypeEnum {
		return nil, pgerr.New(pgerr.WrongObjectType, "%s is not an enum", ty.Name)
	}
	d := &ddl{}
	if as.OldVal != "" {
		old, _, ok := ty.Label(as.OldVal)
		if !ok {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "%q is not an existing enum label", as.OldVal)
		}
		if _, _, exists := ty.Label(as.NewVal); exists {
			return nil, pgerr.New(pgerr.DuplicateObject, "enum label %q already exists", as.NewVal)
		}
		if err := checkEnumLabel(as.NewVal); err != nil {
			return nil, err
		}
		d.add("UPDATE _chr2_enum_labels SET label = %s WHERE oid = %d", sqltype.QuoteString(as.NewVal), old.OID)
		return t.finishDDL(d, "ALTER TYPE"), nil
	}
	if _, _, exists := ty.Label(as.NewVal); exists {
		e := pgerr.New(pgerr.DuplicateObject, "enum label %q already exists", as.NewVal)
		if as.SkipIfNewValExists {
			e.Message += ", skipping"
			return skipped("ALTER TYPE", e), nil
		}
		return nil, e
	}
	if err := checkEnumLabel(as.NewVal); err != nil {
		return nil, err
	}
	order, err := newSortOrder(ty, as.NewValNeighbor, as.NewValIsAfter)
	if err != nil {
		return nil, err
	}
	t.enumLabelInsert(d, ty, catalog.EnumLabel{OID: t.allocOID(), SortOrder: order, Label: as.NewVal})
	return t.finishDDL(d, "ALTER TYPE"), nil
}

// newSortOrder places a new label: last, or halfway between the neighbour
// and the label next to it on the chosen side, as PostgreSQL does.
func newSortOrder(ty *catalog.Type, neighbor string, after bool) (float64, error) {
	n := len(ty.Labels)
	if neighbor == "" {
		if n == 0 {
			return 1, nil
		}
		return ty.Labels[n-1].SortOrder + 1, nil
	}
	l, i, ok := ty.Label(neighbor)
	if !ok {
		return 0, pgerr.New(pgerr.InvalidParameterValue, "%q is not an existing enum label", neighbor)
	}
	switch {
	case after && i == n-1:
		return l.SortOrder + 1, nil
	case after:
		return (l.SortOrder + ty.Labels[i+1].SortOrder) / 2, nil
	case i == 0:
		return l.SortOrder - 1, nil
	}
	return (ty.Labels[i-1].SortOrder + l.SortOrder) / 2, nil
}

// dropType is DROP TYPE / DROP DOMAIN of one type; a type still used by a
// column is refused (CASCADE, which would drop the columns, is not
// supported).
func (t *translator) dropType(d *ddl, ds *pg.DropStmt, obj *pg.Node) error {
	tn := obj.GetTypeName()
	if tn == nil {
		return pgerr.Unsupported("DROP TYPE of this object")
	}
	nm := names(tn.Names)
	ty, ok := t.userTypeByName(nm)
	what := "type"
	if ds.RemoveType == pg.ObjectType_OBJECT_DOMAIN {
		what = "domain"
	}
	if !ok {
		return pgerr.New(pgerr.UndefinedObject, "%s %q does not exist", what, joinDot(nm))
	}
	if what == "domain" && ty.Kind != catalog.TypeDomain {
		return pgerr.New(pgerr.WrongObjectType, "%q is not a domain", ty.Name)
	}
	for _, rel := range t.cat.Relations() {
		for _, col := range rel.Columns {
			if uint32(col.Type) != ty.OID || rel.Kind != catalog.KindTable {
				continue
			}
			if ds.Behavior == pg.DropBehavior_DROP_CASCADE {
				return pgerr.Unsupported("DROP TYPE … CASCADE of a type columns use")
			}
			return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop %s %s because other objects depend on it",
				what, ty.Name).WithDetail("column %s of table %s depends on %s %s", col.Name, rel.Name, what, ty.Name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
	}
	d.add("DELETE FROM _chr2_enum_labels WHERE type_oid = %d", ty.OID)
	d.add("DELETE FROM _chr2_types WHERE oid = %d", ty.OID)
	return nil
}

// formatTypeSQL is format_type(oid, typmod) knowing user-defined types
// (and their array types) besides the built-in ones.
func formatTypeSQL(oid, mod string) string {
	return "coalesce((SELECT CASE WHEN _ut.oid = " + oid + " THEN _ut.name ELSE _ut.name || '[]' END " +
		"FROM _chr2_types _ut WHERE _ut.oid = " + oid + " OR _ut.array_oid = " + oid + "), chr2_format_type(" +
		oid + ", " + mod + "))"
}

// fnFormatType is format_type(type OID, typmod).
func fnFormatType(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function format_type with %d arguments does not exist", len(fc.Args))
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	m, err := t.exprAs(s, fc.Args[1], pgval.Int4OID)
	if err != nil {
		return expr{}, err
	}
	out := typed(formatTypeSQL(o.sql, m.sql), pgval.TextOID, "format_type")
	out.agg = o.agg || m.agg
	return out, nil
}

// regtypeLiteral resolves 'name'::regtype to the type's OID; a numeric
// string is an OID already.
func (t *translator) regtypeLiteral(name string) (expr, error) {
	if n, err := strconv.ParseUint(strings.TrimSpace(name), 10, 32); err == nil {
		return typed(strconv.FormatUint(n, 10), pgval.RegtypeOID, "regtype"), nil
	}
	tree, err := pg.Parse("SELECT NULL::" + name)
	var tn *pg.TypeName
	if err == nil && len(tree.Stmts) == 1 {
		if sel := tree.Stmts[0].Stmt.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
			if tc := sel.TargetList[0].GetResTarget().Val.GetTypeCast(); tc != nil {
				tn = tc.TypeName
			}
		}
	}
	if tn == nil {
		return expr{}, pgerr.New(pgerr.InvalidTextRepresentation, "invalid type name %q", name)
	}
	oid, _, err := t.resolveTypeName(tn)
	if err != nil {
		return expr{}, err
	}
	return typed(strconv.FormatUint(uint64(oid), 10), pgval.RegtypeOID, "regtype"), nil
}
