package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"
	"sort"
	"strings"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// JSON construction with PostgreSQL's exact output. json values keep
// PostgreSQL's spacing ({"k" : 1} from json_build_object, {"k":1} from
// row_to_json, ", \n " between structured json_agg elements); jsonb values
// are normalised. Style argument: 0 = json, 1 = jsonb.

func jsonFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_to_json":     {2, toJSON},
		"chr2_json_row":    {-1, jsonRow},
		"chr2_json_build":  {-1, jsonBuild},
		"chr2_record_text": {-1, recordText},
		"chr2_json_items":  {3, jsonItems},
	}
}

// quoteJSON renders s as a JSON string as PostgreSQL's escape_json does
// (no HTML escaping).
func quoteJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ToJSON renders a storage value of type oid as JSON text, as to_json does.
func ToJSON(v any, oid pgval.OID) (string, error) {
	if v == nil {
		return "null", nil
	}
	switch {
	case oid == pgval.JSONOID || oid == pgval.JSONBOID:
		return fmt.Sprint(v), nil
	case oid == pgval.BoolOID:
		if asInt(v) != 0 {
			return "true", nil
		}
		return "false", nil
	case oid == pgval.Float8OID || oid == pgval.Float4OID:
		f := asFloat(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return quoteJSON(string(pgval.AppendFloat(nil, f, 64))), nil
		}
		bits := 64
		if oid == pgval.Float4OID {
			bits = 32
		}
		return string(pgval.AppendFloat(nil, f, bits)), nil
	case sqltype.IsNumeric(oid):
		s := fmt.Sprint(v)
		if s == "NaN" || strings.Contains(s, "Infinity") {
			return quoteJSON(s), nil
		}
		return s, nil
	case oid == pgval.TimestamptzOID || oid == pgval.TimestampOID:
		t, err := parseStoredTime(v)
		if err != nil {
			return "", err
		}
		layout := "2006-01-02T15:04:05.999999"
		if oid == pgval.TimestamptzOID {
			layout += "-07:00"
		}
		return quoteJSON(t.UTC().Format(layout)), nil
	case pgval.ArrayElem(oid) != 0:
		return arrayToJSON(v, oid)
	}
	text, err := castText(v, oid)
	if err != nil {
		return "", err
	}
	return quoteJSON(text), nil
}

// arrayToJSON renders an array as JSON arrays nested per dimension.
func arrayToJSON(v any, oid pgval.OID) (string, error) {
	elem := pgval.ArrayElem(oid)
	arr, err := loadArray(v, elem)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(arr.items))
	for i, it := range arr.items {
		if parts[i], err = ToJSON(it, elem); err != nil {
			return "", err
		}
	}
	for d := len(arr.dims) - 1; d > 0; d-- {
		n := arr.dims[d]
		rows := make([]string, 0, len(parts)/n)
		for i := 0; i < len(parts); i += n {
			rows = append(rows, "["+strings.Join(parts[i:i+n], ",")+"]")
		}
		parts = rows
	}
	return "[" + strings.Join(parts, ",") + "]", nil
}

func toJSON(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	s, err := ToJSON(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

// normalizeJSONB turns JSON text into jsonb's normal form.
func normalizeJSONB(s string) (string, error) {
	out, err := pgval.NormalizeJSONB(s)
	if err != nil {
		return "", FromPG(err)
	}
	return out, nil
}

// jsonRow is a row as a JSON object: (style, key, json, key, json, …).
func jsonRow(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i := 1; i+1 < len(a); i += 2 {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(quoteJSON(fmt.Sprint(a[i])) + ":" + jsonText(a[i+1]))
	}
	b.WriteByte('}')
	if asInt(a[0]) == 1 {
		return normalizeJSONB(b.String())
	}
	return b.String(), nil
}

func jsonText(v driver.Value) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(v)
}

// jsonBuild is json[b]_build_object ('o') and json[b]_build_array ('a'):
// (kind, style, values…) where values are JSON texts, object keys plain text.
func jsonBuild(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	kind, style := fmt.Sprint(a[0]), asInt(a[1])
	vals := a[2:]
	if kind == "n" { // normalise one JSON value (to_jsonb)
		if len(vals) != 1 || vals[0] == nil {
			return nil, nil
		}
		return normalizeJSONB(fmt.Sprint(vals[0]))
	}
	var b strings.Builder
	if kind == "a" {
		b.WriteByte('[')
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(jsonText(v))
		}
		b.WriteByte(']')
	} else {
		if len(vals)%2 != 0 {
			return nil, Error(pgerr.InvalidParameterValue, "argument list must have even number of elements")
		}
		b.WriteByte('{')
		for i := 0; i+1 < len(vals); i += 2 {
			if vals[i] == nil {
				return nil, Error(pgerr.NullValueNotAllowed, "null value not allowed for object key")
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteJSON(fmt.Sprint(vals[i])) + " : " + jsonText(vals[i+1]))
		}
		b.WriteByte('}')
	}
	if style == 1 {
		return normalizeJSONB(b.String())
	}
	return b.String(), nil
}

// recordText renders a row's values (already text) as PostgreSQL's record
// output: (1,"x y",).
func recordText(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if v == nil {
			continue
		}
		s := fmt.Sprint(v)
		if s == "" || strings.ContainsAny(s, "\"\\(), \t\n\r\v\f") {
			b.WriteByte('"')
			for _, r := range s {
				if r == '"' || r == '\\' {
					b.WriteRune(r)
				}
				b.WriteRune(r)
			}
			b.WriteByte('"')
			continue
		}
		b.WriteString(s)
	}
	b.WriteByte(')')
	return b.String(), nil
}

// jsonAgg is json_agg / jsonb_agg over JSON texts.
type jsonAgg struct {
	items []string
	style int64
}

func (g *jsonAgg) Step(_ *sqlite.FunctionContext, a []driver.Value) error {
	g.style = asInt(a[1])
	g.items = append(g.items, jsonText(a[0]))
	return nil
}

func (g *jsonAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	if len(g.items) > 0 {
		g.items = g.items[1:]
	}
	return nil
}

func (g *jsonAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if len(g.items) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range g.items {
		if i > 0 {
			b.WriteString(", ")
			// PostgreSQL's json_agg breaks the line before an element whose
			// SQL type is a row or an array — not before json objects.
			if g.style == 2 {
				b.WriteString("\n ")
			}
		}
		b.WriteString(it)
	}
	b.WriteByte(']')
	if g.style == 1 {
		return normalizeJSONB(b.String())
	}
	return b.String(), nil
}

func (g *jsonAgg) Final(*sqlite.FunctionContext) {}

// jsonObjectAgg is json_object_agg / jsonb_object_agg.
type jsonObjectAgg struct {
	keys, vals []string
	style      int64
}

func (g *jsonObjectAgg) Step(_ *sqlite.FunctionContext, a []driver.Value) error {
	if a[0] == nil {
		return Error(pgerr.NullValueNotAllowed, "field name must not be null")
	}
	g.style = asInt(a[2])
	g.keys = append(g.keys, fmt.Sprint(a[0]))
	g.vals = append(g.vals, jsonText(a[1]))
	return nil
}

func (g *jsonObjectAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	if len(g.keys) > 0 {
		g.keys, g.vals = g.keys[1:], g.vals[1:]
	}
	return nil
}

func (g *jsonObjectAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if len(g.keys) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("{ ")
	for i := range g.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteJSON(g.keys[i]) + " : " + g.vals[i])
	}
	b.WriteString(" }")
	if g.style == 1 {
		return normalizeJSONB(b.String())
	}
	return b.String(), nil
}

func (g *jsonObjectAgg) Final(*sqlite.FunctionContext) {}

// jsonItems lists the parts of a JSON document as a JSON array, for
// json_each: array elements (as JSON, or as text), object keys, or
// [key, value] pairs. Values keep their exact numbers.
func jsonItems(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return "[]", nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	mode := fmt.Sprint(a[1])
	var out []any
	switch mode {
	case "array_elements", "array_elements_text":
		arr, ok := doc.([]any)
		if !ok {
			return nil, Error(pgerr.InvalidParameterValue, "cannot extract elements from %s", jsonKind(doc))
		}
		for _, el := range arr {
			v, err := jsonItem(el, mode == "array_elements_text")
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case "object_keys", "each", "each_text":
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, Error(pgerr.InvalidParameterValue, "cannot call %s on %s", "json_"+mode, jsonKind(doc))
		}
		for _, k := range sortedKeys(obj) {
			if mode == "object_keys" {
				out = append(out, k)
				continue
			}
			v, err := jsonItem(obj[k], mode == "each_text")
			if err != nil {
				return nil, err
			}
			out = append(out, []any{k, v})
		}
	default:
		return nil, Error(pgerr.InternalError, "chr2_json_items: unknown mode %q", mode)
	}
	if out == nil {
		return "[]", nil
	}
	return encodeJSONB(out)
}

// jsonItem renders one JSON value as the text json_each should yield: its
// JSON text, or (asText) its text form with JSON null as SQL NULL.
func jsonItem(v any, asText bool) (any, error) {
	if asText {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case string:
			return x, nil
		}
	}
	s, err := encodeJSONB(v)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a scalar"
}

// sortedKeys orders object keys as jsonb stores them: shorter first, then
// bytewise.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}

// stringAggDistinct is string_agg(DISTINCT v, d [ORDER BY …]): SQLite's
// group_concat takes DISTINCT with one argument only. Rows arrive in the
// aggregate's ORDER BY order; a (value, delimiter) pair already seen is
// skipped, as PostgreSQL's DISTINCT applies to all the arguments.
type stringAggDistinct struct {
	seen map[[2]string]bool
	b    strings.Builder
	any  bool
}

func (g *stringAggDistinct) Step(_ *sqlite.FunctionContext, a []driver.Value) error {
	if a[0] == nil {
		return nil
	}
	v, d := fmt.Sprint(a[0]), ""
	if a[1] != nil {
		d = fmt.Sprint(a[1])
	}
	key := [2]string{v, d}
	if g.seen == nil {
		g.seen = map[[2]string]bool{}
	}
	if g.seen[key] {
		return nil
	}
	g.seen[key] = true
	if g.any {
		g.b.WriteString(d)
	}
	g.b.WriteString(v)
	g.any = true
	return nil
}

func (g *stringAggDistinct) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return Error(pgerr.FeatureNotSupported, "DISTINCT is not implemented for window functions")
}

func (g *stringAggDistinct) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if !g.any {
		return nil, nil
	}
	return g.b.String(), nil
}

func (g *stringAggDistinct) Final(*sqlite.FunctionContext) {}
