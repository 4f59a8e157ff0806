package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// typeAliases maps SQL spellings to pg_type names.
var typeAliases = map[string]string{
	"integer": "int4", "int": "int4", "smallint": "int2", "bigint": "int8",
	"real": "float4", "float": "float8", "double precision": "float8",
	"boolean": "bool", "decimal": "numeric",
	"character varying": "varchar", "character": "bpchar", "char": "bpchar",
	"timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
	"time without time zone": "time", "time with time zone": "timetz",
}

// resolveTypeName returns the OID and stored typmod of a declared type.
func (t *translator) resolveTypeName(tn *pg.TypeName) (pgval.OID, int32, error) {
	if tn.Setof || tn.PctType {
		return 0, -1, pgerr.Unsupported("SETOF and %TYPE")
	}
	nm := names(tn.Names)
	name := nm[len(nm)-1]
	if oid, ok, err := t.resolveUserType(tn, nm); ok || err != nil {
		return oid, -1, err
	}
	if len(nm) > 1 && nm[0] != "pg_catalog" {
		return 0, -1, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", joinDot(nm))
	}
	if alias, ok := typeAliases[name]; ok {
		name = alias
	}
	// pg_query reports "char" (quoted) as pg_catalog.char and char(n) as bpchar.
	if len(nm) > 1 && nm[len(nm)-1] == "char" {
		name = "char"
	}
	if name == "float8" && len(tn.Typmods) == 1 {
		if p, ok := intConst(tn.Typmods[0]); ok && p <= 24 {
			name = "float4"
		}
	}
	ti, ok := pgval.LookupName(name)
	if !ok {
		return 0, -1, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", name).WithPosition(tn.Location + 1)
	}
	oid := ti.OID
	if oid == pgval.TimetzOID {
		// Values would be stored as written: neither PostgreSQL's output
		// form ('10:00:00+02') nor its order (by UTC time) would hold.
		return 0, -1, pgerr.Unsupported("type time with time zone (use timestamptz, or time and a separate zone)").
			WithPosition(tn.Location + 1)
	}
	mods := make([]int32, 0, len(tn.Typmods))
	for _, m := range tn.Typmods {
		v, ok := intConst(m)
		if !ok {
			return 0, -1, pgerr.New(pgerr.SyntaxError, "type modifiers must be simple constants or identifiers")
		}
		mods = append(mods, int32(v))
	}
	if name == "bpchar" && len(mods) == 0 && len(nm) == 1 && (nm[0] == "bpchar" || nm[0] == "char" || nm[0] == "character") {
		mods = []int32{1}
	}
	if err := checkTypmods(oid, mods); err != nil {
		return 0, -1, err
	}
	mod := catalog.TypMod(oid, mods)
	if len(tn.ArrayBounds) > 0 {
		if ti.Array == 0 {
			return 0, -1, pgerr.Unsupported("arrays of type " + ti.SQLName)
		}
		return ti.Array, mod, nil // an array's typmod is its elements' (numeric(5,2)[])
	}
	return oid, mod, nil
}

func checkTypmods(oid pgval.OID, mods []int32) error {
	if len(mods) == 0 {
		return nil
	}
	switch oid {
	case pgval.VarcharOID, pgval.BPCharOID:
		if len(mods) != 1 || mods[0] < 1 {
			return pgerr.New(pgerr.InvalidParameterValue, "length for type %s must be at least 1", typeSQLName(oid))
		}
	case pgval.NumericOID:
		if len(mods) > 2 || mods[0] < 1 || mods[0] > 1000 {
			return pgerr.New(pgerr.InvalidParameterValue, "NUMERIC precision %d must be between 1 and 1000", mods[0])
		}
	case pgval.TimestampOID, pgval.TimestamptzOID, pgval.TimeOID:
		if len(mods) != 1 || mods[0] < 0 || mods[0] > 6 {
			return pgerr.New(pgerr.InvalidParameterValue, "timestamp precision must be between 0 and 6")
		}
	default:
		return pgerr.New(pgerr.SyntaxError, "type modifier is not allowed for type %q", typeSQLName(oid))
	}
	return nil
}

func intConst(n *pg.Node) (int64, bool) {
	if n == nil {
		return 0, false
	}
	c, ok := n.Node.(*pg.Node_AConst)
	if !ok {
		return 0, false
	}
	iv, ok := c.AConst.Val.(*pg.A_Const_Ival)
	if !ok {
		return 0, false
	}
	return int64(iv.Ival.Ival), true
}

func joinDot(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "."
		}
		out += p
	}
	return out
}
