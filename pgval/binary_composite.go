package pgval

import (
	"encoding/binary"
	"strings"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Numeric binary format (numeric_send): int16 ndigits, int16 weight, uint16
// sign, uint16 dscale, then ndigits base-10000 digits as int16. The value is
// sum(digit[k] * 10000^(weight-k)).
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
	// maxNumericGroups bounds ndigits on receive (131072 integer digits
	// plus 16383 fraction digits, in groups of four).
	maxNumericGroups = (numericMaxIntDigits+numericMaxDisplayScale)/4 + 2
)

func appendNumericBinary(dst []byte, s string) ([]byte, error) {
	norm, err := ParseNumeric(s)
	if err != nil {
		return dst, err
	}
	header := func(ndigits, weight int, sign, dscale uint16) []byte {
		dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits)) //nolint:gosec // bounded by ParseNumeric
		dst = binary.BigEndian.AppendUint16(dst, uint16(weight))  //nolint:gosec // two's complement
		dst = binary.BigEndian.AppendUint16(dst, sign)
		return binary.BigEndian.AppendUint16(dst, dscale)
	}
	switch norm {
	case "NaN":
		return header(0, 0, numericNaN, 0), nil
	case "Infinity":
		return header(0, 0, numericPInf, 0), nil
	case "-Infinity":
		return header(0, 0, numericNInf, 0), nil
	}
	sign := uint16(numericPos)
	if norm[0] == '-' {
		sign, norm = numericNeg, norm[1:]
	}
	intPart, frac, _ := strings.Cut(norm, ".")
	dscale := len(frac)
	intPart = strings.TrimLeft(intPart, "0")
	padded := strings.Repeat("0", (4-len(intPart)%4)%4) + intPart + frac + strings.Repeat("0", (4-len(frac)%4)%4)
	groups := make([]uint16, 0, len(padded)/4)
	for i := 0; i < len(padded); i += 4 {
		g := uint16(0)
		for _, c := range []byte(padded[i : i+4]) {
			g = g*10 + uint16(c-'0')
		}
		groups = append(groups, g)
	}
	weight := (len(intPart)+3)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight, sign = 0, numericPos
	}
	dst = header(len(groups), weight, sign, uint16(dscale)) //nolint:gosec // dscale ≤ 16383
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, g)
	}
	return dst, nil
}

func decodeNumericBinary(b []byte) (any, error) {
	if len(b) < 8 {
		return nil, binaryFormatError("insufficient data left in message")
	}
	ndigits := int(int16(binary.BigEndian.Uint16(b)))    //nolint:gosec // sign reinterpretation
	weight := int(int16(binary.BigEndian.Uint16(b[2:]))) //nolint:gosec // sign reinterpretation
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if ndigits < 0 || ndigits > maxNumericGroups {
		return nil, binaryFormatError("invalid length in external \"numeric\" value")
	}
	if len(b) != 8+2*ndigits {
		return nil, binaryFormatError("incorrect binary data format for type numeric")
	}
	switch sign {
	case numericNaN:
		return "NaN", nil
	case numericPInf:
		return "Infinity", nil
	case numericNInf:
		return "-Infinity", nil
	case numericPos, numericNeg:
	default:
		return nil, binaryFormatError("invalid sign in external \"numeric\" value")
	}
	if dscale > numericMaxDisplayScale {
		return nil, binaryFormatError("invalid scale in external \"numeric\" value")
	}
	digits := make([]int, ndigits)
	for k := range digits {
		d := int(binary.BigEndian.Uint16(b[8+2*k:]))
		if d >= 10000 {
			return nil, binaryFormatError("invalid digit in external \"numeric\" value")
		}
		digits[k] = d
	}
	return formatNumericGroups(sign == numericNeg, weight, dscale, digits), nil
}

// formatNumericGroups renders base-10000 groups, truncating digits hidden by
// dscale (as numeric_recv's trunc_var does).
func formatNumericGroups(neg bool, weight, dscale int, digits []int) string {
	group := func(k int) int {
		if k >= 0 && k < len(digits) {
			return digits[k]
		}
		return 0
	}
	var sb strings.Builder
	leading := true // suppress leading zero groups (ndigits may be short of weight)
	for k := 0; k <= weight; k++ {
		g := group(k)
		switch {
		case leading && g == 0:
			continue
		case leading:
			sb.WriteString(itoa(g))
			leading = false
		default:
			sb.WriteString(pad4(g))
		}
	}
	if leading {
		sb.WriteByte('0')
	}
	if dscale > 0 {
		sb.WriteByte('.')
		var frac strings.Builder
		for j := 1; frac.Len() < dscale; j++ {
			frac.WriteString(pad4(group(weight + j)))
		}
		sb.WriteString(frac.String()[:dscale])
	}
	out := sb.String()
	if neg && strings.Trim(out, "0.") != "" {
		return "-" + out
	}
	return out
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var buf [8]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[i:])
}

func pad4(v int) string {
	return string([]byte{byte('0' + v/1000), byte('0' + v/100%10), byte('0' + v/10%10), byte('0' + v%10)})
}

// Array binary format (array_send): int32 ndim, int32 has-null flag, uint32
// element OID, per dimension int32 length and int32 lower bound, then each
// element as int32 length (-1 for NULL) and bytes.
func appendArrayBinary(dst []byte, arrOID, elem OID, v any) ([]byte, error) {
	items, ok := arrayValues(v)
	if !ok {
		return dst, badValue(arrOID, v)
	}
	if binaryKindOf(elem) == binNone {
		return dst, noBinary(arrOID)
	}
	dims := ArrayDims(items)
	flat := flattenArray(items, nil)
	hasNull := uint32(0)
	for _, it := range flat {
		if it == nil {
			hasNull = 1
			break
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(dims))) //nolint:gosec // at most MaxDims
	dst = binary.BigEndian.AppendUint32(dst, hasNull)
	dst = binary.BigEndian.AppendUint32(dst, elem)
	for _, d := range dims {
		dst = binary.BigEndian.AppendUint32(dst, uint32(d)) //nolint:gosec // bounded by memory
		dst = binary.BigEndian.AppendUint32(dst, 1)
	}
	for _, it := range flat {
		if it == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xFFFFFFFF)
			continue
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		if dst, err = AppendBinary(dst, elem, it); err != nil {
			return dst, err
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4)) //nolint:gosec // bounded by memory
	}
	return dst, nil
}

// flattenArray appends the scalar elements of a (nested) array in row-major
// order.
func flattenArray(items []any, dst []any) []any {
	for _, it := range items {
		if sub, ok := it.([]any); ok {
			dst = flattenArray(sub, dst)
			continue
		}
		dst = append(dst, it)
	}
	return dst
}

// NestArray shapes flat elements (row-major) into the nested value of an
// array with the given dimensions; no dimensions is the empty array.
func NestArray(flat []any, dims []int) []any {
	if len(dims) == 0 {
		return []any{}
	}
	if len(dims) == 1 {
		return flat[:dims[0]:dims[0]]
	}
	step := len(flat) / dims[0]
	out := make([]any, dims[0])
	for i := range out {
		out[i] = NestArray(flat[i*step:(i+1)*step], dims[1:])
	}
	return out
}

// FlattenArray is flattenArray for callers outside the package.
func FlattenArray(items []any) []any { return flattenArray(items, nil) }

func decodeArrayBinary(arrOID, elem OID, b []byte) (any, error) {
	if len(b) < 12 {
		return nil, binaryFormatError("insufficient data left in message")
	}
	ndim := int32(binary.BigEndian.Uint32(b)) //nolint:gosec // sign reinterpretation
	flags := binary.BigEndian.Uint32(b[4:])
	gotElem := binary.BigEndian.Uint32(b[8:])
	switch {
	case ndim < 0:
		return nil, binaryFormatError("invalid number of dimensions: %d", ndim)
	case ndim > MaxDims:
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "number of array dimensions (%d) exceeds the maximum allowed (%d)",
			ndim, MaxDims)
	case flags > 1:
		return nil, binaryFormatError("invalid array flags")
	case gotElem != elem:
		return nil, pgerr.New(pgerr.DatatypeMismatch,
			"binary data has array element type %d (%s) instead of expected %d (%s)",
			gotElem, typeName(gotElem), elem, typeName(elem))
	}
	dims, n, rest, err := decodeArrayDims(b[12:], int(ndim), len(b))
	if err != nil {
		return nil, err
	}
	if ndim == 0 || n == 0 {
		if len(rest) != 0 {
			return nil, binaryFormatError("incorrect binary data format in array")
		}
		return []any{}, nil
	}
	if n > int64(len(rest)/4) {
		return nil, binaryFormatError("insufficient data left in message")
	}
	out := make([]any, n)
	for i := range out {
		if len(rest) < 4 {
			return nil, binaryFormatError("insufficient data left in message")
		}
		l := int32(binary.BigEndian.Uint32(rest)) //nolint:gosec // sign reinterpretation
		rest = rest[4:]
		if l == -1 {
			continue
		}
		if l < 0 || int(l) > len(rest) {
			return nil, binaryFormatError("insufficient data left in message")
		}
		v, err := DecodeBinary(elem, rest[:l])
		if err != nil {
			return nil, err
		}
		out[i] = v
		rest = rest[l:]
	}
	if len(rest) != 0 {
		return nil, binaryFormatError("incorrect binary data format in array")
	}
	return NestArray(out, dims), nil
}

// decodeArrayDims reads the (length, lower bound) pair of each dimension
// and returns the lengths, the element count and the bytes after them.
// Each element needs at least its 4-byte length, which bounds the counts
// by the message size (total) before anything is allocated.
func decodeArrayDims(rest []byte, ndim, total int) ([]int, int64, []byte, error) {
	if len(rest) < 8*ndim {
		return nil, 0, nil, binaryFormatError("insufficient data left in message")
	}
	dims := make([]int, ndim)
	n := int64(1)
	for i := range dims {
		d := int64(int32(binary.BigEndian.Uint32(rest))) //nolint:gosec // sign reinterpretation
		lb := int32(binary.BigEndian.Uint32(rest[4:]))   //nolint:gosec // sign reinterpretation
		if lb != 1 && d > 0 {
			return nil, 0, nil, pgerr.Unsupported("array lower bounds other than 1")
		}
		rest = rest[8:]
		if d < 0 || d > int64(total) {
			return nil, 0, nil, binaryFormatError("insufficient data left in message")
		}
		dims[i] = int(d)
		if n *= d; n > int64(total) {
			return nil, 0, nil, binaryFormatError("insufficient data left in message")
		}
	}
	return dims, n, rest, nil
}
