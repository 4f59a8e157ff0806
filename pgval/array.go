package pgval

import (
	"reflect"
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

// parseArray is array_in for one dimension: optional "[lo:hi]=" bounds,
// '{' elements '}' with quoting and backslash escapes, unquoted NULL.
func parseArray(arrOID, elem OID, s string, loc *time.Location) (any, error) {
	sc := arrScanner{s: s}
	sc.ws()
	declared := -1
	if sc.peek() == '[' {
		n, err := sc.dims(s)
		if err != nil {
			return nil, err
		}
		declared = n
	}
	if sc.peek() != '{' {
		return nil, malformedArray(s, "Array value must start with \"{\" or dimension information.")
	}
	sc.i++
	out := []any{}
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
	} else {
		for {
			v, err := sc.element(elem, s, loc)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			sc.ws()
			switch sc.peek() {
			case ',':
				sc.i++
				continue
			case '}':
				sc.i++
			case 0:
				return nil, malformedArray(s, "Unexpected end of input.")
			default:
				return nil, malformedArray(s, "Unexpected \"%c\" character.", sc.s[sc.i])
			}
			break
		}
	}
	sc.ws()
	if sc.i < len(sc.s) {
		return nil, malformedArray(s, "Junk after closing right brace.")
	}
	if declared >= 0 && declared != len(out) {
		return nil, malformedArray(s, "Specified array dimensions do not match array contents.")
	}
	return out, nil
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

// dims reads "[lo:hi]" (or "[hi]") followed by '='; more than one
// dimension is outside the value model.
func (sc *arrScanner) dims(s string) (int, error) {
	count := 0
	n := 0
	for sc.peek() == '[' {
		count++
		end := sc.i + 1
		for end < len(sc.s) && sc.s[end] != ']' {
			end++
		}
		if end >= len(sc.s) {
			return 0, malformedArray(s, "Missing \"]\" after array dimensions.")
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
			return 0, malformedArray(s, "Array dimensions must be integers.")
		}
		if hi < lo-1 {
			return 0, pgerr.New(pgerr.ArraySubscriptError, "upper bound cannot be less than lower bound")
		}
		n = int(hi - lo + 1)
		sc.i = end + 1
		sc.ws()
	}
	if count > 1 {
		return 0, pgerr.Unsupported("multidimensional arrays")
	}
	if sc.peek() != '=' {
		return 0, malformedArray(s, "Missing \"=\" after array dimensions.")
	}
	sc.i++
	sc.ws()
	return n, nil
}

func (sc *arrScanner) element(elem OID, s string, loc *time.Location) (any, error) {
	sc.ws()
	switch sc.peek() {
	case 0:
		return nil, malformedArray(s, "Unexpected end of input.")
	case '{':
		return nil, pgerr.Unsupported("multidimensional arrays")
	case ',', '}':
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

// appendArrayText is array_out for one dimension.
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
