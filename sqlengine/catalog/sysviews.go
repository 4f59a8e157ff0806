package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chr2sql/chr2sql/pgval"
)

// The relations of pg_catalog and information_schema are emulated by views
// over the _chr2_* meta tables. They are not stored in the state database:
// each is a SQLite SELECT that the translator inlines where the relation is
// named, so they cost nothing to replicate and change with the code. Their
// columns carry PostgreSQL names and types, so result descriptions show the
// OIDs PostgreSQL would send.
//
// View SQL may contain placeholders the translator fills from the session:
// {{user}} and {{db}} (quoted SQL string literals), {{settings}} and
// {{procs}} (VALUES lists).

// Placeholders in system view SQL.
const (
	PlaceholderUser     = "{{user}}"
	PlaceholderDB       = "{{db}}"
	PlaceholderSettings = "{{settings}}"
	PlaceholderProcs    = "{{procs}}"
	PlaceholderPrepared = "{{prepared}}"
)

// sysView declares one emulated relation.
type sysView struct {
	schema string
	name   string
	oid    uint32
	cols   string // "name type, …" with pg_type names ("_text" for text[])
	sql    string
}

// BootstrapSuperuserOID is the OID of the role every object belongs to.
const BootstrapSuperuserOID = 10

// DatabaseOwnerOID is pg_database_owner, the owner of schema public.
const DatabaseOwnerOID = 6171

// addSystemViews registers the emulated relations in c.
func (c *Catalog) addSystemViews() {
	for _, v := range systemViews() {
		nsp := c.namespaces[v.schema]
		if nsp == nil {
			continue
		}
		rel := &Relation{OID: v.oid, Namespace: nsp, Name: v.name, Kind: KindView,
			SQLiteName: v.schema + "." + v.name, ViewSQL: v.sql}
		for i, def := range strings.Split(v.cols, ",") {
			f := strings.Fields(def)
			if len(f) != 2 {
				panic(fmt.Sprintf("catalog: bad column %q of %s", def, v.name))
			}
			rel.Columns = append(rel.Columns, &Column{Num: int16(i + 1), Name: f[0], Type: sysType(f[1]), TypMod: -1})
		}
		c.relations[rel.OID] = rel
		c.byName[qualName{v.schema, v.name}] = rel
	}
}

func sysType(name string) pgval.OID {
	switch name {
	case "_aclitem":
		return pgval.TextArrayOID
	case "aclitem":
		return pgval.TextOID
	}
	t, ok := pgval.LookupName(name)
	if !ok {
		panic("catalog: unknown system column type " + name)
	}
	return t.OID
}

// SystemViewNames lists the emulated relations as "schema.name", sorted.
func SystemViewNames() []string {
	var out []string
	for _, v := range systemViews() {
		out = append(out, v.schema+"."+v.name)
	}
	sort.Strings(out)
	return out
}

// empty renders a view with no rows: NULLs named after the columns.
func empty(cols string) string {
	parts := strings.Split(cols, ",")
	sel := make([]string, len(parts))
	for i, p := range parts {
		sel[i] = "NULL AS " + quoteIdent(strings.Fields(p)[0])
	}
	return "SELECT " + strings.Join(sel, ", ") + " LIMIT 0"
}

// plpgsqlExtensionOID is pg_extension's one row (PostgreSQL 15 numbers it
// 13000-something too).
const plpgsqlExtensionOID = "13565"

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func systemViews() []sysView {
	views := pgCatalogViews()
	views = append(views, emptyPgCatalogViews()...)
	views = append(views, informationSchemaViews()...)
	return views
}

func pgCatalogViews() []sysView {
	return []sysView{
		{"pg_catalog", "pg_namespace", 2615, "oid oid, nspname name, nspowner oid, nspacl _aclitem",
			`SELECT n.oid AS oid, n.name AS nspname, CASE WHEN n.oid = 2200 THEN 6171 ELSE 10 END AS nspowner,
			NULL AS nspacl FROM _chr2_namespaces n`},
		{"pg_catalog", "pg_class", 1259, pgClassCols, pgClassSQL},
		{"pg_catalog", "pg_attribute", 1249, pgAttributeCols, pgAttributeSQL},
		{"pg_catalog", "pg_attrdef", 2604, "oid oid, adrelid oid, adnum int2, adbin pg_node_tree",
			`SELECT a.rel * 1000 + a.num AS oid, a.rel AS adrelid, a.num AS adnum, a.default_pg AS adbin
			FROM _chr2_attributes a WHERE a.default_pg IS NOT NULL`},
		{"pg_catalog", "pg_index", 2610, pgIndexCols, pgIndexSQL},
		{"pg_catalog", "pg_constraint", 2606, pgConstraintCols, pgConstraintSQL},
		{"pg_catalog", "pg_description", 2609, "objoid oid, classoid oid, objsubid int4, description text",
			`SELECT objoid AS objoid, classoid AS classoid, objsubid AS objsubid, description AS description
			FROM _chr2_descriptions UNION ALL SELECT ` + plpgsqlExtensionOID + `, 3079, 0, 'PL/pgSQL procedural language'`},
		// plpgsql is the extension every PostgreSQL database has (\dx).
		{"pg_catalog", "pg_extension", 3079, "oid oid, extname name, extowner oid, extnamespace oid, " +
			"extrelocatable bool, extversion text, extconfig _oid, extcondition _text",
			`SELECT ` + plpgsqlExtensionOID + ` AS oid, 'plpgsql' AS extname, 10 AS extowner, 11 AS extnamespace,
			0 AS extrelocatable, '1.0' AS extversion, NULL AS extconfig, NULL AS extcondition`},
		{"pg_catalog", "pg_sequence", 2224, "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, " +
			"seqmax int8, seqmin int8, seqcache int8, seqcycle bool",
			`SELECT s.oid AS seqrelid, ` + seqTypeSQL + ` AS seqtypid, s.start_value AS seqstart,
			s.increment AS seqincrement, s.max_value AS seqmax, s.min_value AS seqmin, 1 AS seqcache, s.cycle AS seqcycle
			FROM _chr2_sequences s`},
		{"pg_catalog", "pg_sequences", 12100, "schemaname name, sequencename name, sequenceowner name, " +
			"data_type regtype, start_value int8, min_value int8, max_value int8, increment_by int8, cycle bool, " +
			"cache_size int8, last_value int8",
			`SELECT n.name AS schemaname, r.name AS sequencename, {{user}} AS sequenceowner, ` + seqTypeSQL + ` AS data_type,
			s.start_value AS start_value, s.min_value AS min_value, s.max_value AS max_value, s.increment AS increment_by,
			s.cycle AS cycle, 1 AS cache_size, CASE WHEN s.is_called THEN s.last_value END AS last_value
			FROM _chr2_sequences s JOIN _chr2_relations r ON r.oid = s.oid JOIN _chr2_namespaces n ON n.oid = r.nsp`},
		{"pg_catalog", "pg_tables", 12101, "schemaname name, tablename name, tableowner name, tablespace name, " +
			"hasindexes bool, hasrules bool, hastriggers bool, rowsecurity bool",
			`SELECT n.name AS schemaname, r.name AS tablename, {{user}} AS tableowner, NULL AS tablespace,
			EXISTS (SELECT 1 FROM _chr2_indexes x WHERE x.rel = r.oid) AS hasindexes, 0 AS hasrules,
			` + hasTriggersSQL + ` AS hastriggers,
			0 AS rowsecurity FROM _chr2_relations r JOIN _chr2_namespaces n ON n.oid = r.nsp WHERE r.kind = 'r'`},
		{"pg_catalog", "pg_indexes", 12102, "schemaname name, tablename name, indexname name, tablespace name, indexdef text",
			`SELECT n.name AS schemaname, t.name AS tablename, x.name AS indexname, NULL AS tablespace,
			x.definition AS indexdef FROM _chr2_indexes x JOIN _chr2_relations t ON t.oid = x.rel
			JOIN _chr2_namespaces n ON n.oid = t.nsp`},
		{"pg_catalog", "pg_views", 12103, "schemaname name, viewname name, viewowner name, definition text",
			`SELECT n.name AS schemaname, r.name AS viewname, {{user}} AS viewowner, r.definition AS definition
			FROM _chr2_relations r JOIN _chr2_namespaces n ON n.oid = r.nsp WHERE r.kind = 'v'`},
		{"pg_catalog", "pg_type", 1247, pgTypeCols, pgTypeSQL() + userTypeSQL},
		{"pg_catalog", "pg_enum", 3501, "oid oid, enumtypid oid, enumsortorder float4, enumlabel name",
			`SELECT oid, type_oid AS enumtypid, sortorder AS enumsortorder, label AS enumlabel FROM _chr2_enum_labels`},
		{"pg_catalog", "pg_database", 1262, "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, " +
			"datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid xid, datminmxid xid, " +
			"dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl _aclitem",
			`SELECT 5 AS oid, {{db}} AS datname, 10 AS datdba, 6 AS encoding, 'c' AS datlocprovider, 0 AS datistemplate,
			1 AS datallowconn, -1 AS datconnlimit, 0 AS datfrozenxid, 1 AS datminmxid, 1663 AS dattablespace,
			'C.UTF-8' AS datcollate, 'C.UTF-8' AS datctype, NULL AS daticulocale, NULL AS datcollversion, NULL AS datacl`},
		{"pg_catalog", "pg_roles", 12104, pgRolesCols,
			`SELECT {{user}} AS rolname, 1 AS rolsuper, 1 AS rolinherit, 1 AS rolcreaterole, 1 AS rolcreatedb,
			1 AS rolcanlogin, 1 AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword, NULL AS rolvaliduntil,
			1 AS rolbypassrls, NULL AS rolconfig, 10 AS oid`},
		{"pg_catalog", "pg_user", 12105, "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, " +
			"usebypassrls bool, passwd text, valuntil timestamptz, useconfig _text",
			`SELECT {{user}} AS usename, 10 AS usesysid, 1 AS usecreatedb, 1 AS usesuper, 1 AS userepl,
			1 AS usebypassrls, '********' AS passwd, NULL AS valuntil, NULL AS useconfig`},
		{"pg_catalog", "pg_settings", 12106, "name text, setting text, unit text, category text, short_desc text, " +
			"extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals _text, " +
			"boot_val text, reset_val text, sourcefile text, sourceline int4, pending_restart bool",
			`SELECT column1 AS name, column2 AS setting, NULL AS unit, 'Ungrouped' AS category, '' AS short_desc,
			NULL AS extra_desc, 'user' AS context, 'string' AS vartype, 'session' AS source, NULL AS min_val,
			NULL AS max_val, NULL AS enumvals, column2 AS boot_val, column2 AS reset_val, NULL AS sourcefile,
			NULL AS sourceline, 0 AS pending_restart FROM (VALUES {{settings}}) WHERE column1 IS NOT NULL`},
		{"pg_catalog", "pg_am", 2601, "oid oid, amname name, amhandler regproc, amtype char",
			`SELECT column1 AS oid, column2 AS amname, 0 AS amhandler, column3 AS amtype FROM (VALUES (2, 'heap', 't'),
			(403, 'btree', 'i'), (405, 'hash', 'i'), (783, 'gist', 'i'), (2742, 'gin', 'i'), (4000, 'spgist', 'i'),
			(3580, 'brin', 'i'))`},
		{"pg_catalog", "pg_collation", 3456, "oid oid, collname name, collnamespace oid, collowner oid, " +
			"collprovider char, collisdeterministic bool, collencoding int4, collcollate text, collctype text, " +
			"colliculocale text, collversion text",
			`SELECT column1 AS oid, column2 AS collname, 11 AS collnamespace, 10 AS collowner, column3 AS collprovider,
			1 AS collisdeterministic, -1 AS collencoding, column4 AS collcollate, column4 AS collctype,
			NULL AS colliculocale, NULL AS collversion FROM (VALUES (100, 'default', 'd', NULL), (950, 'C', 'c', 'C'),
			(951, 'POSIX', 'c', 'POSIX'))`},
		{"pg_catalog", "pg_proc", 1255, pgProcCols,
			`SELECT column1 AS oid, column2 AS proname, 11 AS pronamespace, 10 AS proowner, 12 AS prolang,
			1.0 AS procost, 0.0 AS prorows, 0 AS provariadic, 0 AS prosupport, column3 AS prokind, 0 AS prosecdef,
			0 AS proleakproof, 0 AS proisstrict, 0 AS proretset, 'i' AS provolatile, 's' AS proparallel,
			0 AS pronargs, 0 AS pronargdefaults, 0 AS prorettype, '' AS proargtypes, NULL AS proallargtypes,
			NULL AS proargmodes, NULL AS proargnames, NULL AS proargdefaults, NULL AS protrftypes,
			column2 AS prosrc, NULL AS probin, NULL AS prosqlbody, NULL AS proconfig, NULL AS proacl
			FROM (VALUES {{procs}})`},
		{"pg_catalog", "pg_language", 2612, "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, " +
			"lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl _aclitem",
			`SELECT column1 AS oid, column2 AS lanname, 10 AS lanowner, 0 AS lanispl, column3 AS lanpltrusted,
			0 AS lanplcallfoid, 0 AS laninline, 0 AS lanvalidator, NULL AS lanacl
			FROM (VALUES (12, 'internal', 0), (13, 'c', 0), (14, 'sql', 1))`},
		{"pg_catalog", "pg_tablespace", 1213, "oid oid, spcname name, spcowner oid, spcacl _aclitem, spcoptions _text",
			`SELECT column1 AS oid, column2 AS spcname, 10 AS spcowner, NULL AS spcacl, NULL AS spcoptions
			FROM (VALUES (1663, 'pg_default'), (1664, 'pg_global'))`},
		{"pg_catalog", "pg_prepared_statements", 12111, "name text, statement text, prepare_time timestamptz, " +
			"parameter_types _text, from_sql bool, generic_plans int8, custom_plans int8",
			`SELECT column1 AS name, column2 AS statement, column3 AS prepare_time, column4 AS parameter_types,
			column5 AS from_sql, 0 AS generic_plans, 0 AS custom_plans FROM (VALUES {{prepared}}) WHERE column1 IS NOT NULL`},
		{"pg_catalog", "pg_depend", 2608, "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, " +
			"refobjsubid int4, deptype char",
			`SELECT 1259 AS classid, a.default_seq AS objid, 0 AS objsubid, 1259 AS refclassid, a.rel AS refobjid,
			a.num AS refobjsubid, CASE WHEN a.identity <> '' THEN 'i' ELSE 'a' END AS deptype
			FROM _chr2_attributes a WHERE a.default_seq <> 0`},
	}
}

// seqTypeSQL is a sequence's data type: that of the column it serves.
const seqTypeSQL = `coalesce((SELECT a.type_oid FROM _chr2_attributes a WHERE a.default_seq = s.oid
	ORDER BY a.rel, a.num LIMIT 1), 20)`

// hasTriggersSQL: PostgreSQL enforces foreign keys with triggers on both
// tables, and psql shows foreign keys only for tables with triggers.
const hasTriggersSQL = `EXISTS (SELECT 1 FROM _chr2_constraints fk WHERE fk.type = 'f' AND (fk.rel = r.oid OR fk.ref_rel = r.oid))`

const pgClassCols = "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, " +
	"relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, " +
	"relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, " +
	"relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, " +
	"relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid xid, " +
	"relminmxid xid, relacl _aclitem, reloptions _text, relpartbound pg_node_tree"

const pgClassSQL = `SELECT r.oid AS oid, r.name AS relname, r.nsp AS relnamespace, 0 AS reltype, 0 AS reloftype,
	10 AS relowner, CASE r.kind WHEN 'i' THEN 403 WHEN 'r' THEN 2 ELSE 0 END AS relam, r.oid AS relfilenode,
	0 AS reltablespace, 0 AS relpages, -1.0 AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid,
	EXISTS (SELECT 1 FROM _chr2_indexes x WHERE x.rel = r.oid) AS relhasindex, 0 AS relisshared,
	CASE WHEN (SELECT substr(n.name, 1, 8) FROM _chr2_namespaces n WHERE n.oid = r.nsp) = 'pg_temp_' THEN 't' ELSE 'p' END
		AS relpersistence, r.kind AS relkind,
	CASE WHEN r.kind = 'i' THEN (SELECT length(x.columns) - length(replace(x.columns, ',', '')) + 1
		FROM _chr2_indexes x WHERE x.oid = r.oid)
	ELSE (SELECT count(*) FROM _chr2_attributes a WHERE a.rel = r.oid) END AS relnatts,
	(SELECT count(*) FROM _chr2_constraints k WHERE k.rel = r.oid AND k.type = 'c') AS relchecks,
	0 AS relhasrules, ` + hasTriggersSQL + ` AS relhastriggers, 0 AS relhassubclass, 0 AS relrowsecurity,
	0 AS relforcerowsecurity,
	1 AS relispopulated, 'd' AS relreplident, 0 AS relispartition, 0 AS relrewrite, 0 AS relfrozenxid,
	0 AS relminmxid, NULL AS relacl, NULL AS reloptions, NULL AS relpartbound FROM _chr2_relations r`

const pgAttributeCols = "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, " +
	"attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, " +
	"attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, " +
	"attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl _aclitem, " +
	"attoptions _text, attfdwoptions _text, attmissingval _text"

const pgAttributeSQL = `SELECT a.rel AS attrelid, a.name AS attname, a.type_oid AS atttypid, -1 AS attstattarget,
	chr2_typinfo(a.type_oid, 'len') AS attlen, a.num AS attnum,
	CASE WHEN chr2_typinfo(a.type_oid, 'elem') <> 0 THEN 1 ELSE 0 END AS attndims, -1 AS attcacheoff,
	a.typmod AS atttypmod, chr2_typinfo(a.type_oid, 'byval') AS attbyval, chr2_typinfo(a.type_oid, 'align') AS attalign,
	chr2_typinfo(a.type_oid, 'storage') AS attstorage, '' AS attcompression, a.not_null AS attnotnull,
	(a.default_pg IS NOT NULL) AS atthasdef, 0 AS atthasmissing, a.identity AS attidentity, '' AS attgenerated,
	0 AS attisdropped, 1 AS attislocal, 0 AS attinhcount, chr2_typinfo(a.type_oid, 'collation') AS attcollation,
	NULL AS attacl, NULL AS attoptions, NULL AS attfdwoptions, NULL AS attmissingval FROM (` + attributeRowsSQL + `) a`

// attributeRowsSQL is the columns of tables and of indexes: an index has one
// attribute per key column, named and typed after the table column ("expr"
// and for an expression key the name and type recorded with it).
const attributeRowsSQL = `SELECT rel, num, name, type_oid, typmod, not_null, default_pg, identity FROM _chr2_attributes
	UNION ALL SELECT x.oid, j.key + 1, coalesce(c.name, json_extract(x.exprs, '$[' || j.key || '].n'), 'expr'),
	coalesce(c.type_oid, json_extract(x.exprs, '$[' || j.key || '].t'), 0), coalesce(c.typmod, -1), 0,
	NULL, '' FROM _chr2_indexes x JOIN json_each('[' || x.columns || ']') j
	LEFT JOIN _chr2_attributes c ON c.rel = x.rel AND c.num = j.value`

const pgIndexCols = "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, " +
	"indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, " +
	"indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, " +
	"indkey int2vector, indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, " +
	"indpred pg_node_tree"

const pgIndexSQL = `SELECT x.oid AS indexrelid, x.rel AS indrelid,
	length(x.columns) - length(replace(x.columns, ',', '')) + 1 AS indnatts,
	length(x.columns) - length(replace(x.columns, ',', '')) + 1 AS indnkeyatts, x.is_unique AS indisunique,
	0 AS indnullsnotdistinct, x.is_primary AS indisprimary, 0 AS indisexclusion, 1 AS indimmediate,
	0 AS indisclustered, 1 AS indisvalid, 0 AS indcheckxmin, 1 AS indisready, 1 AS indislive, 0 AS indisreplident,
	chr2_csv_map(x.columns, 'vector') AS indkey, chr2_csv_map(x.columns, 'zeros') AS indcollation,
	chr2_csv_map(x.columns, 'zeros') AS indclass, chr2_csv_map(x.desc_flags, 'indoption') AS indoption,
	(SELECT group_concat(json_extract(e.value, '$.e'), ', ') FROM json_each(nullif(x.exprs, '')) e
	WHERE e.type = 'object') AS indexprs, nullif(x.predicate, '') AS indpred FROM _chr2_indexes x`

const pgConstraintCols = "oid oid, conname name, connamespace oid, contype char, condeferrable bool, " +
	"condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, " +
	"confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, " +
	"connoinherit bool, conkey _int2, confkey _int2, conpfeqop _oid, conppeqop _oid, conffeqop _oid, " +
	"confdelsetcols _int2, conexclop _oid, conbin pg_node_tree"

const pgConstraintSQL = `SELECT k.oid AS oid, k.name AS conname, r.nsp AS connamespace, k.type AS contype,
	k.is_deferrable AS condeferrable, 0 AS condeferred, 1 AS convalidated, k.rel AS conrelid, 0 AS contypid,
	k.index_oid AS conindid, 0 AS conparentid, k.ref_rel AS confrelid,
	CASE WHEN k.type = 'f' THEN substr(k.fk_actions, 1, 1) ELSE ' ' END AS confupdtype,
	CASE WHEN k.type = 'f' THEN substr(k.fk_actions, 2, 1) ELSE ' ' END AS confdeltype,
	CASE WHEN k.type = 'f' THEN 's' ELSE ' ' END AS confmatchtype, 1 AS conislocal, 0 AS coninhcount,
	0 AS connoinherit, chr2_csv_map(k.columns, 'array') AS conkey, chr2_csv_map(k.ref_columns, 'array') AS confkey,
	NULL AS conpfeqop, NULL AS conppeqop, NULL AS conffeqop, NULL AS confdelsetcols, NULL AS conexclop,
	nullif(k.check_expr, '') AS conbin FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel`

const pgRolesCols = "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, " +
	"rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, " +
	"rolbypassrls bool, rolconfig _text, oid oid"

const pgProcCols = "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, " +
	"prorows float4, provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, " +
	"proisstrict bool, proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, " +
	"prorettype oid, proargtypes oidvector, proallargtypes _oid, proargmodes _char, proargnames _text, " +
	"proargdefaults pg_node_tree, protrftypes _oid, prosrc text, probin text, prosqlbody pg_node_tree, " +
	"proconfig _text, proacl _aclitem"

const pgTypeCols = "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, " +
	"typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, " +
	"typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, " +
	"typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, " +
	"typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, " +
	"typdefaultbin pg_node_tree, typdefault text, typacl _aclitem"

// pgTypeSQL lists every type the value model knows.
func pgTypeSQL() string {
	var rows []string
	for _, t := range pgval.Types() {
		typtype := "b"
		if t.Category == 'P' {
			typtype = "p"
		}
		rows = append(rows, fmt.Sprintf("(%d, '%s', '%s', '%c', %d)", t.OID, t.Name, typtype, t.Category, b2i(t.Preferred)))
	}
	return `SELECT column1 AS oid, column2 AS typname, 11 AS typnamespace, 10 AS typowner,
	chr2_typinfo(column1, 'len') AS typlen, chr2_typinfo(column1, 'byval') AS typbyval, column3 AS typtype,
	column4 AS typcategory, column5 AS typispreferred, 1 AS typisdefined, ',' AS typdelim, 0 AS typrelid,
	0 AS typsubscript, chr2_typinfo(column1, 'elem') AS typelem, chr2_typinfo(column1, 'array') AS typarray,
	0 AS typinput, 0 AS typoutput, 0 AS typreceive, 0 AS typsend, 0 AS typmodin, 0 AS typmodout, 0 AS typanalyze,
	chr2_typinfo(column1, 'align') AS typalign, chr2_typinfo(column1, 'storage') AS typstorage, 0 AS typnotnull,
	0 AS typbasetype, -1 AS typtypmod, 0 AS typndims, chr2_typinfo(column1, 'collation') AS typcollation,
	NULL AS typdefaultbin, NULL AS typdefault, NULL AS typacl FROM (VALUES ` + strings.Join(rows, ", ") + `)`
}

// userTypeSQL adds the user-defined types and their array types to
// pg_type: an enum is a 4-byte type of category E, a domain takes its base
// type's attributes.
const userTypeSQL = `
	UNION ALL SELECT t.oid, t.name, t.nsp, 10, CASE t.kind WHEN 'e' THEN 4 ELSE chr2_typinfo(t.base_oid, 'len') END,
	CASE t.kind WHEN 'e' THEN 1 ELSE chr2_typinfo(t.base_oid, 'byval') END, t.kind,
	CASE t.kind WHEN 'e' THEN 'E' ELSE chr2_typinfo(t.base_oid, 'category') END, 0, 1, ',', 0, 0, 0, t.array_oid,
	0, 0, 0, 0, 0, 0, 0, CASE t.kind WHEN 'e' THEN 'i' ELSE chr2_typinfo(t.base_oid, 'align') END,
	CASE t.kind WHEN 'e' THEN 'p' ELSE chr2_typinfo(t.base_oid, 'storage') END, t.not_null, t.base_oid, t.typmod, 0,
	CASE t.kind WHEN 'e' THEN 0 ELSE chr2_typinfo(t.base_oid, 'collation') END, NULL, t.default_pg, NULL
	FROM _chr2_types t
	UNION ALL SELECT t.array_oid, '_' || t.name, t.nsp, 10, -1, 0, 'b', 'A', 0, 1, ',', 0, 0, t.oid, 0,
	0, 0, 0, 0, 0, 0, 0, 'i', 'x', 0, 0, -1, 0, 0, NULL, NULL, NULL FROM _chr2_types t WHERE t.array_oid <> 0`

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// emptyPgCatalogViews are relations clients query that chr2sql has no rows
// for (triggers, policies, publications, partitions, …).
func emptyPgCatalogViews() []sysView {
	defs := []struct {
		name string
		oid  uint32
		cols string
	}{
		{"pg_inherits", 2611, "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool"},
		{"pg_trigger", 2620, "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, " +
			"tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, " +
			"tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs bytea, " +
			"tgqual pg_node_tree, tgoldtable name, tgnewtable name"},
		{"pg_policy", 3256, "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles _oid, " +
			"polqual pg_node_tree, polwithcheck pg_node_tree"},
		{"pg_statistic_ext", 3381, "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, " +
			"stxstattarget int4, stxkeys int2vector, stxkind _char, stxexprs pg_node_tree"},
		{"pg_publication", 6104, "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, " +
			"pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool"},
		{"pg_publication_namespace", 6237, "oid oid, pnpubid oid, pnnspid oid"},
		{"pg_publication_rel", 6106, "oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector"},
		{"pg_partitioned_table", 3350, "partrelid oid, partstrat char, partnatts int2, partdefid oid, " +
			"partattrs int2vector, partclass oidvector, partcollation oidvector, partexprs pg_node_tree"},
		{"pg_rewrite", 2618, "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, " +
			"ev_qual pg_node_tree, ev_action pg_node_tree"},
		{"pg_range", 3541, "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, " +
			"rngcanonical regproc, rngsubdiff regproc"},
		{"pg_auth_members", 1261, "roleid oid, member oid, grantor oid, admin_option bool"},
		{"pg_shdescription", 2396, "objoid oid, classoid oid, description text"},
		{"pg_matviews", 12107, "schemaname name, matviewname name, matviewowner name, tablespace name, " +
			"hasindexes bool, ispopulated bool, definition text"},
		{"pg_foreign_table", 3118, "ftrelid oid, ftserver oid, ftoptions _text"},
		{"pg_event_trigger", 3466, "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, " +
			"evtenabled char, evttags _text"},
		{"pg_locks", 12108, "locktype text, database oid, relation oid, page int4, tuple int2, virtualxid text, " +
			"transactionid xid, classid oid, objid oid, objsubid int2, virtualtransaction text, pid int4, mode text, " +
			"granted bool, fastpath bool, waitstart timestamptz"},
		{"pg_stat_activity", 12109, "datid oid, datname name, pid int4, leader_pid int4, usesysid oid, " +
			"usename name, application_name text, client_addr text, client_hostname text, client_port int4, " +
			"backend_start timestamptz, xact_start timestamptz, query_start timestamptz, state_change timestamptz, " +
			"wait_event_type text, wait_event text, state text, backend_xid xid, backend_xmin xid, query_id int8, " +
			"query text, backend_type text"},
		{"pg_prepared_xacts", 12110, "transaction xid, gid text, prepared timestamptz, owner name, database name"},
		{"pg_opfamily", 2753, "oid oid, opfmethod oid, opfname name, opfnamespace oid, opfowner oid"},
		{"pg_opclass", 2616, "oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, " +
			"opcintype oid, opcdefault bool, opckeytype oid"},
	}
	out := make([]sysView, len(defs))
	for i, d := range defs {
		out[i] = sysView{"pg_catalog", d.name, d.oid, d.cols, empty(d.cols)}
	}
	return out
}
