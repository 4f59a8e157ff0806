package catalog

import (
	"sort"
	"strconv"

	"github.com/chr2sql/chr2sql/pgval"
)

// Well-known namespace OIDs (PostgreSQL's own values).
const (
	PgCatalogOID         uint32 = 11
	PublicOID            uint32 = 2200
	InformationSchemaOID uint32 = 13181
	FirstUserOID         uint32 = 16384
)

// Relation kinds, as in pg_class.relkind.
const (
	KindTable    byte = 'r'
	KindIndex    byte = 'i'
	KindSequence byte = 'S'
	KindView     byte = 'v'
)

// Constraint types, as in pg_constraint.contype.
const (
	ConPrimary byte = 'p'
	ConUnique  byte = 'u'
	ConForeign byte = 'f'
	ConCheck   byte = 'c'
)

// Catalog is an immutable snapshot of the declared schema.
type Catalog struct {
	Version    int64
	NextOID    uint32
	namespaces map[string]*Namespace
	nspByOID   map[uint32]*Namespace
	relations  map[uint32]*Relation
	byName     map[qualName]*Relation
	types      map[uint32]*Type
	typeByName map[qualName]*Type
}

type qualName struct{ nsp, name string }

// Namespace is a schema.
type Namespace struct {
	OID  uint32
	Name string
}

// Relation is a table, index, sequence or view.
type Relation struct {
	OID        uint32
	Namespace  *Namespace
	Name       string
	Kind       byte
	SQLiteName string
	Columns    []*Column // live columns in attnum order
	Indexes    []*Index
	Constraint []*Constraint
	Sequence   *Sequence // for KindSequence
	// OwnedBy is the table OID a serial/identity sequence belongs to.
	OwnedBy uint32
	// Definition is a user view's query as PostgreSQL text (pg_get_viewdef).
	Definition string
	// ViewSQL is set for the emulated system views of pg_catalog and
	// information_schema: the SQLite SELECT the translator inlines.
	ViewSQL string
}

// Column is one attribute of a table.
type Column struct {
	Num     int16
	Name    string
	Type    pgval.OID
	TypMod  int32 // -1 none; varchar(n) → n+4 as PostgreSQL stores it
	NotNull bool
	// DefaultPG is the default as PostgreSQL would print it (pg_get_expr).
	DefaultPG string
	// DefaultSQL is the SQLite expression the translator injects when an
	// INSERT omits the column; empty when there is no default.
	DefaultSQL string
	// DefaultSeq is the OID of the sequence the default draws from, 0 if none.
	DefaultSeq uint32
	Identity   byte // 'a' always, 'd' by default, 0 none
}

// Index is a secondary or constraint index.
type Index struct {
	OID        uint32
	Name       string
	Unique     bool
	Primary    bool
	Columns    []int16 // attnums; 0 for an expression column
	Definition string  // CREATE INDEX text as pg_get_indexdef prints it
	SQLiteName string
	Desc       []bool // per key column: DESC
	Predicate  string // partial index predicate as PostgreSQL text, "" if none
	// Exprs holds, per key column, the expression of an expression key
	// (Columns entry 0); nil when the index has none. See IndexExpr.
	Exprs []*IndexExpr
}

// IndexExpr is one expression key of an index: its PostgreSQL text, the
// name PostgreSQL gives the index column ("lower", "expr", …) and its type.
type IndexExpr struct {
	Text string    `json:"e"`
	Name string    `json:"n"`
	Type pgval.OID `json:"t"`
	// SQL is the SQLite form the index was created with.
	SQL string `json:"s"`
}

// Expr returns the expression of key column i, nil for a plain column.
func (x *Index) Expr(i int) *IndexExpr {
	if i < len(x.Exprs) {
		return x.Exprs[i]
	}
	return nil
}

// Constraint is a table constraint.
type Constraint struct {
	OID        uint32
	Name       string
	Type       byte
	Columns    []int16
	RefTable   uint32
	RefColumns []int16
	Definition string // pg_get_constraintdef text
	IndexOID   uint32
	// CheckExpr is a CHECK constraint's expression as PostgreSQL text.
	CheckExpr string
	// FKActions is a foreign key's ON UPDATE and ON DELETE actions as two
	// pg_constraint codes (confupdtype, confdeltype), e.g. "ac".
	FKActions  string
	Deferrable bool
}

// Sequence holds a sequence's parameters (its value lives in _chr2_sequences).
type Sequence struct {
	Increment, Min, Max, Start int64
	Cycle                      bool
}

// Namespace returns the schema by name.
func (c *Catalog) Namespace(name string) (*Namespace, bool) {
	n, ok := c.namespaces[name]
	return n, ok
}

// NamespaceByOID returns the schema by OID.
func (c *Catalog) NamespaceByOID(oid uint32) (*Namespace, bool) {
	n, ok := c.nspByOID[oid]
	return n, ok
}

// Relation returns the relation by OID.
func (c *Catalog) Relation(oid uint32) (*Relation, bool) {
	r, ok := c.relations[oid]
	return r, ok
}

// Lookup finds a relation by schema-qualified name; an empty schema searches
// searchPath in order.
func (c *Catalog) Lookup(schema, name string, searchPath []string) (*Relation, bool) {
	if schema != "" {
		r, ok := c.byName[qualName{schema, name}]
		return r, ok
	}
	for _, s := range searchPath {
		if r, ok := c.byName[qualName{s, name}]; ok {
			return r, true
		}
	}
	return nil, false
}

// Relations returns all relations ordered by OID.
func (c *Catalog) Relations() []*Relation {
	out := make([]*Relation, 0, len(c.relations))
	for _, r := range c.relations {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out
}

// Namespaces returns all schemas ordered by OID.
func (c *Catalog) Namespaces() []*Namespace {
	out := make([]*Namespace, 0, len(c.namespaces))
	for _, n := range c.namespaces {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out
}

// Column returns the live column with the given name.
func (r *Relation) Column(name string) (*Column, bool) {
	for _, col := range r.Columns {
		if col.Name == name {
			return col, true
		}
	}
	return nil, false
}

// ColumnByNum returns the live column with the given attnum.
func (r *Relation) ColumnByNum(num int16) (*Column, bool) {
	for _, col := range r.Columns {
		if col.Num == num {
			return col, true
		}
	}
	return nil, false
}

// PrimaryKey returns the primary-key constraint, if any.
func (r *Relation) PrimaryKey() *Constraint {
	for _, con := range r.Constraint {
		if con.Type == ConPrimary {
			return con
		}
	}
	return nil
}

// MaxAttnum returns the highest attnum ever assigned (live columns only).
func (r *Relation) MaxAttnum() int16 {
	var m int16
	for _, col := range r.Columns {
		if col.Num > m {
			m = col.Num
		}
	}
	return m
}

// SQLiteName returns the SQLite table name for a relation in a schema.
func SQLiteName(schema, name string) string {
	if schema == "public" {
		return name
	}
	return schema + "." + name
}

// IsSystemSchema reports whether schema is emulated by chr2sql itself.
func IsSystemSchema(schema string) bool {
	return schema == "pg_catalog" || schema == "information_schema"
}

// TypMod returns the stored type modifier for varchar(n)/char(n): n + 4, as
// PostgreSQL stores it; numeric(p, s) → ((p << 16) | s) + 4.
func TypMod(oid pgval.OID, mods []int32) int32 {
	if len(mods) == 0 {
		return -1
	}
	switch oid {
	case pgval.VarcharOID, pgval.BPCharOID:
		return mods[0] + 4
	case pgval.NumericOID:
		scale := int32(0)
		if len(mods) > 1 {
			scale = mods[1]
		}
		return (mods[0]<<16 | scale) + 4
	case pgval.TimestampOID, pgval.TimestamptzOID, pgval.TimeOID:
		return mods[0]
	}
	return -1
}

// FormatType renders a type with its modifier as format_type() does.
func FormatType(oid pgval.OID, typmod int32) string {
	t, ok := pgval.Lookup(oid)
	if !ok {
		return "???"
	}
	name := t.SQLName
	if typmod < 0 {
		return name
	}
	if elem := pgval.ArrayElem(oid); elem != 0 {
		return FormatType(elem, typmod) + "[]" // numeric(5,2)[]
	}
	switch oid {
	case pgval.VarcharOID, pgval.BPCharOID:
		return name + "(" + itoa(int64(typmod-4)) + ")"
	case pgval.NumericOID:
		m := typmod - 4
		return "numeric(" + itoa(int64(m>>16)) + "," + itoa(int64(m&0xffff)) + ")"
	case pgval.TimestampOID:
		return "timestamp(" + itoa(int64(typmod)) + ") without time zone"
	case pgval.TimestamptzOID:
		return "timestamp(" + itoa(int64(typmod)) + ") with time zone"
	}
	return name
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
