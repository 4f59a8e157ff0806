package catalog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chr2sql/chr2sql/pgval"
)

// FormatVersion identifies the layout of the meta tables below.
const FormatVersion = 3

// Meta keys in _chr2_meta.
const (
	MetaFormat        = "format_version"
	MetaAppliedIndex  = "applied_index"
	MetaAppliedTerm   = "applied_term"
	MetaBlockTime     = "block_time"
	MetaNextOID       = "next_oid"
	MetaSchemaVersion = "schema_version"
)

// Bootstrap returns the statements that create the meta tables in an empty
// state database. Every node runs them identically before applying entries.
func Bootstrap() []string {
	return []string{
		`CREATE TABLE _chr2_meta (key TEXT PRIMARY KEY, value ANY) STRICT`,
		`CREATE TABLE _chr2_namespaces (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT`,
		`CREATE TABLE _chr2_relations (oid INTEGER PRIMARY KEY, nsp INTEGER NOT NULL, name TEXT NOT NULL,
			kind TEXT NOT NULL, sqlite_name TEXT NOT NULL, owned_by INTEGER NOT NULL DEFAULT 0,
			definition TEXT NOT NULL DEFAULT '', UNIQUE (nsp, name)) STRICT`,
		`CREATE TABLE _chr2_attributes (rel INTEGER NOT NULL, num INTEGER NOT NULL, name TEXT NOT NULL,
			type_oid INTEGER NOT NULL, typmod INTEGER NOT NULL, not_null INTEGER NOT NULL,
			default_pg TEXT, default_sql TEXT, default_seq INTEGER NOT NULL DEFAULT 0,
			identity TEXT NOT NULL DEFAULT '', PRIMARY KEY (rel, num)) STRICT`,
		`CREATE TABLE _chr2_indexes (oid INTEGER PRIMARY KEY, rel INTEGER NOT NULL, name TEXT NOT NULL,
			is_unique INTEGER NOT NULL, is_primary INTEGER NOT NULL, columns TEXT NOT NULL,
			definition TEXT NOT NULL, sqlite_name TEXT NOT NULL,
			desc_flags TEXT NOT NULL DEFAULT '', predicate TEXT NOT NULL DEFAULT '', exprs TEXT NOT NULL DEFAULT '') STRICT`,
		`CREATE TABLE _chr2_constraints (oid INTEGER PRIMARY KEY, rel INTEGER NOT NULL, name TEXT NOT NULL,
			type TEXT NOT NULL, columns TEXT NOT NULL, ref_rel INTEGER NOT NULL DEFAULT 0,
			ref_columns TEXT NOT NULL DEFAULT '', definition TEXT NOT NULL, index_oid INTEGER NOT NULL DEFAULT 0,
			check_expr TEXT NOT NULL DEFAULT '', fk_actions TEXT NOT NULL DEFAULT '', is_deferrable INTEGER NOT NULL DEFAULT 0) STRICT`,
		typesTable, enumLabelsTable,
		`CREATE TABLE _chr2_descriptions (objoid INTEGER NOT NULL, classoid INTEGER NOT NULL, objsubid INTEGER NOT NULL,
			description TEXT NOT NULL, PRIMARY KEY (objoid, classoid, objsubid)) STRICT`,
		`CREATE TABLE _chr2_sequences (oid INTEGER PRIMARY KEY, last_value INTEGER NOT NULL,
			is_called INTEGER NOT NULL, increment INTEGER NOT NULL, min_value INTEGER NOT NULL,
			max_value INTEGER NOT NULL, start_value INTEGER NOT NULL, cycle INTEGER NOT NULL) STRICT`,
		fmt.Sprintf(`INSERT INTO _chr2_meta VALUES ('%s', %d), ('%s', 0), ('%s', 0), ('%s', 0), ('%s', %d), ('%s', 1)`,
			MetaFormat, FormatVersion, MetaAppliedIndex, MetaAppliedTerm, MetaBlockTime,
			MetaNextOID, FirstUserOID, MetaSchemaVersion),
		fmt.Sprintf(`INSERT INTO _chr2_namespaces VALUES (%d, 'pg_catalog'), (%d, 'public'), (%d, 'information_schema')`,
			PgCatalogOID, PublicOID, InformationSchemaOID),
	}
}

// Tables added by format 3 (user-defined types).
const (
	typesTable = `CREATE TABLE _chr2_types (oid INTEGER PRIMARY KEY, nsp INTEGER NOT NULL, name TEXT NOT NULL,
			kind TEXT NOT NULL, array_oid INTEGER NOT NULL DEFAULT 0, base_oid INTEGER NOT NULL DEFAULT 0,
			typmod INTEGER NOT NULL DEFAULT -1, not_null INTEGER NOT NULL DEFAULT 0, default_pg TEXT,
			con_oid INTEGER NOT NULL DEFAULT 0, con_name TEXT NOT NULL DEFAULT '', check_expr TEXT NOT NULL DEFAULT '',
			UNIQUE (nsp, name)) STRICT`
	enumLabelsTable = `CREATE TABLE _chr2_enum_labels (oid INTEGER PRIMARY KEY, type_oid INTEGER NOT NULL,
			sortorder REAL NOT NULL, label TEXT NOT NULL, UNIQUE (type_oid, label)) STRICT`
)

// Upgrade returns the statements that bring a state database of format
// from to FormatVersion, or nil when there is no path. Every node runs the
// same statements on the same state, so their states stay identical.
func Upgrade(from int64) []string {
	if from != 2 {
		return nil
	}
	return []string{
		`ALTER TABLE _chr2_indexes ADD COLUMN exprs TEXT NOT NULL DEFAULT ''`,
		typesTable, enumLabelsTable,
		fmt.Sprintf(`UPDATE _chr2_meta SET value = %d WHERE key = '%s'`, FormatVersion, MetaFormat),
	}
}

// FormatIndexExprs renders an index's expression keys as stored in
// _chr2_indexes.exprs: a JSON array aligned with the key columns, null for
// a plain column; "" when there is no expression key.
func FormatIndexExprs(exprs []*IndexExpr) string {
	for _, x := range exprs {
		if x != nil {
			b, err := json.Marshal(exprs)
			if err != nil {
				panic(fmt.Sprintf("catalog: encode index expressions: %v", err))
			}
			return string(b)
		}
	}
	return ""
}

// ParseIndexExprs is the inverse of FormatIndexExprs.
func ParseIndexExprs(s string) ([]*IndexExpr, error) {
	if s == "" {
		return nil, nil
	}
	var out []*IndexExpr
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("corrupt index expressions %q: %w", s, err)
	}
	return out, nil
}

// Querier runs a read-only query and returns all rows as SQLite values.
type Querier interface {
	QueryAll(sql string) ([][]any, error)
}

// Load reads the catalog from the meta tables.
func Load(q Querier) (*Catalog, error) {
	c := &Catalog{
		namespaces: map[string]*Namespace{},
		nspByOID:   map[uint32]*Namespace{},
		relations:  map[uint32]*Relation{},
		byName:     map[qualName]*Relation{},
	}
	steps := []func(Querier) error{c.loadMeta, c.loadNamespaces, c.loadRelations,
		c.loadAttributes, c.loadIndexes, c.loadConstraints, c.loadSequences, c.loadTypes}
	for _, step := range steps {
		if err := step(q); err != nil {
			return nil, fmt.Errorf("catalog: load: %w", err)
		}
	}
	c.addSystemViews()
	return c, nil
}

func (c *Catalog) loadMeta(q Querier) error {
	rows, err := q.QueryAll(`SELECT key, value FROM _chr2_meta WHERE key IN ('next_oid', 'schema_version')`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		switch r[0].(string) {
		case MetaNextOID:
			c.NextOID = uint32(asInt(r[1]))
		case MetaSchemaVersion:
			c.Version = asInt(r[1])
		}
	}
	return nil
}

func (c *Catalog) loadNamespaces(q Querier) error {
	rows, err := q.QueryAll(`SELECT oid, name FROM _chr2_namespaces`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		n := &Namespace{OID: uint32(asInt(r[0])), Name: r[1].(string)}
		c.namespaces[n.Name] = n
		c.nspByOID[n.OID] = n
	}
	return nil
}

func (c *Catalog) loadRelations(q Querier) error {
	rows, err := q.QueryAll(`SELECT oid, nsp, name, kind, sqlite_name, owned_by, definition FROM _chr2_relations`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		nsp, ok := c.nspByOID[uint32(asInt(r[1]))]
		if !ok {
			return fmt.Errorf("relation %v in unknown namespace %v", r[2], r[1])
		}
		rel := &Relation{OID: uint32(asInt(r[0])), Namespace: nsp, Name: r[2].(string),
			Kind: r[3].(string)[0], SQLiteName: r[4].(string), OwnedBy: uint32(asInt(r[5])), Definition: asString(r[6])}
		c.relations[rel.OID] = rel
		c.byName[qualName{nsp.Name, rel.Name}] = rel
	}
	return nil
}

func (c *Catalog) loadAttributes(q Querier) error {
	rows, err := q.QueryAll(`SELECT rel, num, name, type_oid, typmod, not_null, default_pg, default_sql,
		default_seq, identity FROM _chr2_attributes ORDER BY rel, num`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		rel, ok := c.relations[uint32(asInt(r[0]))]
		if !ok {
			return fmt.Errorf("attribute %v of unknown relation %v", r[2], r[0])
		}
		col := &Column{Num: int16(asInt(r[1])), Name: r[2].(string), Type: pgval.OID(asInt(r[3])),
			TypMod: int32(asInt(r[4])), NotNull: asInt(r[5]) != 0, DefaultPG: asString(r[6]),
			DefaultSQL: asString(r[7]), DefaultSeq: uint32(asInt(r[8]))}
		if id := asString(r[9]); id != "" {
			col.Identity = id[0]
		}
		rel.Columns = append(rel.Columns, col)
	}
	return nil
}

func (c *Catalog) loadIndexes(q Querier) error {
	rows, err := q.QueryAll(`SELECT oid, rel, name, is_unique, is_primary, columns, definition, sqlite_name,
		desc_flags, predicate, exprs FROM _chr2_indexes ORDER BY oid`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		rel, ok := c.relations[uint32(asInt(r[1]))]
		if !ok {
			return fmt.Errorf("index %v of unknown relation %v", r[2], r[1])
		}
		exprs, err := ParseIndexExprs(asString(r[10]))
		if err != nil {
			return fmt.Errorf("index %v: %w", r[2], err)
		}
		rel.Indexes = append(rel.Indexes, &Index{OID: uint32(asInt(r[0])), Name: r[2].(string),
			Unique: asInt(r[3]) != 0, Primary: asInt(r[4]) != 0, Columns: ParseAttnums(r[5].(string)),
			Definition: r[6].(string), SQLiteName: r[7].(string), Desc: parseFlags(asString(r[8])),
			Predicate: asString(r[9]), Exprs: exprs})
	}
	return nil
}

func (c *Catalog) loadConstraints(q Querier) error {
	rows, err := q.QueryAll(`SELECT oid, rel, name, type, columns, ref_rel, ref_columns, definition, index_oid,
		check_expr, fk_actions, is_deferrable FROM _chr2_constraints ORDER BY oid`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		rel, ok := c.relations[uint32(asInt(r[1]))]
		if !ok {
			return fmt.Errorf("constraint %v of unknown relation %v", r[2], r[1])
		}
		rel.Constraint = append(rel.Constraint, &Constraint{OID: uint32(asInt(r[0])), Name: r[2].(string),
			Type: r[3].(string)[0], Columns: ParseAttnums(r[4].(string)), RefTable: uint32(asInt(r[5])),
			RefColumns: ParseAttnums(r[6].(string)), Definition: r[7].(string), IndexOID: uint32(asInt(r[8])),
			CheckExpr: asString(r[9]), FKActions: asString(r[10]), Deferrable: asInt(r[11]) != 0})
	}
	return nil
}

func (c *Catalog) loadSequences(q Querier) error {
	rows, err := q.QueryAll(`SELECT oid, increment, min_value, max_value, start_value, cycle FROM _chr2_sequences`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		rel, ok := c.relations[uint32(asInt(r[0]))]
		if !ok {
			return fmt.Errorf("sequence %v without a relation", r[0])
		}
		rel.Sequence = &Sequence{Increment: asInt(r[1]), Min: asInt(r[2]), Max: asInt(r[3]),
			Start: asInt(r[4]), Cycle: asInt(r[5]) != 0}
	}
	return nil
}

// FormatFlags renders per-column flags (index DESC) as "0,1".
func FormatFlags(flags []bool) string {
	if len(flags) == 0 {
		return ""
	}
	parts := make([]string, len(flags))
	for i, f := range flags {
		parts[i] = "0"
		if f {
			parts[i] = "1"
		}
	}
	return strings.Join(parts, ",")
}

func parseFlags(s string) []bool {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]bool, len(parts))
	for i, p := range parts {
		out[i] = p == "1"
	}
	return out
}

// FormatAttnums renders attnums as the comma-separated text stored in meta tables.
func FormatAttnums(nums []int16) string {
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.Itoa(int(n))
	}
	return strings.Join(parts, ",")
}

// ParseAttnums is the inverse of FormatAttnums.
func ParseAttnums(s string) []int16 {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]int16, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			panic(fmt.Sprintf("catalog: corrupt attnum list %q", s))
		}
		out = append(out, int16(n))
	}
	return out
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func asString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
