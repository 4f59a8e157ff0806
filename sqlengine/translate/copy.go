package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// copyStmt translates COPY … FROM STDIN and COPY … TO STDOUT. The session
// moves the data (see sqlengine/copy.go); the plan says which columns, in
// which format, and how omitted columns get their defaults.
func (t *translator) copyStmt(cs *pg.CopyStmt) (*Plan, error) {
	if cs.Filename != "" || cs.IsProgram {
		return nil, pgerr.Unsupported("COPY to or from a file or program").
			WithHint("Use COPY … FROM STDIN / TO STDOUT (psql's \\copy).")
	}
	op := &CopyOp{Format: "text", Delimiter: "\t", Null: `\N`}
	if err := copyOptions(op, cs.Options); err != nil {
		return nil, err
	}
	if cs.IsFrom {
		return t.copyFrom(cs, op)
	}
	return t.copyTo(cs, op)
}

func copyOptions(op *CopyOp, opts []*pg.Node) error {
	csvDefaults := func() {
		if op.Format == "csv" {
			op.Delimiter, op.Null, op.Quote, op.Escape = ",", "", `"`, ""
		}
	}
	// FORMAT decides the defaults of the other options, wherever it appears.
	for _, o := range opts {
		de := o.GetDefElem()
		if de.Defname == "format" {
			op.Format = strings.ToLower(defString(de))
			if op.Format != "text" && op.Format != "csv" && op.Format != "binary" {
				return pgerr.New(pgerr.InvalidParameterValue, "COPY format %q not recognized", op.Format)
			}
			csvDefaults()
		}
	}
	for _, o := range opts {
		de := o.GetDefElem()
		switch de.Defname {
		case "format", "freeze", "encoding":
		case "delimiter":
			op.Delimiter = defString(de)
			if len(op.Delimiter) != 1 {
				return pgerr.New(pgerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
			}
		case "null":
			op.Null = defString(de)
		case "header":
			v := strings.ToLower(defString(de))
			op.Header = v == "" || v == "true" || v == "on" || v == "1" || v == "match"
		case "quote":
			op.Quote = defString(de)
		case "escape":
			op.Escape = defString(de)
		case "force_not_null":
			op.ForceNotNull = names(de.Arg.GetList().GetItems())
		case "force_null":
			op.ForceNull = names(de.Arg.GetList().GetItems())
		default:
			return pgerr.Unsupported("COPY option " + de.Defname)
		}
	}
	if op.Format == "csv" && op.Escape == "" {
		op.Escape = op.Quote
	}
	if op.Format == "text" && (op.Quote != "" || len(op.ForceNull) > 0 || len(op.ForceNotNull) > 0) {
		return pgerr.New(pgerr.FeatureNotSupported, "COPY quote, force null and force not null are available only in CSV mode")
	}
	return nil
}

// defString reads a DefElem argument as text (strings, identifiers,
// booleans, integers).
func defString(de *pg.DefElem) string {
	if de.Arg == nil {
		return ""
	}
	switch x := de.Arg.Node.(type) {
	case *pg.Node_String_:
		return x.String_.Sval
	case *pg.Node_Integer:
		return itoa64(int64(x.Integer.Ival))
	case *pg.Node_Boolean:
		if x.Boolean.Boolval {
			return "true"
		}
		return "false"
	case *pg.Node_AConst:
		if v, err := constValue(de.Arg); err == nil && v != nil {
			return v.(string)
		}
	}
	return ""
}

func (t *translator) copyFrom(cs *pg.CopyStmt, op *CopyOp) (*Plan, error) {
	if cs.Relation == nil {
		return nil, pgerr.New(pgerr.SyntaxError, "COPY FROM needs a table")
	}
	if cs.WhereClause != nil {
		return nil, pgerr.Unsupported("COPY FROM … WHERE")
	}
	rel, _, err := t.targetTable(cs.Relation, "copy to")
	if err != nil {
		return nil, err
	}
	var targets []*pg.Node
	for _, n := range cs.Attlist {
		targets = append(targets, &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: strVal(n)}}})
	}
	cols, err := t.insertColumns(rel, targets)
	if err != nil {
		return nil, err
	}
	op.Table, op.TableName, op.TableOID = rel.SQLiteName, rel.Name, rel.OID
	named := map[string]bool{}
	for _, c := range cols {
		named[c.Name] = true
		op.Columns = append(op.Columns, Column{Name: c.Name, Type: c.Type, TypMod: c.TypMod, TableOID: rel.OID, Attnum: c.Num})
	}
	t.target = rel
	if c := RowidColumn(rel); c != nil {
		op.Rowid = c.Name
		if !named[c.Name] && c.DefaultSQL == "" {
			op.Defaults = append(op.Defaults, CopyDefault{Name: c.Name, SQL: t.rowidGuard(c, "NULL")})
		}
	}
	for _, c := range rel.Columns {
		if !named[c.Name] && c.DefaultSQL != "" {
			t.noteDefault(c)
			op.Defaults = append(op.Defaults, CopyDefault{Name: c.Name, SQL: c.DefaultSQL})
		}
	}
	if err := checkForced(op, named); err != nil {
		return nil, err
	}
	op.OnConflict = uniqueViolationClauses(rel, map[uint32]bool{})
	return &Plan{Kind: KindCopyFrom, Tag: "COPY", Copy: op}, nil
}

func checkForced(op *CopyOp, named map[string]bool) error {
	for _, c := range append(append([]string(nil), op.ForceNull...), op.ForceNotNull...) {
		if !named[c] {
			return pgerr.New(pgerr.InvalidColumnReference, "FORCE_NULL/FORCE_NOT_NULL column %q not referenced by COPY", c)
		}
	}
	return nil
}

func (t *translator) copyTo(cs *pg.CopyStmt, op *CopyOp) (*Plan, error) {
	var query *Plan
	var err error
	if cs.Query != nil {
		sel := cs.Query.GetSelectStmt()
		if sel == nil {
			return nil, pgerr.Unsupported("COPY (" + statementName(cs.Query) + ") TO")
		}
		query, err = t.selectPlan(sel)
	} else {
		query, err = t.copyTableQuery(cs)
	}
	if err != nil {
		return nil, err
	}
	if query.Kind != KindQuery {
		return nil, pgerr.Unsupported("COPY TO of a query with side effects")
	}
	op.Query = query
	op.Columns = query.Columns
	return &Plan{Kind: KindCopyTo, Tag: "COPY", Copy: op, Params: query.Params}, nil
}

// copyTableQuery is the SELECT of COPY table [(cols)] TO STDOUT, in rowid
// (insertion) order.
func (t *translator) copyTableQuery(cs *pg.CopyStmt) (*Plan, error) {
	rel, err := t.lookupRelation(cs.Relation)
	if err != nil {
		return nil, err
	}
	if rel.Kind != catalog.KindTable {
		return nil, pgerr.New(pgerr.WrongObjectType, "cannot copy from relation %q", rel.Name).
			WithHint("Try the COPY (SELECT ...) TO variant.")
	}
	cols := rel.Columns
	if len(cs.Attlist) > 0 {
		cols = nil
		for _, n := range cs.Attlist {
			c, ok := rel.Column(strVal(n))
			if !ok {
				return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", strVal(n), rel.Name)
			}
			cols = append(cols, c)
		}
	}
	plan := &Plan{Kind: KindQuery, Tag: "SELECT"}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = quote(c.Name)
		plan.Columns = append(plan.Columns, Column{Name: c.Name, Type: c.Type, TypMod: c.TypMod, TableOID: rel.OID, Attnum: c.Num})
	}
	plan.Steps = []Step{{SQL: "SELECT " + strings.Join(parts, ", ") + " FROM " + quote(rel.SQLiteName) + " ORDER BY rowid",
		Rows: true}}
	return plan, nil
}
