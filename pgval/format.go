package pgval

import (
	"math"
	"strconv"
	"time"
)

// Format returns PostgreSQL 16's text output for v as a value of type oid
// (see AppendText).
func Format(oid OID, v any, loc *time.Location) (string, error) {
	b, err := AppendText(nil, oid, v, loc)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendText appends the text output of v as type oid to dst. v follows the
// value model; for convenience it also accepts every Go integer and float
// kind, time.Duration and Interval for interval, and typed slices for
// arrays. nil has no text form (ErrNull); the protocol sends NULL as -1.
// loc is the session TimeZone for timestamptz (nil = UTC).
func AppendText(dst []byte, oid OID, v any, loc *time.Location) ([]byte, error) {
	if v == nil {
		return dst, ErrNull
	}
	if loc == nil {
		loc = time.UTC
	}
	if elem := arrayElem(oid); elem != 0 {
		return appendArrayText(dst, oid, elem, v, loc)
	}
	switch x := v.(type) {
	case string:
		return appendStringAs(dst, oid, x, loc)
	case []byte:
		if oid == ByteaOID {
			return appendByteaHex(dst, x), nil
		}
		return appendStringAs(dst, oid, string(x), loc)
	case bool:
		return appendBoolAs(dst, oid, x)
	case float64:
		return appendFloatAs(dst, oid, x)
	case float32:
		return appendFloatAs(dst, oid, float64(x))
	case time.Time:
		return appendTimeAs(dst, oid, x, loc)
	case time.Duration:
		return appendIntervalAs(dst, oid, IntervalFromDuration(x), v)
	case Interval:
		return appendIntervalAs(dst, oid, x, v)
	}
	if i, ok := asInt64(v); ok {
		return appendIntAs(dst, oid, i)
	}
	return dst, badValue(oid, v)
}

// asInt64 accepts every Go integer kind that fits in int64.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// appendStringAs handles string values. Types whose value model is a string
// pass through; for other types a string is accepted when it parses, and is
// re-emitted in canonical form.
func appendStringAs(dst []byte, oid OID, s string, loc *time.Location) ([]byte, error) {
	switch oid {
	case ByteaOID:
		return appendByteaHex(dst, []byte(s)), nil
	case CharOID:
		return appendChar(dst, s), nil
	case BoolOID, Int2OID, Int4OID, Int8OID, OIDOID, Float4OID, Float8OID,
		DateOID, TimestampOID, TimestamptzOID:
		v, err := Parse(oid, s, loc)
		if err != nil {
			return dst, err
		}
		return AppendText(dst, oid, v, loc)
	}
	return append(dst, s...), nil
}

// appendChar is charout: bytes with the high bit set print as "\ooo".
func appendChar(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	c := s[0]
	if c < 0x80 {
		return append(dst, c)
	}
	return append(dst, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
}

func appendBoolAs(dst []byte, oid OID, b bool) ([]byte, error) {
	switch oid {
	case TextOID, VarcharOID, BPCharOID, NameOID, UnknownOID:
		return strconv.AppendBool(dst, b), nil
	case BoolOID, Unspecified:
	default:
		if _, known := Lookup(oid); known {
			return dst, badValue(oid, b)
		}
	}
	if b {
		return append(dst, 't'), nil
	}
	return append(dst, 'f'), nil
}

func appendIntAs(dst []byte, oid OID, i int64) ([]byte, error) {
	switch oid {
	case BoolOID: // SQLite keeps booleans as integers
		return appendBoolAs(dst, oid, i != 0)
	case Float4OID:
		return AppendFloat(dst, float64(i), 32), nil
	case Float8OID:
		return AppendFloat(dst, float64(i), 64), nil
	case DateOID, TimestampOID, TimestamptzOID, TimeOID, IntervalOID, UUIDOID, ByteaOID:
		return dst, badValue(oid, i)
	}
	return strconv.AppendInt(dst, i, 10), nil
}

func appendFloatAs(dst []byte, oid OID, f float64) ([]byte, error) {
	switch oid {
	case Float4OID:
		return AppendFloat(dst, f, 32), nil
	case Int2OID, Int4OID, Int8OID, OIDOID:
		if f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return dst, badValue(oid, f)
		}
		return strconv.AppendInt(dst, int64(f), 10), nil
	case NumericOID:
		switch {
		case math.IsNaN(f):
			return append(dst, "NaN"...), nil
		case math.IsInf(f, 1):
			return append(dst, "Infinity"...), nil
		case math.IsInf(f, -1):
			return append(dst, "-Infinity"...), nil
		}
		if f == 0 {
			return append(dst, '0'), nil
		}
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	case BoolOID, DateOID, TimestampOID, TimestamptzOID, TimeOID, IntervalOID, UUIDOID, ByteaOID:
		return dst, badValue(oid, f)
	}
	return AppendFloat(dst, f, 64), nil
}

// AppendFloat writes float output with extra_float_digits > 0: the shortest
// text that reads back exactly, in exponent form when the decimal exponent
// is below -4 or at least 15 (6 for float4), like PostgreSQL's Ryu-based
// float8out/float4out.
func AppendFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var tmp [40]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			n, _ := strconv.Atoi(string(e[i+1:]))
			exp = n
			break
		}
	}
	limit := 15
	if bitSize == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(dst, e...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
}

func appendTimeAs(dst []byte, oid OID, t time.Time, loc *time.Location) ([]byte, error) {
	switch oid {
	case TimestamptzOID, TextOID, VarcharOID, UnknownOID, Unspecified:
		if t.Equal(InfinityTime) || t.Equal(NegInfinityTime) {
			return appendTimestamp(dst, t, false), nil
		}
		return appendTimestamp(dst, t.In(loc), true), nil
	case TimestampOID:
		return appendTimestamp(dst, t.UTC(), false), nil
	case DateOID:
		return appendDate(dst, t.UTC()), nil
	case TimeOID:
		u := t.UTC()
		return appendClock(dst, u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/1000), nil
	}
	return dst, badValue(oid, t)
}

func appendIntervalAs(dst []byte, oid OID, iv Interval, orig any) ([]byte, error) {
	switch oid {
	case IntervalOID, TextOID, VarcharOID, UnknownOID, Unspecified:
		return iv.AppendText(dst), nil
	}
	return dst, badValue(oid, orig)
}
