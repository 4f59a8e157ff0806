package funcs

import (
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Functions behind the emulated pg_catalog and information_schema views.
// They read only the static type table of the value model.

func catalogFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_typinfo":          {2, typInfo},
		"chr2_info_type":        {3, infoType},
		"chr2_csv_map":          {2, csvMap},
		"chr2_format_type":      {2, formatType},
		"chr2_unique_violation": {-1, uniqueViolation},
		"chr2_index_column":     {2, indexColumn},
		"chr2_row_violation":    {-1, rowViolation},
	}
}

// uniqueViolation raises 23505 naming the conflicting key:
// (constraint, table, "col, col", value, type OID, value, type OID, …).
func uniqueViolation(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) < 3 {
		return nil, Error(pgerr.InternalError, "chr2_unique_violation: too few arguments")
	}
	name, table, cols := fmt.Sprint(a[0]), fmt.Sprint(a[1]), fmt.Sprint(a[2])
	vals := make([]string, 0, (len(a)-3)/2)
	for i := 3; i+1 < len(a); i += 2 {
		if a[i] == nil {
			vals = append(vals, "null")
			continue
		}
		s, err := castText(a[i], pgval.OID(asInt(a[i+1])))
		if err != nil {
			return nil, FromPG(err)
		}
		vals = append(vals, s)
	}
	pe := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint %q", name).
		WithDetail("Key (%s)=(%s) already exists.", cols, strings.Join(vals, ", ")).WithConstraint(table, name)
	return nil, FromPG(pe)
}

// typInfo returns one pg_type attribute of a type the value model knows.
func typInfo(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	oid := pgval.OID(asInt(a[0]))
	t, ok := pgval.Lookup(oid)
	field := fmt.Sprint(a[1])
	if !ok {
		if field == "name" {
			return "???", nil
		}
		return nil, nil
	}
	switch field {
	case "name":
		return t.Name, nil
	case "len":
		return int64(t.Len), nil
	case "byval":
		return boolInt(t.Len > 0 && t.Len <= 8), nil
	case "align":
		return typAlign(t), nil
	case "storage":
		if oid == pgval.NumericOID {
			return "m", nil
		}
		if t.Len > 0 {
			return "p", nil
		}
		return "x", nil
	case "collation":
		if t.Category == 'S' && oid != pgval.NameOID || oid == pgval.NameOID {
			if oid == pgval.NameOID {
				return int64(950), nil
			}
			return int64(100), nil
		}
		return int64(0), nil
	case "elem":
		return int64(t.Elem), nil
	case "array":
		return int64(t.Array), nil
	case "category":
		return string(t.Category), nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unknown type attribute %q", field)
}

func typAlign(t *pgval.TypeInfo) string {
	switch {
	case t.Len == 8 || t.Category == 'A' || t.Category == 'D' && t.Len != 4 || t.Category == 'T':
		return "d"
	case t.Len == 2:
		return "s"
	case t.Len == 1 || t.Len == -2 || t.Len == 64:
		return "c"
	}
	return "i"
}

// infoType returns one information_schema.columns attribute of a column
// type: data_type, character_maximum_length, numeric_precision, …
func infoType(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	oid := pgval.OID(asInt(a[0]))
	mod := int32(-1)
	if a[1] != nil {
		mod = int32(asInt(a[1]))
	}
	return InfoSchemaAttr(oid, mod, fmt.Sprint(a[2])), nil
}

// InfoSchemaAttr computes information_schema's description of a type.
func InfoSchemaAttr(oid pgval.OID, mod int32, field string) any {
	t, known := pgval.Lookup(oid)
	switch field {
	case "data_type":
		switch {
		case !known:
			return "USER-DEFINED"
		case t.Category == 'A' && oid != pgval.Int2VectorOID && oid != pgval.OIDVectorOID:
			return "ARRAY"
		}
		return catalog.FormatType(oid, -1)
	case "character_maximum_length", "character_octet_length":
		if (oid == pgval.VarcharOID || oid == pgval.BPCharOID) && mod > 4 {
			if field == "character_octet_length" {
				return int64(mod-4) * 4
			}
			return int64(mod - 4)
		}
		if field == "character_octet_length" && (oid == pgval.TextOID || oid == pgval.VarcharOID || oid == pgval.BPCharOID) {
			return int64(1073741824)
		}
		return nil
	case "numeric_precision", "numeric_precision_radix", "numeric_scale":
		return numericInfo(oid, mod, field)
	case "datetime_precision":
		switch oid {
		case pgval.DateOID:
			return int64(0)
		case pgval.TimestampOID, pgval.TimestamptzOID, pgval.TimeOID, pgval.TimetzOID, pgval.IntervalOID:
			if mod >= 0 {
				return int64(mod)
			}
			return int64(6)
		}
		return nil
	}
	return nil
}

func numericInfo(oid pgval.OID, mod int32, field string) any {
	var prec, radix, scale any
	switch oid {
	case pgval.Int2OID:
		prec, radix, scale = int64(16), int64(2), int64(0)
	case pgval.Int4OID:
		prec, radix, scale = int64(32), int64(2), int64(0)
	case pgval.Int8OID:
		prec, radix, scale = int64(64), int64(2), int64(0)
	case pgval.Float4OID:
		prec, radix = int64(24), int64(2)
	case pgval.Float8OID:
		prec, radix = int64(53), int64(2)
	case pgval.NumericOID:
		radix = int64(10)
		if mod > 4 {
			prec, scale = int64((mod-4)>>16), int64((mod-4)&0xffff)
		}
	}
	switch field {
	case "numeric_precision":
		return prec
	case "numeric_precision_radix":
		return radix
	}
	return scale
}

// csvMap re-renders a stored comma-separated attnum list: "vector" as
// int2vector text, "array" as an int2[] literal, "zeros" as an oidvector of
// zeros, "indoption" turns DESC flags into pg_index.indoption values.
func csvMap(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	s := fmt.Sprint(a[0])
	mode := fmt.Sprint(a[1])
	if s == "" {
		switch mode {
		case "array":
			return nil, nil
		case "indoption":
			return "0", nil
		}
		return "", nil
	}
	parts := strings.Split(s, ",")
	switch mode {
	case "vector":
		return strings.Join(parts, " "), nil
	case "array":
		return "{" + s + "}", nil
	case "zeros":
		for i := range parts {
			parts[i] = "0"
		}
		return strings.Join(parts, " "), nil
	case "indoption":
		for i, p := range parts {
			if p == "1" {
				parts[i] = "3" // INDOPTION_DESC | INDOPTION_NULLS_FIRST
			} else {
				parts[i] = "0"
			}
		}
		return strings.Join(parts, " "), nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unknown csv mode %q", mode)
}

// formatType is format_type(oid, typmod).
func formatType(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	mod := int32(-1)
	if a[1] != nil {
		mod = int32(asInt(a[1]))
	}
	return catalog.FormatType(pgval.OID(asInt(a[0])), mod), nil
}

// indexColumn is pg_get_indexdef(index, n, …) for n > 0: the n-th key of
// the stored CREATE INDEX text ("… USING btree (a, lower(b) DESC) WHERE …"),
// without its ordering options, or NULL past the last key.
func indexColumn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	keys := indexKeys(fmt.Sprint(a[0]))
	n := asInt(a[1])
	if n < 1 || n > int64(len(keys)) {
		return nil, nil
	}
	key := keys[n-1]
	for _, opt := range []string{" NULLS FIRST", " NULLS LAST", " DESC", " ASC"} {
		key = strings.TrimSuffix(key, opt)
	}
	return key, nil
}

// indexKeys splits the parenthesised key list of a CREATE INDEX text at
// its top-level commas.
func indexKeys(def string) []string {
	i := strings.Index(def, " USING ")
	if i < 0 {
		return nil
	}
	open := strings.IndexByte(def[i:], '(')
	if open < 0 {
		return nil
	}
	var keys []string
	depth, start, quoted := 0, i+open+1, byte(0)
	for j := start; j < len(def); j++ {
		c := def[j]
		switch {
		case quoted != 0:
			if c == quoted {
				quoted = 0
			}
		case c == '\'' || c == '"':
			quoted = c
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ')' || c == ',' && depth == 0:
			keys = append(keys, strings.TrimSpace(def[start:j]))
			if c == ')' {
				return keys
			}
			start = j + 1
		}
	}
	return nil
}

// RowViolationMarker starts the DETAIL of an error chr2_row_violation
// raises: "<marker><kind>:<relation OID>:<attnum or constraint OID>:<JSON
// array of the row's storage values, blobs as {"x": hex}>". The engine
// replaces it with PostgreSQL's message and "Failing row contains (…)"
// from its catalog (RowViolation).
const RowViolationMarker = "\x02row:" // no NUL: SQLite error texts are C strings

// rowViolation raises the NOT NULL (kind 'n') or CHECK (kind 'c')
// violation of a row: (kind, relation OID, attnum or constraint OID,
// values…).
func rowViolation(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) < 3 {
		return nil, Error(pgerr.InternalError, "chr2_row_violation: too few arguments")
	}
	kind := fmt.Sprint(a[0])
	values := make([]any, 0, len(a)-3)
	for _, v := range a[3:] {
		if b, ok := v.([]byte); ok {
			v = map[string]string{"x": hex.EncodeToString(b)}
		}
		values = append(values, v)
	}
	row, err := json.Marshal(values)
	if err != nil {
		return nil, Error(pgerr.InternalError, "chr2_row_violation: %v", err)
	}
	code, msg := pgerr.CheckViolation, "new row violates check constraint"
	if kind == "n" {
		code, msg = pgerr.NotNullViolation, "null value violates not-null constraint"
	}
	pe := pgerr.New(code, "%s", msg).WithDetail("%s%s:%d:%d:%s", RowViolationMarker, kind, asInt(a[1]), asInt(a[2]), row)
	return nil, FromPG(pe)
}
