package sqltype

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Class is a SQLite storage class as used in STRICT column declarations.
type Class uint8

// Storage classes.
const (
	Any Class = iota
	Integer
	Real
	Text
	Blob
)

// Decl is the STRICT column type for the class.
func (c Class) Decl() string {
	switch c {
	case Integer:
		return "INTEGER"
	case Real:
		return "REAL"
	case Text:
		return "TEXT"
	case Blob:
		return "BLOB"
	}
	return "ANY"
}

// Canonical layouts of the text storage forms.
const (
	TimestampLayout = "2006-01-02 15:04:05.000000"
	DateLayout      = "2006-01-02"
)

// StorageOf returns the storage class of a PostgreSQL type.
func StorageOf(oid pgval.OID) Class {
	switch oid {
	case pgval.BoolOID, pgval.Int2OID, pgval.Int4OID, pgval.Int8OID, pgval.OIDOID,
		pgval.RegclassOID, pgval.RegtypeOID, pgval.RegprocOID, pgval.RegnamespaceOID,
		pgval.XIDOID, pgval.CIDOID, pgval.RegroleOID:
		return Integer
	case pgval.Float4OID, pgval.Float8OID:
		return Real
	case pgval.ByteaOID:
		return Blob
	case pgval.UnknownOID, pgval.Unspecified:
		return Any
	}
	return Text
}

// IsInteger reports whether oid is stored as an INTEGER number (not bool).
func IsInteger(oid pgval.OID) bool {
	switch oid {
	case pgval.Int2OID, pgval.Int4OID, pgval.Int8OID, pgval.OIDOID:
		return true
	}
	return false
}

// IsNumeric reports whether oid belongs to the numeric category.
func IsNumeric(oid pgval.OID) bool {
	switch oid {
	case pgval.Int2OID, pgval.Int4OID, pgval.Int8OID, pgval.OIDOID,
		pgval.Float4OID, pgval.Float8OID, pgval.NumericOID:
		return true
	}
	return false
}

// IsText reports whether oid is a string type.
func IsText(oid pgval.OID) bool {
	switch oid {
	case pgval.TextOID, pgval.VarcharOID, pgval.BPCharOID, pgval.NameOID, pgval.CharOID, pgval.UnknownOID:
		return true
	}
	return false
}

// IsTime reports whether oid is stored in a canonical date/time text form.
func IsTime(oid pgval.OID) bool {
	switch oid {
	case pgval.TimestamptzOID, pgval.TimestampOID, pgval.DateOID, pgval.TimeOID:
		return true
	}
	return false
}

// ToStorage converts v (pgval value model, or a string in PostgreSQL input
// syntax) into the canonical storage value for type oid.
func ToStorage(oid pgval.OID, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && !isStringModel(oid) {
		parsed, err := pgval.Parse(oid, s, time.UTC)
		if err != nil {
			return nil, err
		}
		v = parsed
	}
	switch oid {
	case pgval.BoolOID:
		return boolToStorage(v)
	case pgval.Int2OID:
		return intToStorage(v, math.MinInt16, math.MaxInt16, "smallint")
	case pgval.Int4OID:
		return intToStorage(v, math.MinInt32, math.MaxInt32, "integer")
	case pgval.Int8OID, pgval.OIDOID, pgval.RegclassOID, pgval.RegtypeOID, pgval.RegprocOID,
		pgval.RegnamespaceOID, pgval.RegroleOID, pgval.XIDOID, pgval.CIDOID:
		return intToStorage(v, math.MinInt64, math.MaxInt64, "bigint")
	case pgval.Float4OID, pgval.Float8OID:
		return floatToStorage(v)
	case pgval.ByteaOID:
		return bytesToStorage(v)
	case pgval.TimestamptzOID:
		return timeToStorage(v, TimestampLayout, true)
	case pgval.TimestampOID:
		return timeToStorage(v, TimestampLayout, false)
	case pgval.DateOID:
		return timeToStorage(v, DateLayout, false)
	}
	return textToStorage(oid, v)
}

// isStringModel reports whether the value model of oid is a string, so a
// string value needs no parsing beyond validation in textToStorage.
func isStringModel(oid pgval.OID) bool {
	switch oid {
	case pgval.TextOID, pgval.VarcharOID, pgval.BPCharOID, pgval.NameOID, pgval.CharOID,
		pgval.UnknownOID, pgval.Unspecified:
		return true
	}
	return false
}

func boolToStorage(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int64:
		if x == 0 || x == 1 {
			return x, nil
		}
	}
	return nil, mismatch(pgval.BoolOID, v)
}

func intToStorage(v any, lo, hi int64, name string) (any, error) {
	switch x := v.(type) {
	case int64:
		if x < lo || x > hi {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", name)
		}
		return x, nil
	case float64:
		r := math.RoundToEven(x)
		if math.IsNaN(x) || r < float64(lo) || r > float64(hi) {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", name)
		}
		return int64(r), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, mismatch(pgval.Int8OID, v)
}

func floatToStorage(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) {
			// SQLite stores a NaN REAL as NULL: refuse rather than change it.
			return nil, pgerr.Unsupported("NaN in float4 and float8 values")
		}
		return x, nil
	case int64:
		return float64(x), nil
	}
	return nil, mismatch(pgval.Float8OID, v)
}

func bytesToStorage(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, mismatch(pgval.ByteaOID, v)
}

func timeToStorage(v any, layout string, utc bool) (any, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, mismatch(pgval.TimestamptzOID, v)
	}
	if utc {
		t = t.UTC()
	}
	if t.Equal(pgval.InfinityTime) || t.Equal(pgval.NegInfinityTime) {
		return nil, pgerr.Unsupported("infinite dates and timestamps")
	}
	if t.Year() < 1 || t.Year() > 9999 {
		// The fixed-width text form orders correctly only for years 1–9999.
		return nil, pgerr.Unsupported("dates and timestamps outside the years 1 to 9999")
	}
	return t.Format(layout), nil
}

func textToStorage(oid pgval.OID, v any) (any, error) {
	switch x := v.(type) {
	case string:
		if oid == pgval.BPCharOID {
			// char(n) keeps no trailing blanks: they never count in
			// PostgreSQL's comparisons, lengths or conversions to text.
			return strings.TrimRight(x, " "), nil
		}
		return x, nil
	case []byte:
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case time.Time:
		s, err := pgval.Format(oid, x, time.UTC)
		if err != nil {
			return nil, err
		}
		return s, nil
	case []any:
		s, err := pgval.Format(oid, x, time.UTC)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, mismatch(oid, v)
}

func mismatch(oid pgval.OID, v any) error {
	name := "unknown"
	if t, ok := pgval.Lookup(oid); ok {
		name = t.SQLName
	}
	return pgerr.New(pgerr.DatatypeMismatch, "cannot use a value of Go type %T as %s", v, name)
}

// FromStorage converts a SQLite value into the pgval value model for oid.
// oid 0 (unknown) passes SQLite values through unchanged.
func FromStorage(oid pgval.OID, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch oid {
	case pgval.BoolOID:
		return storageBool(v)
	case pgval.RegclassOID, pgval.RegtypeOID, pgval.RegprocOID, pgval.RegnamespaceOID, pgval.RegroleOID:
		// Output conversion renders reg* values as names (text).
		if s, ok := v.(string); ok {
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				return s, nil
			}
		}
		return storageInt(v)
	case pgval.Int2OID, pgval.Int4OID, pgval.Int8OID, pgval.OIDOID, pgval.XIDOID, pgval.CIDOID:
		return storageInt(v)
	case pgval.Float4OID, pgval.Float8OID:
		return storageFloat(v)
	case pgval.ByteaOID:
		return storageBytes(v), nil
	case pgval.TimestamptzOID, pgval.TimestampOID:
		return storageTime(oid, v, TimestampLayout)
	case pgval.DateOID:
		return storageTime(oid, v, DateLayout)
	case pgval.Unspecified:
		return v, nil
	case pgval.NumericOID:
		return storageNumeric(v), nil
	}
	if pgval.ArrayElem(oid) != 0 {
		// Arrays are stored as their PostgreSQL literal (elements in UTC).
		return pgval.Parse(oid, fmt.Sprint(storageText(v)), time.UTC)
	}
	return storageText(v), nil
}

func storageBool(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string:
		b, err := pgval.Parse(pgval.BoolOID, x, time.UTC)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("sqltype: bool from %T", v)
}

func storageInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		return int64(math.RoundToEven(x)), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type bigint: %q", x)
		}
		return n, nil
	}
	return nil, fmt.Errorf("sqltype: integer from %T", v)
}

func storageFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		f, err := pgval.Parse(pgval.Float8OID, x, time.UTC)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("sqltype: float from %T", v)
}

func storageBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}

func storageTime(oid pgval.OID, v any, layout string) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("sqltype: time from %T", v)
	}
	if t, err := time.Parse(layout, s); err == nil {
		return t, nil
	}
	// Values computed by SQLite expressions may lack the fixed layout.
	t, err := pgval.Parse(oid, s, time.UTC)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func storageNumeric(v any) any {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return storageText(v)
}

func storageText(v any) any {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// Literal renders a storage value as a SQLite literal.
func Literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsInf(x, 1) {
			return "9e999"
		}
		if math.IsInf(x, -1) {
			return "-9e999"
		}
		if math.IsNaN(x) {
			return "NULL"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case string:
		return QuoteString(x)
	case []byte:
		return fmt.Sprintf("X'%X'", x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return QuoteString(fmt.Sprint(v))
}

// QuoteString renders s as a SQLite string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuoteIdent renders name as a SQLite quoted identifier.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
