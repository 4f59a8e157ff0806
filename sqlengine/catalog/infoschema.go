package catalog

// information_schema views. The standard's domains are reported as their
// base types: sql_identifier as name, character_data and yes_or_no as
// varchar, cardinal_number as int4.

// relSchemaJoin joins a relation alias r with its namespace n.
const relSchemaJoin = ` JOIN _chr2_namespaces n ON n.oid = r.nsp`

func informationSchemaViews() []sysView {
	return []sysView{
		{"information_schema", "schemata", 13200, "catalog_name name, schema_name name, schema_owner name, " +
			"default_character_set_catalog name, default_character_set_schema name, default_character_set_name name, " +
			"sql_path varchar",
			`SELECT {{db}} AS catalog_name, n.name AS schema_name,
			CASE WHEN n.oid = 2200 THEN 'pg_database_owner' ELSE {{user}} END AS schema_owner,
			NULL AS default_character_set_catalog, NULL AS default_character_set_schema,
			NULL AS default_character_set_name, NULL AS sql_path FROM _chr2_namespaces n`},
		{"information_schema", "tables", 13201, "table_catalog name, table_schema name, table_name name, " +
			"table_type varchar, self_referencing_column_name name, reference_generation varchar, " +
			"user_defined_type_catalog name, user_defined_type_schema name, user_defined_type_name name, " +
			"is_insertable_into varchar, is_typed varchar, commit_action varchar",
			`SELECT {{db}} AS table_catalog, n.name AS table_schema, r.name AS table_name,
			CASE r.kind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type, NULL AS self_referencing_column_name,
			NULL AS reference_generation, NULL AS user_defined_type_catalog, NULL AS user_defined_type_schema,
			NULL AS user_defined_type_name, CASE r.kind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_insertable_into,
			'NO' AS is_typed, NULL AS commit_action FROM _chr2_relations r` + relSchemaJoin + ` WHERE r.kind IN ('r', 'v')`},
		{"information_schema", "columns", 13202, infoColumnsCols, infoColumnsSQL},
		{"information_schema", "table_constraints", 13203, "constraint_catalog name, constraint_schema name, " +
			"constraint_name name, table_catalog name, table_schema name, table_name name, constraint_type varchar, " +
			"is_deferrable varchar, initially_deferred varchar, enforced varchar, nulls_distinct varchar",
			`SELECT {{db}} AS constraint_catalog, n.name AS constraint_schema, k.name AS constraint_name,
			{{db}} AS table_catalog, n.name AS table_schema, r.name AS table_name,
			CASE k.type WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' WHEN 'f' THEN 'FOREIGN KEY' ELSE 'CHECK' END
				AS constraint_type,
			CASE WHEN k.is_deferrable THEN 'YES' ELSE 'NO' END AS is_deferrable, 'NO' AS initially_deferred,
			'YES' AS enforced, CASE WHEN k.type IN ('p', 'u') THEN 'YES' END AS nulls_distinct
			FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel` + relSchemaJoin},
		{"information_schema", "key_column_usage", 13204, "constraint_catalog name, constraint_schema name, " +
			"constraint_name name, table_catalog name, table_schema name, table_name name, column_name name, " +
			"ordinal_position int4, position_in_unique_constraint int4",
			`SELECT {{db}} AS constraint_catalog, n.name AS constraint_schema, k.name AS constraint_name,
			{{db}} AS table_catalog, n.name AS table_schema, r.name AS table_name, a.name AS column_name,
			j.key + 1 AS ordinal_position, CASE WHEN k.type = 'f' THEN j.key + 1 END AS position_in_unique_constraint
			FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel` + relSchemaJoin + `
			JOIN json_each('[' || k.columns || ']') j JOIN _chr2_attributes a ON a.rel = k.rel AND a.num = j.value
			WHERE k.type IN ('p', 'u', 'f')`},
		{"information_schema", "constraint_column_usage", 13205, "table_catalog name, table_schema name, " +
			"table_name name, column_name name, constraint_catalog name, constraint_schema name, constraint_name name",
			`SELECT {{db}} AS table_catalog, tn.name AS table_schema, t.name AS table_name, a.name AS column_name,
			{{db}} AS constraint_catalog, n.name AS constraint_schema, k.name AS constraint_name
			FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel` + relSchemaJoin + `
			JOIN _chr2_relations t ON t.oid = CASE WHEN k.type = 'f' THEN k.ref_rel ELSE k.rel END
			JOIN _chr2_namespaces tn ON tn.oid = t.nsp
			JOIN json_each('[' || CASE WHEN k.type = 'f' THEN k.ref_columns ELSE k.columns END || ']') j
			JOIN _chr2_attributes a ON a.rel = t.oid AND a.num = j.value`},
		{"information_schema", "referential_constraints", 13206, "constraint_catalog name, constraint_schema name, " +
			"constraint_name name, unique_constraint_catalog name, unique_constraint_schema name, " +
			"unique_constraint_name name, match_option varchar, update_rule varchar, delete_rule varchar",
			`SELECT {{db}} AS constraint_catalog, n.name AS constraint_schema, k.name AS constraint_name,
			{{db}} AS unique_constraint_catalog, n.name AS unique_constraint_schema,
			(SELECT u.name FROM _chr2_constraints u WHERE u.rel = k.ref_rel AND u.type IN ('p', 'u')
				AND u.columns = k.ref_columns ORDER BY u.oid LIMIT 1) AS unique_constraint_name,
			'NONE' AS match_option, ` + fkRule("1") + ` AS update_rule, ` + fkRule("2") + ` AS delete_rule
			FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel` + relSchemaJoin + ` WHERE k.type = 'f'`},
		{"information_schema", "check_constraints", 13207, "constraint_catalog name, constraint_schema name, " +
			"constraint_name name, check_clause varchar",
			`SELECT {{db}} AS constraint_catalog, n.name AS constraint_schema, k.name AS constraint_name,
			k.check_expr AS check_clause FROM _chr2_constraints k JOIN _chr2_relations r ON r.oid = k.rel` +
				relSchemaJoin + ` WHERE k.type = 'c'`},
		{"information_schema", "sequences", 13208, "sequence_catalog name, sequence_schema name, sequence_name name, " +
			"data_type varchar, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, " +
			"start_value varchar, minimum_value varchar, maximum_value varchar, increment varchar, cycle_option varchar",
			`SELECT {{db}} AS sequence_catalog, n.name AS sequence_schema, r.name AS sequence_name,
			chr2_info_type(` + seqTypeSQL + `, -1, 'data_type') AS data_type,
			chr2_info_type(` + seqTypeSQL + `, -1, 'numeric_precision') AS numeric_precision, 2 AS numeric_precision_radix,
			0 AS numeric_scale, CAST(s.start_value AS TEXT) AS start_value, CAST(s.min_value AS TEXT) AS minimum_value,
			CAST(s.max_value AS TEXT) AS maximum_value, CAST(s.increment AS TEXT) AS increment,
			CASE WHEN s.cycle THEN 'YES' ELSE 'NO' END AS cycle_option
			FROM _chr2_sequences s JOIN _chr2_relations r ON r.oid = s.oid` + relSchemaJoin},
		{"information_schema", "views", 13209, "table_catalog name, table_schema name, table_name name, " +
			"view_definition varchar, check_option varchar, is_updatable varchar, is_insertable_into varchar, " +
			"is_trigger_updatable varchar, is_trigger_deletable varchar, is_trigger_insertable_into varchar",
			`SELECT {{db}} AS table_catalog, n.name AS table_schema, r.name AS table_name, r.definition AS view_definition,
			'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into, 'NO' AS is_trigger_updatable,
			'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
			FROM _chr2_relations r` + relSchemaJoin + ` WHERE r.kind = 'v'`},
		{"information_schema", "routines", 13210, "specific_catalog name, specific_schema name, specific_name name, " +
			"routine_catalog name, routine_schema name, routine_name name, routine_type varchar, data_type varchar",
			empty("specific_catalog name, specific_schema name, specific_name name, routine_catalog name, " +
				"routine_schema name, routine_name name, routine_type varchar, data_type varchar")},
		{"information_schema", "triggers", 13211, "trigger_catalog name, trigger_schema name, trigger_name name, " +
			"event_manipulation varchar, event_object_catalog name, event_object_schema name, event_object_table name, " +
			"action_order int4, action_condition varchar, action_statement varchar, action_orientation varchar, " +
			"action_timing varchar",
			empty("trigger_catalog name, trigger_schema name, trigger_name name, event_manipulation varchar, " +
				"event_object_catalog name, event_object_schema name, event_object_table name, action_order int4, " +
				"action_condition varchar, action_statement varchar, action_orientation varchar, action_timing varchar")},
	}
}

// fkRule renders confupdtype (pos "1") or confdeltype (pos "2") as the
// standard's rule name.
func fkRule(pos string) string {
	return `CASE substr(k.fk_actions, ` + pos + `, 1) WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
		WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END`
}

const infoColumnsCols = "table_catalog name, table_schema name, table_name name, column_name name, " +
	"ordinal_position int4, column_default varchar, is_nullable varchar, data_type varchar, " +
	"character_maximum_length int4, character_octet_length int4, numeric_precision int4, " +
	"numeric_precision_radix int4, numeric_scale int4, datetime_precision int4, interval_type varchar, " +
	"interval_precision int4, character_set_catalog name, character_set_schema name, character_set_name name, " +
	"collation_catalog name, collation_schema name, collation_name name, domain_catalog name, domain_schema name, " +
	"domain_name name, udt_catalog name, udt_schema name, udt_name name, scope_catalog name, scope_schema name, " +
	"scope_name name, maximum_cardinality int4, dtd_identifier name, is_self_referencing varchar, " +
	"is_identity varchar, identity_generation varchar, identity_start varchar, identity_increment varchar, " +
	"identity_maximum varchar, identity_minimum varchar, identity_cycle varchar, is_generated varchar, " +
	"generation_expression varchar, is_updatable varchar"

const infoColumnsSQL = `SELECT {{db}} AS table_catalog, n.name AS table_schema, r.name AS table_name,
	a.name AS column_name, a.num AS ordinal_position, a.default_pg AS column_default,
	CASE WHEN a.not_null THEN 'NO' ELSE 'YES' END AS is_nullable,
	chr2_info_type(a.type_oid, a.typmod, 'data_type') AS data_type,
	chr2_info_type(a.type_oid, a.typmod, 'character_maximum_length') AS character_maximum_length,
	chr2_info_type(a.type_oid, a.typmod, 'character_octet_length') AS character_octet_length,
	chr2_info_type(a.type_oid, a.typmod, 'numeric_precision') AS numeric_precision,
	chr2_info_type(a.type_oid, a.typmod, 'numeric_precision_radix') AS numeric_precision_radix,
	chr2_info_type(a.type_oid, a.typmod, 'numeric_scale') AS numeric_scale,
	chr2_info_type(a.type_oid, a.typmod, 'datetime_precision') AS datetime_precision,
	NULL AS interval_type, NULL AS interval_precision, NULL AS character_set_catalog, NULL AS character_set_schema,
	NULL AS character_set_name, NULL AS collation_catalog, NULL AS collation_schema, NULL AS collation_name,
	NULL AS domain_catalog, NULL AS domain_schema, NULL AS domain_name, {{db}} AS udt_catalog,
	'pg_catalog' AS udt_schema, chr2_typinfo(a.type_oid, 'name') AS udt_name, NULL AS scope_catalog,
	NULL AS scope_schema, NULL AS scope_name, NULL AS maximum_cardinality, CAST(a.num AS TEXT) AS dtd_identifier,
	'NO' AS is_self_referencing, CASE WHEN a.identity <> '' THEN 'YES' ELSE 'NO' END AS is_identity,
	CASE a.identity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity_generation,
	CASE WHEN a.identity <> '' THEN (SELECT CAST(s.start_value AS TEXT) FROM _chr2_sequences s
		WHERE s.oid = a.default_seq) END AS identity_start,
	CASE WHEN a.identity <> '' THEN (SELECT CAST(s.increment AS TEXT) FROM _chr2_sequences s
		WHERE s.oid = a.default_seq) END AS identity_increment,
	CASE WHEN a.identity <> '' THEN (SELECT CAST(s.max_value AS TEXT) FROM _chr2_sequences s
		WHERE s.oid = a.default_seq) END AS identity_maximum,
	CASE WHEN a.identity <> '' THEN (SELECT CAST(s.min_value AS TEXT) FROM _chr2_sequences s
		WHERE s.oid = a.default_seq) END AS identity_minimum,
	CASE WHEN a.identity <> '' THEN 'NO' END AS identity_cycle, 'NEVER' AS is_generated,
	NULL AS generation_expression, CASE r.kind WHEN 'r' THEN 'YES' ELSE 'NO' END AS is_updatable
	FROM _chr2_attributes a JOIN _chr2_relations r ON r.oid = a.rel` + relSchemaJoin + ` WHERE r.kind IN ('r', 'v')`
