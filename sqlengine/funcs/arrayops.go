package funcs

import (
	"database/sql/driver"
	"fmt"
	"slices"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// arrayCat is ||, array_cat, array_append and array_prepend: each side is
// an array ('a') or an element ('e'). A NULL array is empty, a NULL
// element is added as NULL; arrays of different dimensions combine as
// PostgreSQL's array_cat does (one becomes a new row of the other).
func arrayCat(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	elem := pgval.OID(asInt(a[4]))
	if a[0] == nil && a[2] == nil && fmt.Sprint(a[1]) == "a" && fmt.Sprint(a[3]) == "a" {
		return nil, nil
	}
	var sides [2]pgArray
	for i := range sides {
		v, mode := a[2*i], fmt.Sprint(a[2*i+1])
		if mode == "e" {
			sides[i] = newArray(elem, []any{v})
			continue
		}
		sides[i] = pgArray{elem: elem}
		if v != nil {
			var err error
			if sides[i], err = loadArray(v, elem); err != nil {
				return nil, err
			}
		}
		if other := fmt.Sprint(a[3-2*i]); other == "e" && len(sides[i].dims) > 1 {
			return nil, Error(pgerr.DataException, "argument must be empty or one-dimensional array")
		}
	}
	out, err := catArrays(sides[0], sides[1])
	if err != nil {
		return nil, err
	}
	return out.literal()
}

func catArrays(l, r pgArray) (pgArray, error) {
	switch {
	case len(l.dims) == 0:
		return r, nil
	case len(r.dims) == 0:
		return l, nil
	}
	out := pgArray{elem: l.elem, items: append(append([]any(nil), l.items...), r.items...)}
	incompatible := func(detail string, args ...any) error {
		return FromPG(pgerr.New(pgerr.ArraySubscriptError, "cannot concatenate incompatible arrays").WithDetail(detail, args...))
	}
	switch ld, rd := len(l.dims), len(r.dims); {
	case ld == rd:
		if !slices.Equal(l.dims[1:], r.dims[1:]) {
			return pgArray{}, incompatible("Arrays with differing element dimensions are not compatible for concatenation.")
		}
		out.dims = append([]int{l.dims[0] + r.dims[0]}, l.dims[1:]...)
	case ld == rd+1:
		if !slices.Equal(l.dims[1:], r.dims) {
			return pgArray{}, incompatible("Arrays with differing dimensions are not compatible for concatenation.")
		}
		out.dims = append([]int{l.dims[0] + 1}, r.dims...)
	case ld+1 == rd:
		if !slices.Equal(l.dims, r.dims[1:]) {
			return pgArray{}, incompatible("Arrays with differing dimensions are not compatible for concatenation.")
		}
		out.dims = append([]int{r.dims[0] + 1}, l.dims...)
	default:
		return pgArray{}, incompatible("Arrays of %d and %d dimensions are not compatible for concatenation.", ld, rd)
	}
	return out, nil
}

// loadArray1 is loadArray for functions that search one-dimensional
// arrays only, as PostgreSQL's do.
func loadArray1(v driver.Value, elem pgval.OID, what string) (pgArray, error) {
	arr, err := loadArray(v, elem)
	if err == nil && len(arr.dims) > 1 {
		err = Error(pgerr.FeatureNotSupported, "%s elements in multidimensional arrays is not supported", what)
	}
	return arr, err
}

// sameElem is IS NOT DISTINCT FROM between elements, the matching rule of
// array_position, array_remove and array_replace.
func sameElem(elem pgval.OID, a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return elemEqual(elem, a, b)
}

// arrayPosition is array_position(arr, v [, start]).
func arrayPosition(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	elem := pgval.OID(asInt(a[1]))
	start := int64(1)
	if len(a) > 3 {
		if a[3] == nil {
			return nil, Error(pgerr.NullValueNotAllowed, "initial position must not be null")
		}
		start = asInt(a[3])
	}
	var items []any
	if elem == pgval.Int2VectorOID || elem == pgval.OIDVectorOID {
		var err error
		if items, err = arrayItems(a[0], elem); err != nil {
			return nil, err
		}
	} else {
		arr, err := loadArray1(a[0], elem, "searching for")
		if err != nil {
			return nil, err
		}
		items, elem = arr.items, arr.elem
	}
	for i := max(start, 1) - 1; i < int64(len(items)); i++ {
		if sameElem(elem, items[i], a[2]) {
			return i + 1, nil
		}
	}
	return nil, nil
}

// arrayPositions is array_positions(arr, v): every matching subscript.
func arrayPositions(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	arr, err := loadArray1(a[0], pgval.OID(asInt(a[1])), "searching for")
	if err != nil {
		return nil, err
	}
	var out []any
	for i, it := range arr.items {
		if sameElem(arr.elem, it, a[2]) {
			out = append(out, int64(i+1))
		}
	}
	return newArray(pgval.Int4OID, out).literal()
}

// arrayReplace is array_remove (mode "remove") and array_replace
// (mode "replace"): arguments are the array, its element type, the mode,
// the element searched for and its replacement.
func arrayReplace(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	elem := pgval.OID(asInt(a[1]))
	remove := fmt.Sprint(a[2]) == "remove"
	var arr pgArray
	var err error
	if remove {
		arr, err = loadArray1(a[0], elem, "removing")
	} else {
		arr, err = loadArray(a[0], elem)
	}
	if err != nil {
		return nil, err
	}
	kept := arr.items[:0:0]
	for _, it := range arr.items {
		switch {
		case !sameElem(elem, it, a[3]):
			kept = append(kept, it)
		case !remove:
			kept = append(kept, a[4])
		}
	}
	if remove {
		return newArray(elem, kept).literal()
	}
	arr.items = kept
	return arr.literal()
}

// arrayContains is @> and && (op "contains", "overlaps"): NULL elements
// never match, dimensions do not matter, duplicates count once.
func arrayContains(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	elem := pgval.OID(asInt(a[2]))
	l, err := loadArray(a[0], elem)
	if err != nil {
		return nil, err
	}
	r, err := loadArray(a[1], elem)
	if err != nil {
		return nil, err
	}
	overlap := fmt.Sprint(a[3]) == "overlaps"
	for _, want := range r.items {
		found := false
		for _, have := range l.items {
			if want != nil && have != nil && elemEqual(elem, have, want) {
				found = true
				break
			}
		}
		if found == overlap {
			return overlap, nil
		}
	}
	return !overlap, nil
}

// arraySet is UPDATE … SET arr[i][j]… = v: arguments are the array, its
// element type, the new element and the subscripts. A one-dimensional
// array grows (with NULLs) past its end; one that would have to grow
// below subscript 1 needs a lower bound other than 1 (0A000).
func arraySet(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	subs := make([]int64, 0, len(a)-3)
	for _, v := range a[3:] {
		if v == nil {
			return nil, Error(pgerr.NullValueNotAllowed, "array subscript in assignment must not be null")
		}
		subs = append(subs, asInt(v))
	}
	elem := pgval.OID(asInt(a[1]))
	arr := pgArray{elem: elem}
	if a[0] != nil {
		var err error
		if arr, err = loadArray(a[0], elem); err != nil {
			return nil, err
		}
	}
	if len(arr.dims) == 0 && slices.Max(subs) == 1 && slices.Min(subs) == 1 {
		// A NULL or empty array becomes {v}, {{v}}, … (all subscripts 1).
		arr.items, arr.dims = []any{a[2]}, slices.Repeat([]int{1}, len(subs))
		return arr.literal()
	}
	switch {
	case len(arr.dims) == 1 && len(subs) == 1 && subs[0] >= 1:
		for int64(len(arr.items)) < subs[0] {
			arr.items = append(arr.items, nil)
		}
		arr.items[subs[0]-1], arr.dims = a[2], []int{len(arr.items)}
		return arr.literal()
	case len(arr.dims) <= 1 && len(subs) == 1 || len(arr.dims) == 0:
		return nil, Error(pgerr.FeatureNotSupported, "array lower bounds other than 1 are not supported")
	case len(subs) != len(arr.dims):
		return nil, Error(pgerr.ArraySubscriptError, "wrong number of array subscripts")
	}
	i := arr.offset(subs)
	if i < 0 {
		return nil, Error(pgerr.ArraySubscriptError, "array subscript out of range")
	}
	arr.items[i] = a[2]
	return arr.literal()
}
