package pgval

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chr2sql/chr2sql/pgerr"
)

// binaryKind groups OIDs that share a binary wire format.
type binaryKind uint8

const (
	binNone binaryKind = iota
	binBool
	binInt2
	binInt4
	binInt8
	binUint32
	binFloat4
	binFloat8
	binText
	binName
	binChar
	binBytea
	binUUID
	binDate
	binTime
	binTimestamp
	binTimestamptz
	binInterval
	binNumeric
	binJSON
	binJSONB
)

func binaryKindOf(oid OID) binaryKind {
	switch oid {
	case BoolOID:
		return binBool
	case Int2OID:
		return binInt2
	case Int4OID:
		return binInt4
	case Int8OID:
		return binInt8
	case OIDOID, XIDOID, CIDOID, RegprocOID, RegprocedureOID, RegoperOID,
		RegclassOID, RegtypeOID, RegnamespaceOID, RegroleOID:
		return binUint32
	case Float4OID:
		return binFloat4
	case Float8OID:
		return binFloat8
	case TextOID, VarcharOID, BPCharOID, UnknownOID, XMLOID:
		return binText
	case NameOID:
		return binName
	case CharOID:
		return binChar
	case ByteaOID:
		return binBytea
	case UUIDOID:
		return binUUID
	case DateOID:
		return binDate
	case TimeOID:
		return binTime
	case TimestampOID:
		return binTimestamp
	case TimestamptzOID:
		return binTimestamptz
	case IntervalOID:
		return binInterval
	case NumericOID:
		return binNumeric
	case JSONOID:
		return binJSON
	case JSONBOID:
		return binJSONB
	}
	return binNone
}

// HasBinary reports whether oid has a binary codec here (scalars listed in
// binaryKindOf and one-dimensional arrays of them).
func HasBinary(oid OID) bool {
	if elem := arrayElem(oid); elem != 0 {
		return binaryKindOf(elem) != binNone
	}
	return binaryKindOf(oid) != binNone
}

func noBinary(oid OID) *pgerr.Error {
	return pgerr.Wrap(ErrNoBinary, pgerr.FeatureNotSupported,
		"binary format for type %s is not supported", typeName(oid))
}

// EncodeBinary returns PostgreSQL's binary send format of v as type oid.
func EncodeBinary(oid OID, v any) ([]byte, error) {
	return AppendBinary(nil, oid, v)
}

// AppendBinary appends the binary send format of v as type oid. It accepts
// the same Go values as AppendText.
func AppendBinary(dst []byte, oid OID, v any) ([]byte, error) {
	if v == nil {
		return dst, ErrNull
	}
	if elem := arrayElem(oid); elem != 0 {
		return appendArrayBinary(dst, oid, elem, v)
	}
	switch binaryKindOf(oid) {
	case binBool:
		return appendBoolBinary(dst, oid, v)
	case binInt2:
		return appendIntBinary(dst, oid, v, math.MinInt16, math.MaxInt16, 2)
	case binInt4:
		return appendIntBinary(dst, oid, v, math.MinInt32, math.MaxInt32, 4)
	case binInt8:
		return appendIntBinary(dst, oid, v, math.MinInt64, math.MaxInt64, 8)
	case binUint32:
		return appendIntBinary(dst, oid, v, 0, math.MaxUint32, 4)
	case binFloat4, binFloat8:
		return appendFloatBinary(dst, oid, v)
	case binText, binName, binJSON, binChar:
		return appendTextBinary(dst, oid, v)
	case binBytea:
		return appendByteaBinary(dst, oid, v)
	case binUUID:
		return appendUUIDBinary(dst, oid, v)
	case binDate, binTimestamp, binTimestamptz:
		return appendTimeBinary(dst, oid, v)
	case binTime:
		return appendClockBinary(dst, oid, v)
	case binInterval:
		return appendIntervalBinary(dst, oid, v)
	case binNumeric:
		s, err := numericText(oid, v)
		if err != nil {
			return dst, err
		}
		return appendNumericBinary(dst, s)
	case binJSONB:
		dst = append(dst, 1)
		return appendTextBinary(dst, oid, v)
	}
	return dst, noBinary(oid)
}

func appendBoolBinary(dst []byte, oid OID, v any) ([]byte, error) {
	var b bool
	switch x := v.(type) {
	case bool:
		b = x
	case string:
		var ok bool
		if b, ok = parseBool(x); !ok {
			return dst, syntaxError(oid, x)
		}
	default:
		i, ok := asInt64(v)
		if !ok {
			return dst, badValue(oid, v)
		}
		b = i != 0
	}
	if b {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func appendIntBinary(dst []byte, oid OID, v any, minV, maxV int64, width int) ([]byte, error) {
	i, ok := asInt64(v)
	if !ok {
		switch x := v.(type) {
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
				return dst, badValue(oid, v)
			}
			i = int64(x)
		case string:
			p, err := Parse(oid, x, nil)
			if err != nil {
				return dst, err
			}
			i = p.(int64)
		default:
			return dst, badValue(oid, v)
		}
	}
	if i < minV || i > maxV {
		return dst, pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", typeName(oid))
	}
	switch width {
	case 2:
		return binary.BigEndian.AppendUint16(dst, uint16(i)), nil //nolint:gosec // range checked
	case 4:
		return binary.BigEndian.AppendUint32(dst, uint32(i)), nil //nolint:gosec // range checked
	}
	return binary.BigEndian.AppendUint64(dst, uint64(i)), nil //nolint:gosec // two's complement on purpose
}

func appendFloatBinary(dst []byte, oid OID, v any) ([]byte, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case string:
		p, err := Parse(oid, x, nil)
		if err != nil {
			return dst, err
		}
		f = p.(float64)
	default:
		i, ok := asInt64(v)
		if !ok {
			return dst, badValue(oid, v)
		}
		f = float64(i)
	}
	if oid == Float4OID {
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
	}
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
}

func appendTextBinary(dst []byte, oid OID, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if oid == CharOID { // exactly one byte; "" is the NUL char
			if x == "" {
				return append(dst, 0), nil
			}
			return append(dst, x[0]), nil
		}
		return append(dst, x...), nil
	case []byte:
		return append(dst, x...), nil
	}
	return AppendText(dst, oid, v, time.UTC)
}

func appendByteaBinary(dst []byte, oid OID, v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return append(dst, x...), nil
	case string:
		return append(dst, x...), nil
	}
	return dst, badValue(oid, v)
}

func appendUUIDBinary(dst []byte, oid OID, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		var raw [16]byte
		if !decodeUUIDText(x, &raw) {
			return dst, syntaxError(oid, x)
		}
		return append(dst, raw[:]...), nil
	case [16]byte:
		return append(dst, x[:]...), nil
	case []byte:
		if len(x) == 16 {
			return append(dst, x...), nil
		}
	}
	return dst, badValue(oid, v)
}

func appendTimeBinary(dst []byte, oid OID, v any) ([]byte, error) {
	t, ok := v.(time.Time)
	if !ok {
		s, isStr := v.(string)
		if !isStr {
			return dst, badValue(oid, v)
		}
		p, err := Parse(oid, s, nil)
		if err != nil {
			return dst, err
		}
		t = p.(time.Time)
	}
	if oid == DateOID {
		switch {
		case t.Equal(InfinityTime):
			return binary.BigEndian.AppendUint32(dst, math.MaxInt32), nil
		case t.Equal(NegInfinityTime):
			return binary.BigEndian.AppendUint32(dst, 1<<31), nil
		}
		y, m, d := t.UTC().Date()
		days := daysSince2000(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
		if days < minDateDays || days >= endDateDays {
			return dst, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range")
		}
		return binary.BigEndian.AppendUint32(dst, uint32(int32(days))), nil //nolint:gosec // range checked
	}
	switch {
	case t.Equal(InfinityTime):
		return binary.BigEndian.AppendUint64(dst, math.MaxInt64), nil
	case t.Equal(NegInfinityTime):
		return binary.BigEndian.AppendUint64(dst, 1<<63), nil
	}
	us, inRange := timestampMicros(t)
	if !inRange {
		return dst, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
	}
	return binary.BigEndian.AppendUint64(dst, uint64(us)), nil //nolint:gosec // two's complement on purpose
}

func appendClockBinary(dst []byte, oid OID, v any) ([]byte, error) {
	var us int64
	switch x := v.(type) {
	case string:
		var err error
		if us, err = clockMicrosFromText(x); err != nil {
			return dst, err
		}
	case time.Duration:
		us = x.Microseconds()
	case time.Time:
		u := x.UTC()
		us = (int64(u.Hour())*3600+int64(u.Minute())*60+int64(u.Second()))*1_000_000 + int64(u.Nanosecond()/1000)
	default:
		return dst, badValue(oid, v)
	}
	if us < 0 || us > microsPerDay {
		return dst, pgerr.New(pgerr.DatetimeFieldOverflow, "time out of range")
	}
	return binary.BigEndian.AppendUint64(dst, uint64(us)), nil
}

func clockMicrosFromText(s string) (int64, error) {
	var f dtFields
	sc := dtScanner{s: trimSpace(s)}
	if err := sc.scan(TimeOID, &f); err != nil || !f.hasTime {
		return 0, datetimeSyntax(TimeOID, s)
	}
	if err := f.validate(); err != nil {
		return 0, fieldOverflow(s)
	}
	return f.clockMicros(), nil
}

func appendIntervalBinary(dst []byte, oid OID, v any) ([]byte, error) {
	var iv Interval
	switch x := v.(type) {
	case Interval:
		iv = x
	case time.Duration:
		iv = IntervalFromDuration(x)
	case string:
		var err error
		if iv, err = ParseInterval(x); err != nil {
			return dst, err
		}
	default:
		return dst, badValue(oid, v)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(iv.Micros)) //nolint:gosec // two's complement
	dst = binary.BigEndian.AppendUint32(dst, uint32(iv.Days))   //nolint:gosec // two's complement
	return binary.BigEndian.AppendUint32(dst, uint32(iv.Months)), nil
}

func numericText(oid OID, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64, float32:
		b, err := AppendText(nil, NumericOID, v, nil)
		return string(b), err
	}
	if i, ok := asInt64(v); ok {
		b, _ := AppendText(nil, NumericOID, i, nil)
		return string(b), nil
	}
	return "", badValue(oid, v)
}

// DecodeBinary parses PostgreSQL's binary receive format of type oid into
// the value model. Malformed input is a 22P03 (or the type's range error);
// it never panics and never aliases b.
func DecodeBinary(oid OID, b []byte) (any, error) {
	if elem := arrayElem(oid); elem != 0 {
		return decodeArrayBinary(oid, elem, b)
	}
	kind := binaryKindOf(oid)
	if need := fixedBinaryLen(kind); need > 0 && len(b) != need {
		return nil, binaryFormatError("incorrect binary data format for type %s: %d bytes, want %d",
			typeName(oid), len(b), need)
	}
	switch kind {
	case binBool:
		return b[0] != 0, nil
	case binInt2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil //nolint:gosec // sign reinterpretation
	case binInt4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil //nolint:gosec // sign reinterpretation
	case binInt8:
		return int64(binary.BigEndian.Uint64(b)), nil //nolint:gosec // sign reinterpretation
	case binUint32:
		return int64(binary.BigEndian.Uint32(b)), nil
	case binFloat4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case binFloat8:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case binText, binJSON, binName, binChar:
		return decodeTextBinary(oid, kind, b)
	case binBytea:
		return append([]byte{}, b...), nil
	case binUUID:
		return string(appendUUID(nil, b)), nil
	case binDate:
		return decodeDateBinary(b)
	case binTimestamp, binTimestamptz:
		return decodeTimestampBinary(b)
	case binTime:
		us := int64(binary.BigEndian.Uint64(b)) //nolint:gosec // sign reinterpretation
		if us < 0 || us > microsPerDay {
			return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "time out of range")
		}
		return formatClockMicros(us), nil
	case binInterval:
		iv := Interval{
			Micros: int64(binary.BigEndian.Uint64(b)),      //nolint:gosec // sign reinterpretation
			Days:   int32(binary.BigEndian.Uint32(b[8:])),  //nolint:gosec // sign reinterpretation
			Months: int32(binary.BigEndian.Uint32(b[12:])), //nolint:gosec // sign reinterpretation
		}
		if iv.Micros == math.MinInt64 {
			// Its text form has no int64 magnitude: it could be stored but
			// never read back (PostgreSQL cannot parse it either).
			return nil, pgerr.New(pgerr.IntervalFieldOverflow, "interval out of range")
		}
		return iv.String(), nil
	case binNumeric:
		return decodeNumericBinary(b)
	case binJSONB:
		if len(b) == 0 || b[0] != 1 {
			v := -1
			if len(b) > 0 {
				v = int(b[0])
			}
			return nil, binaryFormatError("unsupported jsonb version number %d", v)
		}
		s, err := decodeTextBinary(oid, binText, b[1:])
		if err != nil {
			return nil, err
		}
		return NormalizeJSONB(s.(string))
	}
	return nil, noBinary(oid)
}

func fixedBinaryLen(k binaryKind) int {
	switch k {
	case binBool, binChar:
		return 1
	case binInt2:
		return 2
	case binInt4, binUint32, binFloat4, binDate:
		return 4
	case binInt8, binFloat8, binTimestamp, binTimestamptz, binTime:
		return 8
	case binUUID, binInterval:
		return 16
	}
	return 0
}

// decodeTextBinary checks what textrecv checks: valid UTF-8, no NUL.
func decodeTextBinary(oid OID, kind binaryKind, b []byte) (any, error) {
	if kind == binChar {
		if b[0] == 0 {
			return "", nil
		}
		return string(b), nil
	}
	if err := CheckUTF8(b); err != nil {
		return nil, err
	}
	s := string(b)
	if kind == binJSON {
		if err := ValidateJSON(s); err != nil {
			return nil, err
		}
	}
	if kind == binName {
		s = truncateName(s)
	}
	return s, nil
}

// CheckUTF8 reports the first byte sequence PostgreSQL's UTF8 verifier would
// reject, as 22021 "invalid byte sequence for encoding "UTF8"". NUL is
// rejected too: text values cannot contain it.
func CheckUTF8(b []byte) error {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return nil
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c != 0 && c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if c == 0 || r == utf8.RuneError && n <= 1 {
			return pgerr.New(pgerr.CharacterNotInRepertoire,
				"invalid byte sequence for encoding \"UTF8\": %s", hexBytes(b[i:min(i+utf8SeqLen(c), len(b))]))
		}
		i += n
	}
	return nil
}

// utf8SeqLen is pg_utf_mblen: the sequence length a lead byte announces,
// which is how many bytes PostgreSQL quotes in its error.
func utf8SeqLen(c byte) int {
	switch {
	case c&0xe0 == 0xc0:
		return 2
	case c&0xf0 == 0xe0:
		return 3
	case c&0xf8 == 0xf0:
		return 4
	}
	return 1
}

// CheckUTF8String is CheckUTF8 for a string, without copying it.
func CheckUTF8String(s string) error {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return nil
	}
	return CheckUTF8([]byte(s))
}

func hexBytes(b []byte) string {
	out := make([]byte, 0, 5*len(b))
	for k, c := range b {
		if k > 0 {
			out = append(out, ' ')
		}
		out = append(out, '0', 'x', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

func decodeDateBinary(b []byte) (any, error) {
	days := int32(binary.BigEndian.Uint32(b)) //nolint:gosec // sign reinterpretation
	switch days {
	case math.MaxInt32:
		return InfinityTime, nil
	case math.MinInt32:
		return NegInfinityTime, nil
	}
	if int64(days) < minDateDays || int64(days) >= endDateDays {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range")
	}
	return time.Unix((int64(days))*86400+pgEpochUnixSec, 0).UTC(), nil
}

func decodeTimestampBinary(b []byte) (any, error) {
	us := int64(binary.BigEndian.Uint64(b)) //nolint:gosec // sign reinterpretation
	switch us {
	case math.MaxInt64:
		return InfinityTime, nil
	case math.MinInt64:
		return NegInfinityTime, nil
	}
	if us < minTimestampMicros || us >= endTimestampMicros {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
	}
	return timeFromMicros(us), nil
}
