package funcs

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// jsonb operators and modification functions. Documents are decoded with
// exact numbers (json.Number) and re-encoded in jsonb's normal form.

func jsonOpFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_jsonb_exists":      {3, jsonbExists},
		"chr2_jsonb_delete":      {3, jsonbDelete},
		"chr2_jsonb_delete_path": {2, jsonbDeletePath},
		"chr2_jsonb_set":         {5, jsonbSet},
		"chr2_jsonb_strip_nulls": {1, jsonbStripNulls},
		"chr2_jsonb_pretty":      {1, jsonbPretty},
		"chr2_json_array_length": {1, jsonArrayLength},
		"chr2_jsonb_cmp":         {2, jsonbCmp},
	}
}

func textArray(v driver.Value) ([]string, error) {
	pv, err := pgval.Parse(pgval.TextArrayOID, fmt.Sprint(v), time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	items, _ := pv.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it != nil {
			out = append(out, fmt.Sprint(it))
		}
	}
	return out, nil
}

func jsonOut(v any) (driver.Value, error) {
	s, err := encodeJSONB(v)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return s, nil
}

// hasKey is jsonb ?: an object key, or a string element of an array.
func hasKey(doc any, key string) bool {
	switch x := doc.(type) {
	case map[string]any:
		_, ok := x[key]
		return ok
	case []any:
		for _, el := range x {
			if s, ok := el.(string); ok && s == key {
				return true
			}
		}
	case string:
		return x == key
	}
	return false
}

// jsonbExists is ? (mode "one"), ?| ("any") and ?& ("all").
func jsonbExists(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	mode := fmt.Sprint(a[2])
	if mode == "one" {
		return boolInt(hasKey(doc, fmt.Sprint(a[1]))), nil
	}
	keys, err := textArray(a[1])
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		has := hasKey(doc, k)
		if mode == "any" && has {
			return int64(1), nil
		}
		if mode == "all" && !has {
			return int64(0), nil
		}
	}
	return boolInt(mode == "all"), nil
}

// jsonbDelete is jsonb - text, - int and - text[].
func jsonbDelete(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	switch fmt.Sprint(a[2]) {
	case "idx":
		arr, ok := doc.([]any)
		if !ok {
			return nil, Error(pgerr.InvalidParameterValue, "cannot delete from %s using integer index", jsonKind(doc))
		}
		i := int(asInt(a[1]))
		if i < 0 {
			i += len(arr)
		}
		if i >= 0 && i < len(arr) {
			arr = append(arr[:i:i], arr[i+1:]...)
		}
		return jsonOut(arr)
	case "keys":
		keys, err := textArray(a[1])
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			doc = deleteKey(doc, k)
		}
		return jsonOut(doc)
	}
	return jsonOut(deleteKey(doc, fmt.Sprint(a[1])))
}

func deleteKey(doc any, key string) any {
	switch x := doc.(type) {
	case map[string]any:
		delete(x, key)
		return x
	case []any:
		out := x[:0:0]
		for _, el := range x {
			if s, ok := el.(string); ok && s == key {
				continue
			}
			out = append(out, el)
		}
		return out
	}
	return doc
}

// jsonbDeletePath is #-.
func jsonbDeletePath(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	path, err := textArray(a[1])
	if err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return jsonOut(doc)
	}
	parent := doc
	for _, p := range path[:len(path)-1] {
		next, ok := jsonStep(parent, p)
		if !ok {
			return jsonOut(doc)
		}
		parent = next
	}
	last := path[len(path)-1]
	switch x := parent.(type) {
	case map[string]any:
		delete(x, last)
	case []any:
		i, err := strconv.Atoi(last)
		if err == nil {
			if i < 0 {
				i += len(x)
			}
			if i >= 0 && i < len(x) {
				replaceIn(doc, path[:len(path)-1], append(x[:i:i], x[i+1:]...))
			}
		}
	}
	return jsonOut(doc)
}

// replaceIn sets the value at path (which must exist) in doc.
func replaceIn(doc any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	switch x := doc.(type) {
	case map[string]any:
		x[path[0]] = replaceIn(x[path[0]], path[1:], v)
		return x
	case []any:
		i, _ := strconv.Atoi(path[0])
		if i < 0 {
			i += len(x)
		}
		if i >= 0 && i < len(x) {
			x[i] = replaceIn(x[i], path[1:], v)
		}
		return x
	}
	return doc
}

// jsonbSet is jsonb_set (insert 0) and jsonb_insert (insert 1 before, 2
// after): (doc, path, value, create_missing, insert).
func jsonbSet(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	path, err := textArray(a[1])
	if err != nil {
		return nil, err
	}
	val, err := decodeJSON(a[2])
	if err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return jsonOut(doc)
	}
	create, insert := a[3] == nil || asInt(a[3]) != 0, asInt(a[4])
	out, err := setPath(doc, path, val, create, insert)
	if err != nil {
		return nil, err
	}
	return jsonOut(out)
}

func setPath(doc any, path []string, val any, create bool, insert int64) (any, error) {
	key := path[0]
	switch x := doc.(type) {
	case map[string]any:
		if len(path) == 1 {
			if _, exists := x[key]; exists && insert != 0 {
				return nil, Error(pgerr.InvalidParameterValue, "cannot replace existing key")
			}
			if _, exists := x[key]; exists || create || insert != 0 {
				x[key] = val
			}
			return x, nil
		}
		child, ok := x[key]
		if !ok {
			return x, nil
		}
		c, err := setPath(child, path[1:], val, create, insert)
		x[key] = c
		return x, err
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil {
			return nil, Error(pgerr.InvalidTextRepresentation, "path element is not an integer: %q", key)
		}
		if i < 0 {
			i += len(x)
		}
		if len(path) > 1 {
			if i >= 0 && i < len(x) {
				c, err := setPath(x[i], path[1:], val, create, insert)
				x[i] = c
				return x, err
			}
			return x, nil
		}
		return setArrayElement(x, i, val, create, insert), nil
	}
	return doc, nil
}

func setArrayElement(x []any, i int, val any, create bool, insert int64) []any {
	switch {
	case insert != 0:
		if insert == 2 {
			i++
		}
		i = max(0, min(i, len(x)))
		return append(x[:i:i], append([]any{val}, x[i:]...)...)
	case i >= 0 && i < len(x):
		x[i] = val
	case create && i >= len(x):
		x = append(x, val)
	case create && i < 0:
		x = append([]any{val}, x...)
	}
	return x
}

func stripNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			if el == nil {
				delete(x, k)
				continue
			}
			x[k] = stripNulls(el)
		}
		return x
	case []any:
		for i, el := range x {
			x[i] = stripNulls(el)
		}
	}
	return v
}

func jsonbStripNulls(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	return jsonOut(stripNulls(doc))
}

// jsonbPretty indents with four spaces, as jsonb_pretty does.
func jsonbPretty(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	norm, err := normalizeJSONB(fmt.Sprint(a[0]))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(norm), "", "    "); err != nil {
		return nil, Error(pgerr.InvalidTextRepresentation, "invalid input syntax for type json")
	}
	return buf.String(), nil
}

func jsonArrayLength(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	arr, ok := doc.([]any)
	if !ok {
		return nil, Error(pgerr.InvalidParameterValue, "cannot get array length of %s", strings.TrimPrefix(jsonKind(doc), "a "))
	}
	return int64(len(arr)), nil
}

// jsonbCmp orders jsonb values as PostgreSQL does: by kind (null < string
// < number < boolean < array < object), then by value.
func jsonbCmp(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	y, err := decodeJSON(a[1])
	if err != nil {
		return nil, err
	}
	return int64(cmpJSON(x, y)), nil
}

func jsonRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case string:
		return 1
	case json.Number:
		return 2
	case bool:
		return 3
	case []any:
		return 4
	}
	return 5
}

func cmpJSON(x, y any) int {
	if rx, ry := jsonRank(x), jsonRank(y); rx != ry {
		return rx - ry
	}
	switch a := x.(type) {
	case string:
		return strings.Compare(a, y.(string))
	case json.Number:
		var p, q big.Rat
		p.SetString(a.String())
		q.SetString(y.(json.Number).String())
		return p.Cmp(&q)
	case bool:
		return boolInt2(a) - boolInt2(y.(bool))
	case []any:
		b := y.([]any)
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		for i := range a {
			if c := cmpJSON(a[i], b[i]); c != 0 {
				return c
			}
		}
	case map[string]any:
		b := y.(map[string]any)
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		ka, kb := sortedKeys(a), sortedKeys(b)
		for i := range ka {
			if c := strings.Compare(ka[i], kb[i]); c != 0 {
				return c
			}
			if c := cmpJSON(a[ka[i]], b[kb[i]]); c != 0 {
				return c
			}
		}
	}
	return 0
}

func boolInt2(b bool) int {
	if b {
		return 1
	}
	return 0
}
