package funcs

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Array functions. Arrays are stored as PostgreSQL array literals; the
// element type travels as an argument so elements convert to their storage
// form (and back) exactly as column values do.

func arrayFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_array_to_string": {4, arrayToString},
		"chr2_array_len":       {3, arrayLen},
		"chr2_array_position":  {-1, arrayPosition},
		"chr2_array_get":       {-1, arrayGet},
		"chr2_vector_json":     {1, vectorJSON},
		"chr2_quote_ident":     {1, textFn(func(s string) any { return QuoteIdent(s) })},
		"chr2_quote_literal":   {1, textFn(func(s string) any { return quoteLiteral(s) })},
		"chr2_quote_nullable": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			if a[0] == nil {
				return "NULL", nil
			}
			return quoteLiteral(fmt.Sprint(a[0])), nil
		}},
		"chr2_size_pretty": {1, sizePretty},
		"chr2_array_cat":   {5, arrayCat},
	}
}

// arrayItems parses a stored array of element type elem into storage
// values, all dimensions flattened in row-major order.
func arrayItems(v driver.Value, elem pgval.OID) ([]any, error) {
	if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
		var out []any
		for _, f := range strings.Fields(fmt.Sprint(v)) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, Error(pgerr.InvalidTextRepresentation, "invalid vector element %q", f)
			}
			out = append(out, n)
		}
		return out, nil
	}
	arr, err := loadArray(v, elem)
	return arr.items, err
}

func arrayToString(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[2] == nil {
		return nil, nil
	}
	elem := pgval.OID(asInt(a[1]))
	items, err := arrayItems(a[0], elem)
	if err != nil {
		return nil, err
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		if it == nil {
			if a[3] != nil {
				parts = append(parts, fmt.Sprint(a[3]))
			}
			continue
		}
		s, err := castText(it, elem)
		if err != nil {
			return nil, FromPG(err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, fmt.Sprint(a[2])), nil
}

func arrayLen(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	if fmt.Sprint(a[2]) == "cardinality" {
		items, err := arrayItems(a[0], pgval.OID(asInt(a[1])))
		return int64(len(items)), err
	}
	return arrayDim(nil, []driver.Value{a[0], a[1], a[2], int64(1)})
}

// vectorJSON turns int2vector/oidvector text into a JSON array for json_each.
func vectorJSON(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return "[]", nil
	}
	return "[" + strings.Join(strings.Fields(fmt.Sprint(a[0])), ",") + "]", nil
}

// QuoteIdent is quote_ident: double quotes unless the name is a plain
// lower-case identifier.
func QuoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			plain = false
			break
		}
	}
	if plain && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedWords are the keywords quote_ident quotes (PostgreSQL's reserved
// and type-function-name keywords most likely to be used as names).
var reservedWords = map[string]bool{"all": true, "analyse": true, "analyze": true, "and": true, "any": true,
	"array": true, "as": true, "asc": true, "both": true, "case": true, "cast": true, "check": true, "collate": true,
	"column": true, "constraint": true, "create": true, "current_date": true, "current_role": true,
	"current_time": true, "current_timestamp": true, "current_user": true, "default": true, "deferrable": true,
	"desc": true, "distinct": true, "do": true, "else": true, "end": true, "except": true, "false": true,
	"fetch": true, "for": true, "foreign": true, "from": true, "grant": true, "group": true, "having": true,
	"in": true, "initially": true, "intersect": true, "into": true, "leading": true, "limit": true,
	"localtime": true, "localtimestamp": true, "not": true, "null": true, "offset": true, "on": true, "only": true,
	"or": true, "order": true, "placing": true, "primary": true, "references": true, "returning": true,
	"select": true, "session_user": true, "some": true, "symmetric": true, "table": true, "then": true, "to": true,
	"trailing": true, "true": true, "union": true, "unique": true, "user": true, "using": true, "variadic": true,
	"when": true, "where": true, "window": true, "with": true}

func quoteLiteral(s string) string {
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// sizePretty is pg_size_pretty(bigint), with PostgreSQL's rounding.
func sizePretty(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	n := asInt(a[0])
	const limit = 10 * 1024
	const limit2 = limit*2 - 1
	if abs64(n) < limit {
		return strconv.FormatInt(n, 10) + " bytes", nil
	}
	size := n >> 9 // one extra bit for rounding
	units := []string{"kB", "MB", "GB", "TB", "PB"}
	for i, u := range units {
		if abs64(size) < limit2 || i == len(units)-1 {
			return strconv.FormatInt((size+sign64(size))/2, 10) + " " + u, nil
		}
		size >>= 10
	}
	return nil, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func sign64(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// arrayAgg is array_agg: it collects storage values of element type elem
// and renders the array literal.
type arrayAgg struct {
	elem  pgval.OID
	items []any
	seen  bool
}

func (g *arrayAgg) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	g.elem = pgval.OID(asInt(args[0]))
	v := args[1]
	if b, ok := v.([]byte); ok {
		v = append([]byte(nil), b...)
	}
	pv, err := sqltype.FromStorage(g.elem, v)
	if err != nil {
		return FromPG(err)
	}
	if pgval.ArrayElem(g.elem) != 0 {
		if err := g.checkSubArray(pv); err != nil {
			return err
		}
	}
	g.items = append(g.items, pv)
	g.seen = true
	return nil
}

// checkSubArray applies array_agg(anyarray)'s rules: the inputs become the
// rows of one more dimension, so they must be non-NULL, non-empty and of
// equal dimensions.
func (g *arrayAgg) checkSubArray(pv any) error {
	if pv == nil {
		return Error(pgerr.NullValueNotAllowed, "cannot accumulate null arrays")
	}
	dims := pgval.ArrayDims(pv.([]any))
	switch {
	case len(dims) == 0:
		return Error(pgerr.ArraySubscriptError, "cannot accumulate empty arrays")
	case len(dims) >= pgval.MaxDims:
		return Error(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			len(dims)+1, pgval.MaxDims)
	case len(g.items) > 0 && !slices.Equal(dims, pgval.ArrayDims(g.items[0].([]any))):
		return Error(pgerr.ArraySubscriptError, "cannot accumulate arrays of different dimensionality")
	}
	return nil
}

func (g *arrayAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	if len(g.items) > 0 {
		g.items = g.items[1:]
	}
	return nil
}

func (g *arrayAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if !g.seen {
		return nil, nil
	}
	arrType := pgval.OID(0)
	if pgval.ArrayElem(g.elem) != 0 {
		arrType = g.elem // array_agg(anyarray): one more dimension
	} else if ti, ok := pgval.Lookup(g.elem); ok {
		arrType = ti.Array
	}
	if arrType == 0 {
		return nil, Error(pgerr.FeatureNotSupported, "arrays of type %d are not supported", g.elem)
	}
	s, err := pgval.Format(arrType, g.items, time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

func (g *arrayAgg) Final(*sqlite.FunctionContext) {}
