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

// System information and catalog functions: what psql, drivers and ORMs
// call while introspecting. Those that read the catalog become subqueries
// over the meta tables; those that depend on the session are resolved at
// translation time.

func catalogFunctionTable() map[string]fnSpec {
	return map[string]fnSpec{
		"format_type":                        {special: fnFormatType},
		"pg_get_expr":                        {special: fnPgGetExpr},
		"pg_get_indexdef":                    {special: fnIndexDef},
		"pg_get_constraintdef":               {special: fnConstraintDef},
		"pg_get_viewdef":                     {special: metaLookup("definition", "_chr2_relations", 1, 2)},
		"pg_table_is_visible":                {special: fnTableIsVisible},
		"pg_type_is_visible":                 {special: fnConstBool(true, 1)},
		"pg_function_is_visible":             {special: fnConstBool(true, 1)},
		"pg_opclass_is_visible":              {special: fnConstBool(true, 1)},
		"pg_opfamily_is_visible":             {special: fnConstBool(true, 1)},
		"pg_operator_is_visible":             {special: fnConstBool(true, 1)},
		"pg_collation_is_visible":            {special: fnConstBool(true, 1)},
		"pg_conversion_is_visible":           {special: fnConstBool(true, 1)},
		"pg_ts_config_is_visible":            {special: fnConstBool(true, 1)},
		"pg_relation_is_publishable":         {special: fnConstBool(false, 1)},
		"pg_is_in_recovery":                  {special: fnConstBool(false, 0)},
		"has_table_privilege":                {special: fnConstBool(true, -1)},
		"has_schema_privilege":               {special: fnConstBool(true, -1)},
		"has_database_privilege":             {special: fnConstBool(true, -1)},
		"has_column_privilege":               {special: fnConstBool(true, -1)},
		"has_any_column_privilege":           {special: fnConstBool(true, -1)},
		"has_sequence_privilege":             {special: fnConstBool(true, -1)},
		"has_function_privilege":             {special: fnConstBool(true, -1)},
		"pg_has_role":                        {special: fnConstBool(true, -1)},
		"pg_get_userbyid":                    {special: fnGetUserByID},
		"obj_description":                    {special: fnObjDescription},
		"col_description":                    {special: fnColDescription},
		"shobj_description":                  {special: fnNullOf(text)},
		"pg_get_statisticsobjdef_columns":    {special: fnNullOf(text)},
		"pg_get_triggerdef":                  {special: fnNullOf(text)},
		"pg_get_ruledef":                     {special: fnNullOf(text)},
		"pg_get_partkeydef":                  {special: fnNullOf(text)},
		"pg_get_function_result":             {special: fnNullOf(text)},
		"pg_get_function_arguments":          {special: fnNullOf(text)},
		"pg_get_function_identity_arguments": {special: fnNullOf(text)},
		"inet_server_addr":                   {special: fnNullOf(text)},
		"inet_client_addr":                   {special: fnNullOf(text)},
		"inet_server_port":                   {special: fnNullOf(int4)},
		"inet_client_port":                   {special: fnNullOf(int4)},
		"pg_encoding_to_char":                {special: fnConst(pgval.NameOID, "UTF8")},
		"pg_client_encoding":                 {special: fnConst(pgval.NameOID, "UTF8")},
		"current_schemas":                    {special: fnCurrentSchemas},
		"current_user":                       {special: fnUserName},
		"session_user":                       {special: fnUserName},
		"current_setting":                    {special: fnCurrentSetting},
		"pg_get_serial_sequence":             {special: fnSerialSequence},
		"pg_sleep":                           {special: fnSleep},
		"to_regclass":                        {special: fnToRegclass},
		"pg_typeof":                          {special: fnTypeof},
		"pg_partition_ancestors":             {special: fnPartitionAncestors},
		"pg_table_size":                      {special: fnZero(int8)},
		"pg_relation_size":                   {special: fnZero(int8)},
		"pg_total_relation_size":             {special: fnZero(int8)},
		"pg_indexes_size":                    {special: fnZero(int8)},
		"pg_database_size":                   {special: fnZero(int8)},
		"pg_size_pretty":                     {sqlName: "chr2_size_pretty", args: []pgval.OID{int8}, ret: text, minArgs: 1, maxArgs: 1},
		"quote_ident":                        {sqlName: "chr2_quote_ident", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"quote_literal":                      {sqlName: "chr2_quote_literal", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"quote_nullable":                     {sqlName: "chr2_quote_nullable", args: []pgval.OID{text}, ret: text, minArgs: 1, maxArgs: 1},
		"pg_postmaster_start_time":           {special: fnNowNamed},
		"pg_conf_load_time":                  {special: fnNowNamed},
	}
}

// constArg returns the text of a string literal argument (possibly cast).
func constArg(n *pg.Node) (string, bool) {
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		if sv, ok := x.AConst.Val.(*pg.A_Const_Sval); ok {
			return sv.Sval.Sval, true
		}
	case *pg.Node_TypeCast:
		return constArg(x.TypeCast.Arg)
	}
	return "", false
}

func fnConstBool(v bool, nargs int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if nargs >= 0 && len(fc.Args) != nargs {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist",
				funcName(fc), len(fc.Args))
		}
		// The arguments are still checked, as PostgreSQL would.
		for _, a := range fc.Args {
			if _, err := t.expr(s, a); err != nil {
				return expr{}, err
			}
		}
		if v {
			return typed("1", boolT, ""), nil
		}
		return typed("0", boolT, ""), nil
	}
}

func fnNullOf(typ pgval.OID) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		for _, a := range fc.Args {
			if _, err := t.expr(s, a); err != nil {
				return expr{}, err
			}
		}
		return typed("NULL", typ, ""), nil
	}
}

func fnZero(typ pgval.OID) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		for _, a := range fc.Args {
			if _, err := t.expr(s, a); err != nil {
				return expr{}, err
			}
		}
		return typed("0", typ, ""), nil
	}
}

func fnNowNamed(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	return t.nowExpr(pgval.TimestamptzOID), nil
}

func funcName(fc *pg.FuncCall) string { return strVal(fc.Funcname[len(fc.Funcname)-1]) }

// oidArg translates an argument that names a catalog object by OID.
func (t *translator) oidArg(s *scope, n *pg.Node) (expr, error) {
	e, err := t.expr(s, n)
	if err != nil {
		return expr{}, err
	}
	if e.lit != nil {
		if _, err := strconv.ParseUint(strings.TrimSpace(*e.lit), 10, 32); err != nil {
			return t.regclassLiteral(*e.lit)
		}
	}
	if isRegType(e.typ) || sqltype.IsInteger(e.typ) {
		e.typ = pgval.OIDOID
		return e, nil
	}
	return t.coerce(e, pgval.OIDOID)
}

func fnPgGetExpr(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_get_expr with %d arguments does not exist", len(fc.Args))
	}
	e, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	for _, a := range fc.Args[1:] {
		if _, err := t.expr(s, a); err != nil {
			return expr{}, err
		}
	}
	return typed(e.sql, text, "pg_get_expr"), nil
}

// metaLookup reads column col of the meta table row with the given oid.
func metaLookup(col, table string, minArgs, maxArgs int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) < minArgs || len(fc.Args) > maxArgs {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist",
				funcName(fc), len(fc.Args))
		}
		o, err := t.oidArg(s, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		for _, a := range fc.Args[1:] {
			if _, err := t.expr(s, a); err != nil {
				return expr{}, err
			}
		}
		return typed("(SELECT "+col+" FROM "+table+" WHERE oid = "+o.sql+")", text, funcName(fc)), nil
	}
}

// fnIndexDef is pg_get_indexdef(index [, column, pretty]): the whole
// definition, or with a column number above 0 only that key.
func fnIndexDef(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	def, err := metaLookup("definition", "_chr2_indexes", 1, 3)(t, s, fc)
	if err != nil || len(fc.Args) == 1 {
		return def, err
	}
	col, err := t.exprAs(s, fc.Args[1], int4)
	if err != nil {
		return expr{}, err
	}
	// Past the last key PostgreSQL returns '' (NULL only for no index).
	sql := "(CASE WHEN " + col.sql + " = 0 THEN " + def.sql + " ELSE coalesce(chr2_index_column(" + def.sql + ", " +
		col.sql + "), CASE WHEN " + def.sql + " IS NOT NULL THEN '' END) END)"
	return typed(sql, text, "pg_get_indexdef"), nil
}

// fnConstraintDef is pg_get_constraintdef; the pretty form prints a CHECK
// expression without the outer parentheses.
func fnConstraintDef(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_get_constraintdef with %d arguments does not exist", len(fc.Args))
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	pretty := "0"
	if len(fc.Args) == 2 {
		p, err := t.exprAs(s, fc.Args[1], boolT)
		if err != nil {
			return expr{}, err
		}
		pretty = p.sql
	}
	sql := "(SELECT CASE WHEN " + pretty + " AND _k.type = 'c' THEN 'CHECK (' || _k.check_expr || ')' ELSE _k.definition END " +
		"FROM _chr2_constraints _k WHERE _k.oid = " + o.sql + ")"
	return typed(sql, text, "pg_get_constraintdef"), nil
}

// visibleNamespaces lists the OIDs of pg_catalog and the search path.
func (t *translator) visibleNamespaces() []string {
	out := []string{strconv.Itoa(int(catalog.PgCatalogOID))}
	for _, name := range t.opts.SearchPath {
		if n, ok := t.cat.Namespace(name); ok {
			out = append(out, strconv.FormatUint(uint64(n.OID), 10))
		}
	}
	return t.visibleTemp(out)
}

func fnTableIsVisible(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_table_is_visible takes one argument")
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	sql := "(" + o.sql + " < " + strconv.Itoa(int(catalog.FirstUserOID)) + " OR (SELECT nsp FROM _chr2_relations WHERE oid = " +
		o.sql + ") IN (" + strings.Join(t.visibleNamespaces(), ", ") + "))"
	return typed(sql, boolT, "pg_table_is_visible"), nil
}

func fnGetUserByID(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_get_userbyid takes one argument")
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	sql := "CASE " + o.sql + " WHEN " + strconv.Itoa(catalog.DatabaseOwnerOID) + " THEN 'pg_database_owner' ELSE " +
		sqltype.QuoteString(t.opts.User) + " END"
	return typed(sql, pgval.NameOID, "pg_get_userbyid"), nil
}

func fnUserName(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	return typed(sqltype.QuoteString(t.opts.User), pgval.NameOID, funcName(fc)), nil
}

func fnObjDescription(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function obj_description with %d arguments does not exist", len(fc.Args))
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	class := ""
	if len(fc.Args) == 2 {
		name, ok := constArg(fc.Args[1])
		if !ok {
			return expr{}, pgerr.Unsupported("obj_description with a non-constant catalog name")
		}
		rel, err := t.relationByText(name)
		if err != nil {
			return expr{}, err
		}
		class = " AND classoid = " + strconv.FormatUint(uint64(rel.OID), 10)
	}
	return typed("(SELECT description FROM _chr2_descriptions WHERE objoid = "+o.sql+class+
		" AND objsubid = 0)", text, "obj_description"), nil
}

func fnColDescription(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function col_description takes two arguments")
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	n, err := t.exprAs(s, fc.Args[1], int4)
	if err != nil {
		return expr{}, err
	}
	return typed("(SELECT description FROM _chr2_descriptions WHERE objoid = "+o.sql+" AND classoid = 1259 AND objsubid = "+
		n.sql+")", text, "col_description"), nil
}

// searchPathArray renders current_schemas(include_implicit).
func (t *translator) searchPathArray(implicit bool) string {
	var items []any
	if implicit {
		items = append(items, "pg_catalog")
	}
	for _, name := range t.opts.SearchPath {
		if _, ok := t.cat.Namespace(name); ok {
			items = append(items, name)
		}
	}
	s, _ := pgval.Format(pgval.NameArrayOID, items, nil)
	return s
}

func fnCurrentSchemas(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function current_schemas takes one argument")
	}
	e, err := t.exprAs(s, fc.Args[0], boolT)
	if err != nil {
		return expr{}, err
	}
	sql := "CASE WHEN " + e.sql + " THEN " + sqltype.QuoteString(t.searchPathArray(true)) + " ELSE " +
		sqltype.QuoteString(t.searchPathArray(false)) + " END"
	return typed(sql, pgval.NameArrayOID, "current_schemas"), nil
}

func fnCurrentSetting(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 || len(fc.Args) > 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function current_setting with %d arguments does not exist", len(fc.Args))
	}
	name, ok := constArg(fc.Args[0])
	if !ok {
		return expr{}, pgerr.Unsupported("current_setting with a non-constant name")
	}
	missingOK := false
	if len(fc.Args) == 2 {
		if c, ok := fc.Args[1].Node.(*pg.Node_AConst); ok {
			if b, ok := c.AConst.Val.(*pg.A_Const_Boolval); ok {
				missingOK = b.Boolval.Boolval
			}
		}
	}
	if t.opts.Settings != nil {
		want := strings.ToLower(name)
		for _, kv := range t.opts.Settings() {
			if kv[0] == want {
				return typed(sqltype.QuoteString(kv[1]), text, "current_setting"), nil
			}
		}
	}
	if missingOK {
		return typed("NULL", text, "current_setting"), nil
	}
	return expr{}, pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
}

func fnSerialSequence(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 2 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_get_serial_sequence takes two arguments")
	}
	table, ok1 := constArg(fc.Args[0])
	column, ok2 := constArg(fc.Args[1])
	if !ok1 || !ok2 {
		return t.serialSequenceLookup(s, fc)
	}
	rel, err := t.relationByText(table)
	if err != nil {
		return expr{}, err
	}
	col, ok := rel.Column(unquoteIdent(column))
	if !ok {
		return expr{}, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", column, rel.Name)
	}
	if col.DefaultSeq == 0 {
		return typed("NULL", text, "pg_get_serial_sequence"), nil
	}
	seq, ok := t.cat.Relation(col.DefaultSeq)
	if !ok {
		return typed("NULL", text, "pg_get_serial_sequence"), nil
	}
	return typed(sqltype.QuoteString(seq.Namespace.Name+"."+seq.Name), text, "pg_get_serial_sequence"), nil
}

// serialSequenceLookup resolves pg_get_serial_sequence(table, column) whose
// arguments are computed (inspectors pass attrelid::regclass::text).
func (t *translator) serialSequenceLookup(s *scope, fc *pg.FuncCall) (expr, error) {
	args := make([]string, 2)
	for i, a := range fc.Args {
		e, err := t.exprAs(s, a, text)
		if err != nil {
			return expr{}, err
		}
		args[i] = e.sql
	}
	sql := "(SELECT _sn.name || '.' || _s.name FROM _chr2_attributes _a JOIN _chr2_relations _r ON _r.oid = _a.rel " +
		"JOIN _chr2_namespaces _rn ON _rn.oid = _r.nsp JOIN _chr2_relations _s ON _s.oid = _a.default_seq " +
		"JOIN _chr2_namespaces _sn ON _sn.oid = _s.nsp WHERE _a.name = " + args[1] + " AND (_rn.name || '.' || _r.name = " +
		args[0] + " OR _r.name = " + args[0] + " AND _r.nsp IN (" + strings.Join(t.visibleNamespaces(), ", ") + ")) LIMIT 1)"
	return typed(sql, text, "pg_get_serial_sequence"), nil
}

// fnSleep is pg_sleep(seconds): chr2_sleep waits on the statement's
// context, so a cancel request or statement_timeout ends it.
func fnSleep(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_sleep takes one argument")
	}
	e, err := t.exprAs(s, fc.Args[0], flt8)
	if err != nil {
		return expr{}, err
	}
	return typed("chr2_sleep("+e.sql+")", pgval.VoidOID, "pg_sleep"), nil
}

func fnToRegclass(t *translator, _ *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function to_regclass takes one argument")
	}
	name, ok := constArg(fc.Args[0])
	if !ok {
		return expr{}, pgerr.Unsupported("to_regclass with a non-constant argument")
	}
	rel, err := t.relationByText(name)
	if err != nil {
		return typed("NULL", pgval.RegclassOID, "to_regclass"), nil
	}
	return typed(strconv.FormatUint(uint64(rel.OID), 10), pgval.RegclassOID, "to_regclass"), nil
}

func fnTypeof(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_typeof takes one argument")
	}
	e, err := t.expr(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	typ := e.typ
	if e.lit != nil || e.null {
		typ = pgval.UnknownOID
	}
	out := typed(oidLit(typ), pgval.RegtypeOID, "pg_typeof")
	if e.agg {
		// The aggregate must stay in the SQL, or SQLite would not
		// aggregate: one row per input row instead of one.
		out.sql = "(CASE WHEN (" + e.sql + ") IS NULL THEN " + out.sql + " ELSE " + out.sql + " END)"
		out.agg = true
	}
	return out, nil
}

// fnPartitionAncestors is pg_partition_ancestors for tables that are never
// partitions: the relation itself.
func fnPartitionAncestors(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) != 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function pg_partition_ancestors takes one argument")
	}
	o, err := t.oidArg(s, fc.Args[0])
	if err != nil {
		return expr{}, err
	}
	return typed(o.sql, pgval.RegclassOID, "relid"), nil
}

// regOutput renders a reg* value as PostgreSQL's output function would: the
// object's name, qualified when its schema is not visible.
func (t *translator) regOutput(sql string, typ pgval.OID) string {
	switch typ {
	case pgval.RegclassOID:
		return "coalesce((SELECT CASE WHEN _rr.nsp IN (" + strings.Join(t.visibleNamespaces(), ", ") +
			") THEN chr2_quote_ident(_rr.name) ELSE chr2_quote_ident(_rn.name) || '.' || chr2_quote_ident(_rr.name) END " +
			"FROM _chr2_relations _rr JOIN _chr2_namespaces _rn ON _rn.oid = _rr.nsp WHERE _rr.oid = " + sql + "), " +
			t.systemRelName(sql) + ", CAST(" + sql + " AS TEXT))"
	case pgval.RegtypeOID:
		return "CASE WHEN " + sql + " = 0 THEN '-' ELSE " + formatTypeSQL(sql, "NULL") + " END"
	case pgval.RegnamespaceOID:
		return "coalesce((SELECT _rn.name FROM _chr2_namespaces _rn WHERE _rn.oid = " + sql + "), CAST(" + sql + " AS TEXT))"
	case pgval.RegprocOID, pgval.RegprocedureOID, pgval.RegoperOID:
		return "CASE WHEN " + sql + " = 0 THEN '-' ELSE CAST(" + sql + " AS TEXT) END"
	case pgval.RegroleOID:
		return "CASE " + sql + " WHEN " + strconv.Itoa(catalog.DatabaseOwnerOID) + " THEN 'pg_database_owner' ELSE " +
			sqltype.QuoteString(t.opts.User) + " END"
	}
	return sql
}

// systemRelName maps the OID of an emulated system relation to its name.
func (t *translator) systemRelName(sql string) string {
	var b strings.Builder
	b.WriteString("CASE " + sql)
	n := 0
	for _, rel := range t.cat.Relations() {
		if rel.ViewSQL == "" {
			continue
		}
		name := rel.Name
		if rel.Namespace.Name != "pg_catalog" {
			name = rel.Namespace.Name + "." + name
		}
		b.WriteString(" WHEN " + strconv.FormatUint(uint64(rel.OID), 10) + " THEN " + sqltype.QuoteString(name))
		n++
	}
	if n == 0 {
		return "NULL"
	}
	b.WriteString(" END")
	return b.String()
}

// isRegOutput reports whether values of typ print as names.
func isRegOutput(typ pgval.OID) bool {
	switch typ {
	case pgval.RegclassOID, pgval.RegtypeOID, pgval.RegnamespaceOID, pgval.RegprocOID, pgval.RegprocedureOID,
		pgval.RegoperOID, pgval.RegroleOID:
		return true
	}
	return false
}
