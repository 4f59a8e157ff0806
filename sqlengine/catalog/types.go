package catalog

import (
	"fmt"
	"sort"

	"github.com/chr2sql/chr2sql/pgval"
)

// User-defined types, as in pg_type.typtype.
const (
	TypeEnum   byte = 'e'
	TypeDomain byte = 'd'
)

// Type is a user-defined type: an enum (its labels in _chr2_enum_labels)
// or a domain over a built-in type. Values of both are stored in the form
// of their base type (an enum's label as TEXT).
type Type struct {
	OID       uint32
	Namespace *Namespace
	Name      string
	Kind      byte
	ArrayOID  uint32
	Labels    []EnumLabel // enum: in sort order
	// Domain: the base type, its modifier, NOT NULL, DEFAULT and the one
	// CHECK constraint chr2sql supports.
	Base      pgval.OID
	TypMod    int32
	NotNull   bool
	DefaultPG string
	ConOID    uint32
	ConName   string
	CheckExpr string
}

// EnumLabel is one value of an enum, as in pg_enum.
type EnumLabel struct {
	OID       uint32
	SortOrder float64
	Label     string
}

// Type returns the user-defined type with the given OID.
func (c *Catalog) Type(oid uint32) (*Type, bool) {
	t, ok := c.types[oid]
	return t, ok
}

// LookupType finds a user-defined type by schema-qualified name; an empty
// schema searches searchPath in order.
func (c *Catalog) LookupType(schema, name string, searchPath []string) (*Type, bool) {
	if schema != "" {
		t, ok := c.typeByName[qualName{schema, name}]
		return t, ok
	}
	for _, s := range searchPath {
		if t, ok := c.typeByName[qualName{s, name}]; ok {
			return t, true
		}
	}
	return nil, false
}

// Types returns the user-defined types ordered by OID.
func (c *Catalog) Types() []*Type {
	out := make([]*Type, 0, len(c.types))
	for _, t := range c.types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OID < out[j].OID })
	return out
}

// Label returns the enum label with the given text.
func (t *Type) Label(s string) (EnumLabel, int, bool) {
	for i, l := range t.Labels {
		if l.Label == s {
			return l, i, true
		}
	}
	return EnumLabel{}, -1, false
}

func (c *Catalog) loadTypes(q Querier) error {
	c.types, c.typeByName = map[uint32]*Type{}, map[qualName]*Type{}
	rows, err := q.QueryAll(`SELECT oid, nsp, name, kind, array_oid, base_oid, typmod, not_null, default_pg,
		con_oid, con_name, check_expr FROM _chr2_types`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		nsp, ok := c.nspByOID[uint32(asInt(r[1]))]
		if !ok {
			return fmt.Errorf("type %v in unknown namespace %v", r[2], r[1])
		}
		t := &Type{OID: uint32(asInt(r[0])), Namespace: nsp, Name: r[2].(string), Kind: r[3].(string)[0],
			ArrayOID: uint32(asInt(r[4])), Base: pgval.OID(asInt(r[5])), TypMod: int32(asInt(r[6])),
			NotNull: asInt(r[7]) != 0, DefaultPG: asString(r[8]), ConOID: uint32(asInt(r[9])),
			ConName: asString(r[10]), CheckExpr: asString(r[11])}
		c.types[t.OID] = t
		c.typeByName[qualName{nsp.Name, t.Name}] = t
	}
	labels, err := q.QueryAll(`SELECT oid, type_oid, sortorder, label FROM _chr2_enum_labels ORDER BY type_oid, sortorder`)
	if err != nil {
		return err
	}
	for _, r := range labels {
		t, ok := c.types[uint32(asInt(r[1]))]
		if !ok {
			return fmt.Errorf("enum label %v of unknown type %v", r[3], r[1])
		}
		t.Labels = append(t.Labels, EnumLabel{OID: uint32(asInt(r[0])), SortOrder: asFloat(r[2]), Label: r[3].(string)})
	}
	return nil
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}
