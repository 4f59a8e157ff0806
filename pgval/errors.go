package pgval

import (
	"errors"
	"fmt"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Sentinel errors. Client-visible failures are *pgerr.Error values that wrap
// one of these where a caller may want to react to the kind of failure.
var (
	// ErrTimeDependent marks date/time input words whose meaning depends on
	// the current time ('now', 'today', 'tomorrow', 'yesterday'). The SQL
	// layer resolves them from the deterministic context (G4); pgval never
	// reads the clock.
	ErrTimeDependent = errors.New("pgval: input depends on the current time")
	// ErrBadValue means a Go value does not fit the value model for the
	// requested type: an engine bug, reported to clients as XX000.
	ErrBadValue = errors.New("pgval: Go value does not fit the type")
	// ErrNoBinary means the type has no binary codec in pgval.
	ErrNoBinary = errors.New("pgval: no binary format for type")
	// ErrNull means a NULL was passed where a value is required: NULL has no
	// text or binary form, the protocol encodes it as length -1.
	ErrNull = errors.New("pgval: NULL has no encoded form")
)

// typeName is the format_type spelling used in PostgreSQL's messages.
func typeName(oid OID) string {
	if t, ok := Lookup(oid); ok {
		return t.SQLName
	}
	return fmt.Sprintf("oid %d", oid)
}

// syntaxError is PostgreSQL's generic input-function failure.
func syntaxError(oid OID, s string) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation,
		"invalid input syntax for type %s: \"%s\"", typeName(oid), s)
}

func rangeError(oid OID, s string) *pgerr.Error {
	return pgerr.New(pgerr.NumericValueOutOfRange,
		"value \"%s\" is out of range for type %s", s, typeName(oid))
}

func binaryFormatError(format string, args ...any) *pgerr.Error {
	return pgerr.New(pgerr.InvalidBinaryRepresentation, format, args...)
}

func badValue(oid OID, v any) error {
	return fmt.Errorf("%w: %T for %s", ErrBadValue, v, typeName(oid))
}

// isSpace is PostgreSQL's scanner_isspace / C isspace set.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lower folds ASCII letters; PostgreSQL's keyword matching is ASCII-only.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
