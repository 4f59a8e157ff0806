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

// Arrays of any number of dimensions. The stored form stays PostgreSQL's
// array literal ("{{1,2},{3,4}}"), so values written before multiple
// dimensions existed read back unchanged; the functions here unpack a
// literal into its dimensions and its elements in row-major order.

// pgArray is an unpacked array: dimension lengths (none for the empty
// array) and the elements as storage values of type elem.
type pgArray struct {
	elem  pgval.OID
	dims  []int
	items []any
}

// loadArray unpacks a stored array literal of element type elem.
func loadArray(v driver.Value, elem pgval.OID) (pgArray, error) {
	ti, ok := pgval.Lookup(elem)
	if !ok || ti.Array == 0 {
		return pgArray{}, Error(pgerr.FeatureNotSupported, "arrays of type %d are not supported", elem)
	}
	pv, err := pgval.Parse(ti.Array, fmt.Sprint(sqlText(v)), time.UTC)
	if err != nil {
		return pgArray{}, FromPG(err)
	}
	nested, _ := pv.([]any)
	flat := pgval.FlattenArray(nested)
	for i, it := range flat {
		if flat[i], err = sqltype.ToStorage(elem, it); err != nil {
			return pgArray{}, FromPG(err)
		}
	}
	return pgArray{elem: elem, dims: pgval.ArrayDims(nested), items: flat}, nil
}

func sqlText(v driver.Value) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// literal renders the array in its stored form.
func (a pgArray) literal() (driver.Value, error) {
	vals := make([]any, len(a.items))
	for i, it := range a.items {
		pv, err := sqltype.FromStorage(a.elem, it)
		if err != nil {
			return nil, FromPG(err)
		}
		vals[i] = pv
	}
	ti, _ := pgval.Lookup(a.elem)
	if len(a.dims) == 0 {
		vals = nil
	}
	s, err := pgval.Format(ti.Array, pgval.NestArray(vals, a.dims), time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

// newArray is a one-dimensional array of items (the empty array if none).
func newArray(elem pgval.OID, items []any) pgArray {
	a := pgArray{elem: elem, items: items}
	if len(items) > 0 {
		a.dims = []int{len(items)}
	}
	return a
}

// elemEqual is element equality of storage values (numeric by value).
func elemEqual(elem pgval.OID, a, b any) bool {
	if elem == pgval.NumericOID {
		return compareNumericText(fmt.Sprint(a), fmt.Sprint(b)) == 0
	}
	return compareValues(a, b) == 0
}

func arrayMDFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_array_nest":       {-1, arrayNest},
		"chr2_array_slice":      {-1, arraySlice},
		"chr2_array_dim":        {4, arrayDim},
		"chr2_array_typmod":     {4, arrayTypmod},
		"chr2_array_set":        {-1, arraySet},
		"chr2_array_subscripts": {4, arraySubscripts},
		"chr2_array_replace":    {5, arrayReplace},
		"chr2_array_positions":  {3, arrayPositions},
		"chr2_array_contains":   {4, arrayContains},
	}
}

// arrayNest is ARRAY[sub, …] over arrays: a new first dimension. Every
// sub-array must have the same dimensions; all-empty (or NULL) gives the
// empty array, a mix is 2202E as in PostgreSQL.
func arrayNest(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	elem := pgval.OID(asInt(a[0]))
	out := pgArray{elem: elem}
	var shape []int
	empty := 0
	for _, v := range a[1:] {
		var sub pgArray
		if v != nil {
			var err error
			if sub, err = loadArray(v, elem); err != nil {
				return nil, err
			}
		}
		if len(sub.dims) == 0 {
			empty++
			continue
		}
		if shape != nil && !slices.Equal(shape, sub.dims) {
			return nil, errNestDims
		}
		shape = sub.dims
		out.items = append(out.items, sub.items...)
	}
	if shape == nil {
		return out.literal()
	}
	if empty > 0 {
		return nil, errNestDims
	}
	if len(shape) >= pgval.MaxDims {
		return nil, Error(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			len(shape)+1, pgval.MaxDims)
	}
	out.dims = append([]int{len(a) - 1}, shape...)
	return out.literal()
}

var errNestDims = Error(pgerr.ArraySubscriptError, "multidimensional arrays must have array expressions with matching dimensions")

// offset is the row-major position of 1-based subscripts, or -1 when one
// is out of range.
func (a pgArray) offset(subs []int64) int {
	off := 0
	for d, s := range subs {
		if s < 1 || s > int64(a.dims[d]) {
			return -1
		}
		off = off*a.dims[d] + int(s-1)
	}
	return off
}

// arrayGet is arr[i] or arr[i][j]…: 1-based for arrays, 0-based for
// int2vector/oidvector; NULL when a subscript is NULL or out of range or
// when their number differs from the array's dimensions.
func arrayGet(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	subs := make([]int64, 0, len(a)-2)
	for _, v := range a[2:] {
		if v == nil {
			return nil, nil
		}
		subs = append(subs, asInt(v))
	}
	elem := pgval.OID(asInt(a[1]))
	if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
		items, err := arrayItems(a[0], elem)
		if err != nil || len(subs) != 1 || subs[0] < 0 || subs[0] >= int64(len(items)) {
			return nil, err
		}
		return items[subs[0]], nil
	}
	arr, err := loadArray(a[0], elem)
	if err != nil {
		return nil, err
	}
	if len(subs) != len(arr.dims) {
		return nil, nil
	}
	if i := arr.offset(subs); i >= 0 {
		return arr.items[i], nil
	}
	return nil, nil
}

// arraySlice is arr[lo:hi]…: arguments are the array, its element type, a
// mask with one character per bound ('1' given, '0' omitted) and the
// bounds in pairs. Dimensions not named are taken whole; a slice outside
// the array is empty; a NULL bound makes the result NULL.
func arraySlice(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	mask := fmt.Sprint(a[2])
	for i, v := range a[3:] {
		if v == nil && mask[i] == '1' {
			return nil, nil
		}
	}
	arr, err := loadArray(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, err
	}
	n := len(mask) / 2
	if len(arr.dims) == 0 || n > len(arr.dims) {
		return newArray(arr.elem, nil).literal()
	}
	lo, hi := make([]int, len(arr.dims)), make([]int, len(arr.dims))
	for d := range arr.dims {
		lo[d], hi[d] = 1, arr.dims[d]
		if d < n && mask[2*d] == '1' {
			lo[d] = max(lo[d], int(asInt(a[3+2*d])))
		}
		if d < n && mask[2*d+1] == '1' {
			hi[d] = min(hi[d], int(asInt(a[4+2*d])))
		}
		if lo[d] > hi[d] {
			return newArray(arr.elem, nil).literal()
		}
	}
	out := pgArray{elem: arr.elem}
	for d := range lo {
		out.dims = append(out.dims, hi[d]-lo[d]+1)
	}
	idx := make([]int64, len(lo))
	var walk func(d int)
	walk = func(d int) {
		if d == len(lo) {
			out.items = append(out.items, arr.items[arr.offset(idx)])
			return
		}
		for i := lo[d]; i <= hi[d]; i++ {
			idx[d] = int64(i)
			walk(d + 1)
		}
	}
	walk(0)
	return out.literal()
}

// arrayDim is array_length/array_lower/array_upper (with a dimension),
// array_ndims and array_dims: NULL for the empty array and for a
// dimension the array does not have.
func arrayDim(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	arr, err := loadArray(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, err
	}
	switch fmt.Sprint(a[2]) {
	case "ndims":
		if len(arr.dims) == 0 {
			return nil, nil
		}
		return int64(len(arr.dims)), nil
	case "dims":
		if len(arr.dims) == 0 {
			return nil, nil
		}
		var b strings.Builder
		for _, d := range arr.dims {
			b.WriteString("[1:" + strconv.Itoa(d) + "]")
		}
		return b.String(), nil
	}
	if a[3] == nil {
		return nil, nil
	}
	d := asInt(a[3])
	if d < 1 || d > int64(len(arr.dims)) {
		return nil, nil
	}
	if fmt.Sprint(a[2]) == "lower" {
		return int64(1), nil
	}
	return int64(arr.dims[d-1]), nil
}

// arraySubscripts is generate_subscripts(arr, dim, reverse) as a JSON list
// for json_each: nothing for a NULL array or a dimension it lacks.
func arraySubscripts(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[2] == nil {
		return "[]", nil
	}
	arr, err := loadArray(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, err
	}
	d := asInt(a[2])
	if d < 1 || d > int64(len(arr.dims)) {
		return "[]", nil
	}
	var b strings.Builder
	b.WriteByte('[')
	n := arr.dims[d-1]
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		if a[3] != nil && asInt(a[3]) != 0 {
			b.WriteString(strconv.Itoa(n + 1 - i))
		} else {
			b.WriteString(strconv.Itoa(i))
		}
	}
	b.WriteByte(']')
	return b.String(), nil
}

// castArray converts an array element by element, keeping its dimensions
// (ARRAY[1.5]::int[] is {2}, as each element is cast).
func castArray(v any, from, to pgval.OID) (any, error) {
	arr, err := loadArray(v, from)
	if err != nil {
		return nil, DecodeErrorOf(err)
	}
	for i, it := range arr.items {
		if arr.items[i], err = Cast(it, from, to); err != nil {
			return nil, err
		}
	}
	arr.elem = to
	out, err := arr.literal()
	if err != nil {
		return nil, DecodeErrorOf(err)
	}
	return out, nil
}

// DecodeErrorOf turns an error encoded for SQLite back into the
// *pgerr.Error it carries (Cast returns those, not encoded ones).
func DecodeErrorOf(err error) error {
	if pe, ok := DecodeError(err.Error()); ok {
		return pe
	}
	return err
}

// arrayTypmod applies an element type modifier to every element:
// numeric(p, s) rounds (22003 when too wide), timestamp(p) and time(p)
// round, varchar(n) and char(n) truncate in a cast and refuse longer
// values (22001, unless only blanks are cut) in an assignment.
func arrayTypmod(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	elem, mod, assign := pgval.OID(asInt(a[1])), int32(asInt(a[2])), asInt(a[3]) != 0
	arr, err := loadArray(a[0], elem)
	if err != nil {
		return nil, err
	}
	for i, it := range arr.items {
		if it == nil {
			continue
		}
		switch elem {
		case pgval.NumericOID:
			if arr.items[i], err = NumericTypmod(fmt.Sprint(it), mod); err != nil {
				return nil, FromPG(err)
			}
		case pgval.VarcharOID, pgval.BPCharOID:
			if arr.items[i], err = charTypmod(fmt.Sprint(it), elem, int(mod-4), assign); err != nil {
				return nil, err
			}
		default:
			if arr.items[i], err = timeRound(nil, []driver.Value{it, int64(mod), int64(elem)}); err != nil {
				return nil, err
			}
		}
	}
	return arr.literal()
}

func charTypmod(s string, elem pgval.OID, n int, assign bool) (string, error) {
	r := []rune(s)
	if n < 0 || len(r) <= n {
		return s, nil
	}
	if assign && strings.TrimRight(string(r[n:]), " ") != "" {
		name := "character varying"
		if elem == pgval.BPCharOID {
			name = "character"
		}
		return "", Error(pgerr.StringDataRightTruncation, "value too long for type %s(%d)", name, n)
	}
	return string(r[:n]), nil
}
