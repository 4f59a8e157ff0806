package pgval

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Parse converts PostgreSQL input syntax for type oid into the value model
// (see doc.go). It never returns a nil value with a nil error: SQL NULL is not
// text input. Unknown OIDs and the string-like types return s unchanged.
// loc is the session TimeZone used for timestamptz input without a zone; nil
// means UTC. Errors are *pgerr.Error values carrying PostgreSQL's SQLSTATE.
// s is expected to be valid UTF-8 without NUL (pgwire checks client text
// with CheckUTF8); other bytes pass through the string types unchanged.
func Parse(oid OID, s string, loc *time.Location) (any, error) {
	if loc == nil {
		loc = time.UTC
	}
	if elem := arrayElem(oid); elem != 0 {
		return parseArray(oid, elem, s, loc)
	}
	switch oid {
	case Int2OID:
		return parseInt(oid, s, math.MinInt16, math.MaxInt16)
	case Int4OID:
		return parseInt(oid, s, math.MinInt32, math.MaxInt32)
	case Int8OID:
		return parseInt(oid, s, math.MinInt64, math.MaxInt64)
	case OIDOID, XIDOID, CIDOID, RegprocOID, RegprocedureOID, RegoperOID,
		RegclassOID, RegtypeOID, RegnamespaceOID, RegroleOID:
		return parseOID(oid, s)
	case Float4OID:
		return parseFloat(oid, s, 32)
	case Float8OID:
		return parseFloat(oid, s, 64)
	case BoolOID:
		b, ok := parseBool(s)
		if !ok {
			return nil, syntaxError(oid, s)
		}
		return b, nil
	case NumericOID:
		return ParseNumeric(s)
	case ByteaOID:
		return parseBytea(s)
	case UUIDOID:
		return parseUUID(s)
	case JSONOID:
		if err := ValidateJSON(s); err != nil {
			return nil, err
		}
		return s, nil
	case JSONBOID:
		return NormalizeJSONB(s)
	case DateOID, TimestampOID, TimestamptzOID, TimeOID:
		return parseDateTime(oid, s, loc)
	case IntervalOID:
		iv, err := ParseInterval(s)
		if err != nil {
			return nil, err
		}
		return iv.String(), nil
	case NameOID:
		return truncateName(s), nil
	case CharOID:
		return parseChar(s), nil
	}
	return s, nil
}

// parseInt implements PostgreSQL 16's pg_strtoint*: surrounding whitespace,
// an optional sign, decimal or 0x/0o/0b digits, and single underscores
// between digits (also right after a base prefix).
func parseInt(oid OID, s string, minV, maxV int64) (any, error) {
	mag, neg, status := scanInt(trimSpace(s))
	switch status {
	case scanSyntax:
		return nil, syntaxError(oid, s)
	case scanOverflow:
		return nil, rangeError(oid, s)
	}
	if neg {
		if mag > uint64(-(minV+1))+1 {
			return nil, rangeError(oid, s)
		}
		return int64(-mag), nil //nolint:gosec // bounded by the check above
	}
	if mag > uint64(maxV) {
		return nil, rangeError(oid, s)
	}
	return int64(mag), nil
}

type scanStatus int

const (
	scanOK scanStatus = iota
	scanSyntax
	scanOverflow
)

func digitValue(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 99
}

// scanInt returns the magnitude and sign of an integer literal t (already
// trimmed). Overflow of uint64 is reported only once the syntax is known to
// be valid, so "99999999999999999999x" is a syntax error as in PostgreSQL.
func scanInt(t string) (mag uint64, neg bool, status scanStatus) {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	base := uint64(10)
	if len(t)-i >= 2 && t[i] == '0' {
		switch t[i+1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			i += 2
		}
	}
	prevDigit := base != 10 // an underscore may follow a base prefix
	digits := 0
	overflow := false
	for ; i < len(t); i++ {
		c := t[i]
		if c == '_' {
			if !prevDigit || i+1 >= len(t) || digitValue(t[i+1]) >= base {
				return 0, neg, scanSyntax
			}
			prevDigit = false
			continue
		}
		d := digitValue(c)
		if d >= base {
			return 0, neg, scanSyntax
		}
		if mag > (math.MaxUint64-d)/base {
			overflow = true
		} else {
			mag = mag*base + d
		}
		digits++
		prevDigit = true
	}
	if digits == 0 {
		return 0, neg, scanSyntax
	}
	if overflow {
		return 0, neg, scanOverflow
	}
	return mag, neg, scanOK
}

// parseOID accepts what oidin accepts: an unsigned 32-bit number, or a
// negative one down to -2^31 that wraps (PostgreSQL's historical behaviour).
func parseOID(oid OID, s string) (any, error) {
	mag, neg, status := scanInt(trimSpace(s))
	switch status {
	case scanSyntax:
		return nil, syntaxError(oid, s)
	case scanOverflow:
		return nil, rangeError(oid, s)
	}
	if neg {
		if mag > 1<<31 {
			return nil, rangeError(oid, s)
		}
		return int64(uint32(-int64(mag))), nil //nolint:gosec // wraps on purpose
	}
	if mag > math.MaxUint32 {
		return nil, rangeError(oid, s)
	}
	return int64(mag), nil
}

// parseBool is PostgreSQL's parse_bool: any unambiguous prefix of true,
// false, yes, no; "on"/"off" (at least two letters); "1" and "0".
func parseBool(s string) (bool, bool) {
	t := lowerASCII(trimSpace(s))
	if t == "" {
		return false, false
	}
	prefixOf := func(word string, minLen int) bool {
		return len(t) >= minLen && len(t) <= len(word) && word[:len(t)] == t
	}
	switch t[0] {
	case 't':
		return true, prefixOf("true", 1)
	case 'f':
		return false, prefixOf("false", 1)
	case 'y':
		return true, prefixOf("yes", 1)
	case 'n':
		return false, prefixOf("no", 1)
	case 'o':
		if prefixOf("on", 2) {
			return true, true
		}
		return false, prefixOf("off", 2)
	case '1':
		return true, t == "1"
	case '0':
		return false, t == "0"
	}
	return false, false
}

// parseFloat follows float8in/float4in: strtod syntax (including hex
// floats, NaN and Infinity spelled any case), surrounding whitespace, and a
// range error for overflow and for underflow to zero.
func parseFloat(oid OID, s string, bitSize int) (any, error) {
	t := trimSpace(s)
	if t == "" || strings.IndexByte(t, '_') >= 0 {
		return nil, syntaxError(oid, s)
	}
	switch lowerASCII(t) {
	case "nan", "+nan", "-nan":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(t, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, floatRangeError(oid, t)
		}
		return nil, syntaxError(oid, s)
	}
	if f == 0 && mantissaNonZero(t) {
		return nil, floatRangeError(oid, t)
	}
	return f, nil
}

func floatRangeError(oid OID, t string) *pgerr.Error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "\"%s\" is out of range for type %s", t, typeName(oid))
}

// mantissaNonZero reports whether a float literal has a non-zero digit
// before its exponent, i.e. whether a zero result is an underflow.
func mantissaNonZero(t string) bool {
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	hex := len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')
	expMark := byte('e')
	if hex {
		t, expMark = t[2:], 'p'
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c|0x20 == expMark {
			return false
		}
		if d := digitValue(c); d != 99 && d != 0 && (hex || d < 10) {
			return true
		}
	}
	return false
}

// truncateName applies namein's limit of NAMEDATALEN-1 (63) bytes without
// splitting a UTF-8 sequence.
func truncateName(s string) string {
	const maxNameBytes = 63
	if len(s) <= maxNameBytes {
		return s
	}
	cut := maxNameBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// parseChar is charin: "\ooo" is an octal byte, otherwise the first byte.
func parseChar(s string) string {
	if len(s) == 4 && s[0] == '\\' && isOctal(s[1]) && isOctal(s[2]) && isOctal(s[3]) {
		return string([]byte{(s[1]-'0')<<6 | (s[2]-'0')<<3 | (s[3] - '0')})
	}
	if s == "" {
		return ""
	}
	return s[:1]
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
