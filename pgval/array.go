package pgval

import (
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

// arrayElem returns the element type of a one-dimensional array type, or 0.
// int2vector and oidvector are not arrays in the value model (they keep
// their space-separated text form).
func arrayElem(oid OID) OID {
	if oid == Int2VectorOID || oid == OIDVectorOID {
		return 0
	}
	if t, ok := Lookup(oid); ok && t.Category == 'A' {
		return t.Elem
	}
	return 0
}

// ArrayElem is arrayElem for callers outside the package: the element type
// of an array type, 0 when oid is not an array type.
func ArrayElem(oid OID) OID { return arrayElem(oid) }

func malformedArray(s, detail string, args ...any) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "malformed array literal: \"%s\"", s).WithDetail(detail, args...)
}

// MaxDims is PostgreSQL's MAXDIM: the most dimensions an array may have.
const MaxDims = 6

// parseArray is array_in: optional "[lo:hi]..." bounds, then '{' elements
// '}' with quoting, backslash escapes and unquoted NULL. A multidimensional
// array is a nested []any whose sub-arrays all have the same shape.
func parseArray(arrOID, elem OID, s string, loc *time.Location) (any, error) {
	sc := arrScanner{s: s}
	sc.ws()
	var declared []int
	if sc.peek() == '[' {
		d, err := sc.dims(s)
		if err != nil {
			return nil, err
		}
		declared = d
	}
	if sc.peek() != '{' {
		return nil, malformedArray(s, "Array value must start with \"{\" or dimension information.")
	}
	out, err := sc.level(elem, s, loc, 1)
	if err != nil {
		return nil, err
	}
	sc.ws()
	if sc.i < len(sc.s) {
		return nil, malformedArray(s, "Junk after closing right brace.")
	}
	if declared != nil && !slices.Equal(declared, ArrayDims(out)) {
		return nil, malformedArray(s, "Specified array dimensions do not match array contents.")
	}
	return out, nil
}

// level reads one brace-enclosed level starting at '{': either scalar
// elements or sub-arrays (all of the same shape), never a mix.
func (sc *arrScanner) level(elem OID, s string, loc *time.Location, depth int) ([]any, error) {
	if depth > MaxDims {
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			depth, MaxDims)
	}
	sc.i++
	out := []any{}
	sc.ws()
	if sc.peek() == '}' && depth == 1 {
		sc.i++
		return out, nil
	}
	nested := sc.peek() == '{'
	var shape []int
	for {
		sc.ws()
		var v any
		switch {
		case nested && sc.peek() == '{':
			sub, err := sc.level(elem, s, loc, depth+1)
			if err != nil {
				return nil, err
			}
			if d := ArrayDims(sub); shape == nil {
				shape = d
			} else if !slices.Equal(shape, d) {
				return nil, malformedArray(s, "Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			v = sub
		case nested && sc.peek() != 0:
			return nil, malformedArray(s, "Unexpected array element.")
		default:
			e, err := sc.element(elem, s, loc)
			if err != nil {
				return nil, err
			}
			v = e
		}
		out = append(out, v)
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
			continue
		case '}':
			sc.i++
			return out, nil
		case 0:
			return nil, malformedArray(s, "Unexpected end of input.")
		default:
			return nil, malformedArray(s, "Unexpected \"%c\" character.", sc.s[sc.i])
		}
	}
}

// ArrayDims is the length of each dimension of an array value (nested []any
// for several dimensions); an empty array has no dimensions.
func ArrayDims(v []any) []int {
	var dims []int
	for len(v) > 0 {
		dims = append(dims, len(v))
		sub, ok := v[0].([]any)
		if !ok {
			break
		}
		v = sub
	}
	return dims
}

type arrScanner struct {
	s string
	i int
}

func (sc *arrScanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *arrScanner) ws() {
	for sc.i < len(sc.s) && isSpace(sc.s[sc.i]) {
		sc.i++
	}
}

// dims reads "[lo:hi]" (or "[hi]") per dimension followed by '=' and
// returns the lengths; lower bounds other than 1 are outside the value
// model (0A000 rather than a silently re-based array).
func (sc *arrScanner) dims(s string) ([]int, error) {
	var out []int
	for sc.peek() == '[' {
		end := sc.i + 1
		for end < len(sc.s) && sc.s[end] != ']' {
			end++
		}
		if end >= len(sc.s) {
			return nil, malformedArray(s, "Missing \"]\" after array dimensions.")
		}
		lo, hi := int64(1), int64(0)
		spec := sc.s[sc.i+1 : end]
		var err error
		if c := indexByte(spec, ':'); c >= 0 {
			lo, err = strconv.ParseInt(trimSpace(spec[:c]), 10, 32)
			if err == nil {
				hi, err = strconv.ParseInt(trimSpace(spec[c+1:]), 10, 32)
			}
		} else {
			hi, err = strconv.ParseInt(trimSpace(spec), 10, 32)
		}
		if err != nil {
			return nil, malformedArray(s, "Array dimensions must be integers.")
		}
		if hi < lo-1 {
			return nil, pgerr.New(pgerr.ArraySubscriptError, "upper bound cannot be less than lower bound")
		}
		if lo != 1 && hi >= lo {
			return nil, pgerr.Unsupported("array lower bounds other than 1")
		}
		if hi >= lo {
			out = append(out, int(hi-lo+1))
		}
		sc.i = end + 1
		sc.ws()
	}
	if len(out) > MaxDims {
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			len(out), MaxDims)
	}
	if sc.peek() != '=' {
		return nil, malformedArray(s, "Missing \"=\" after array dimensions.")
	}
	sc.i++
	sc.ws()
	if out == nil {
		out = []int{}
	}
	return out, nil
}

func (sc *arrScanner) element(elem OID, s string, loc *time.Location) (any, error) {
	sc.ws()
	switch sc.peek() {
	case 0:
		return nil, malformedArray(s, "Unexpected end of input.")
	case ',', '}', '{':
		return nil, malformedArray(s, "Unexpected \"%c\" character.", sc.s[sc.i])
	case '"':
		text, err := sc.quoted(s)
		if err != nil {
			return nil, err
		}
		return Parse(elem, text, loc)
	}
	var buf []byte
	escaped := false
	trailingSpaceFrom := -1
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		if c == ',' || c == '}' {
			break
		}
		if c == '"' || c == '{' {
			return nil, malformedArray(s, "Unexpected \"%c\" character.", c)
		}
		if c == '\\' {
			if sc.i+1 >= len(sc.s) {
				return nil, malformedArray(s, "Unexpected end of input.")
			}
			buf = append(buf, sc.s[sc.i+1])
			escaped = true
			trailingSpaceFrom = -1
			sc.i += 2
			continue
		}
		if isSpace(c) {
			if trailingSpaceFrom < 0 {
				trailingSpaceFrom = len(buf)
			}
		} else {
			trailingSpaceFrom = -1
		}
		buf = append(buf, c)
		sc.i++
	}
	if trailingSpaceFrom >= 0 {
		buf = buf[:trailingSpaceFrom]
	}
	text := string(buf)
	if !escaped && len(text) == 4 && lowerASCII(text) == "null" {
		return nil, nil
	}
	return Parse(elem, text, loc)
}

func (sc *arrScanner) quoted(s string) (string, error) {
	sc.i++
	var buf []byte
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch c {
		case '"':
			sc.i++
			return string(buf), nil
		case '\\':
			if sc.i+1 >= len(sc.s) {
				return "", malformedArray(s, "Unexpected end of input.")
			}
			buf = append(buf, sc.s[sc.i+1])
			sc.i += 2
		default:
			buf = append(buf, c)
			sc.i++
		}
	}
	return "", malformedArray(s, "Unexpected end of input.")
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// arrayValues views v as a list of elements: []any or any other slice type
// except []byte (which is a bytea scalar).
func arrayValues(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []byte:
		return nil, false
	case []string:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, true
	case []int64:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		e := rv.Index(i)
		if (e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface) && e.IsNil() {
			continue
		}
		if e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		out[i] = e.Interface()
	}
	return out, true
}

// appendArrayText is array_out; sub-arrays ([]any items) nest.
func appendArrayText(dst []byte, arrOID, elem OID, v any, loc *time.Location) ([]byte, error) {
	items, ok := arrayValues(v)
	if !ok {
		return dst, badValue(arrOID, v)
	}
	dst = append(dst, '{')
	var scratch []byte
	for i, item := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		if item == nil {
			dst = append(dst, "NULL"...)
			continue
		}
		var err error
		if sub, ok := item.([]any); ok {
			if dst, err = appendArrayText(dst, arrOID, elem, sub, loc); err != nil {
				return dst, err
			}
			continue
		}
		scratch, err = AppendText(scratch[:0], elem, item, loc)
		if err != nil {
			return dst, err
		}
		dst = appendArrayElement(dst, scratch)
	}
	return append(dst, '}'), nil
}

func appendArrayElement(dst, text []byte) []byte {
	if !arrayNeedsQuote(text) {
		return append(dst, text...)
	}
	dst = append(dst, '"')
	for _, c := range text {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

func arrayNeedsQuote(text []byte) bool {
	if len(text) == 0 || len(text) == 4 && lowerASCII(string(text)) == "null" {
		return true
	}
	for _, c := range text {
		switch c {
		case '"', '\\', '{', '}', ',':
			return true
		}
		if isSpace(c) {
			return true
		}
	}
	return false
}
