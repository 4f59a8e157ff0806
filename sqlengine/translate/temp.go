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

// Temporary tables are ordinary replicated tables in the session's own
// schema pg_temp_N (N: the backend process id, Options.TempSchema). The
// translator makes them private to the session: relation names search that
// schema first (never function names, as PostgreSQL), "pg_temp" names it,
// and another session's pg_temp_M cannot be named at all.

// TempSchemaName is the temporary schema of the session with process id pid.
func TempSchemaName(pid uint32) string { return "pg_temp_" + strconv.FormatUint(uint64(pid), 10) }

// IsTempSchema reports whether name is a session's temporary schema.
func IsTempSchema(name string) bool { return strings.HasPrefix(name, "pg_temp_") }

// lookupRel finds a relation as the session sees it: an unqualified name
// searches the session's temporary schema before path; "pg_temp" is that
// schema; other sessions' temporary schemas are invisible.
func (t *translator) lookupRel(schema, name string, path []string) (*catalog.Relation, bool) {
	own := t.ownTempSchema()
	if !t.opts.Internal {
		switch {
		case schema == "pg_temp":
			schema = own
			if schema == "" {
				return nil, false
			}
		case IsTempSchema(schema) && schema != own:
			return nil, false
		}
	}
	if schema == "" && own != "" {
		path = append([]string{own}, path...)
	}
	return t.cat.Lookup(schema, name, path)
}

// ownTempSchema is the session's temporary schema for name lookup: none
// before the session created a temporary table (Options.TempInUse).
func (t *translator) ownTempSchema() string {
	if !t.opts.TempInUse {
		return ""
	}
	return t.opts.TempSchema
}

// tempTarget reports whether a CREATE names a temporary relation (TEMP, or
// the pg_temp schema) and checks the ON COMMIT clause against it.
func tempTarget(rv *pg.RangeVar, onCommit pg.OnCommitAction) (bool, error) {
	temp := rv.Relpersistence == "t" || rv.Schemaname == "pg_temp"
	if temp && rv.Schemaname != "" && rv.Schemaname != "pg_temp" {
		return false, pgerr.New(pgerr.InvalidTableDefinition, "cannot create temporary relation in non-temporary schema").
			WithPosition(rv.Location + 1)
	}
	if !temp && onCommit != pg.OnCommitAction_ONCOMMIT_NOOP && onCommit != pg.OnCommitAction_ON_COMMIT_ACTION_UNDEFINED {
		return false, pgerr.New(pgerr.InvalidTableDefinition, "ON COMMIT can only be used on temporary tables")
	}
	if temp && rv.Relpersistence == "u" {
		return false, pgerr.Unsupported("unlogged temporary tables")
	}
	return temp, nil
}

// tempNamespace returns the session's temporary schema, adding its
// creation to d when this is the session's first temporary relation.
func (t *translator) tempNamespace(d *ddl) (*catalog.Namespace, error) {
	if t.opts.TempSchema == "" {
		return nil, pgerr.Unsupported("temporary tables in this session")
	}
	if nsp, ok := t.cat.Namespace(t.opts.TempSchema); ok {
		return nsp, nil
	}
	nsp := &catalog.Namespace{OID: t.allocOID(), Name: t.opts.TempSchema}
	d.add("INSERT INTO _chr2_namespaces (oid, name) VALUES (%d, %s)", nsp.OID, sqltype.QuoteString(nsp.Name))
	return nsp, nil
}

// targetNamespace resolves the schema CREATE TABLE [AS] creates in and
// notes a temporary table's ON COMMIT action on the plan fields it returns.
func (t *translator) targetNamespace(d *ddl, rv *pg.RangeVar, onCommit pg.OnCommitAction) (*catalog.Namespace, string, error) {
	temp, err := tempTarget(rv, onCommit)
	if err != nil {
		return nil, "", err
	}
	if !temp {
		nsp, err := t.creationNamespace(rv.Schemaname)
		return nsp, "", err
	}
	nsp, err := t.tempNamespace(d)
	action := map[pg.OnCommitAction]string{pg.OnCommitAction_ONCOMMIT_DROP: "DROP",
		pg.OnCommitAction_ONCOMMIT_DELETE_ROWS: "DELETE ROWS"}[onCommit]
	return nsp, action, err
}

// markTemp records a created temporary table on its plan.
func markTemp(p *Plan, nsp *catalog.Namespace, name, action string) *Plan {
	if IsTempSchema(nsp.Name) {
		p.TempTable, p.OnCommit = name, action
	}
	return p
}

// fnMyTempSchema is pg_my_temp_schema(): the OID of the session's
// temporary schema, 0 before it has one.
func fnMyTempSchema(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 0 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_my_temp_schema takes no arguments")
	}
	oid := uint32(0)
	if nsp, ok := t.cat.Namespace(t.ownTempSchema()); ok && t.ownTempSchema() != "" {
		oid = nsp.OID
	}
	return typed(strconv.FormatUint(uint64(oid), 10), pgval.OIDOID, "pg_my_temp_schema"), nil
}

// fnIsOtherTempSchema is pg_is_other_temp_schema(oid).
func fnIsOtherTempSchema(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_is_other_temp_schema takes one argument")
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	sql := "COALESCE((SELECT substr(name, 1, 8) = 'pg_temp_' AND name <> " + sqltype.QuoteString(t.opts.TempSchema) +
		" FROM _chr2_namespaces WHERE oid = " + o.sql + "), 0)"
	return typed(sql, boolT, "pg_is_other_temp_schema"), nil
}

// visibleTemp prepends the OID of the session's temporary schema, when it
// exists, to the namespaces searched for relations.
func (t *translator) visibleTemp(names []string) []string {
	if nsp, ok := t.cat.Namespace(t.opts.TempSchema); ok && t.opts.TempSchema != "" {
		return append([]string{strconv.FormatUint(uint64(nsp.OID), 10)}, names...)
	}
	return names
}
