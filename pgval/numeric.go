package pgval

import (
	"math/big"
	"strings"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Numeric limits from PostgreSQL's numeric.c.
const (
	numericMaxExponent     = 1<<30 - 1    // INT_MAX/2: bound on an input exponent
	numericMaxIntDigits    = 0x7FFF*4 + 4 // NUMERIC_WEIGHT_MAX base-10000 groups before the point
	numericMaxDisplayScale = 0x3FFF       // NUMERIC_DSCALE_MAX
	numericMaxInputBytes   = 1 << 20      // refuse absurd literals before scanning them
	numericOverflowMessage = "value overflows numeric format"
)

// ParseNumeric validates numeric input (decimal with optional exponent,
// underscores between digits, 0x/0o/0b integers, NaN, [+-]Infinity/inf)
// and returns PostgreSQL's output for it: no exponent, no leading zeros,
// display scale kept ("1.50e1" → "15.0", "-0.0" → "0.0").
func ParseNumeric(s string) (string, error) {
	t := trimSpace(s)
	if len(t) > numericMaxInputBytes {
		return "", pgerr.New(pgerr.NumericValueOutOfRange, numericOverflowMessage)
	}
	switch lowerASCII(t) {
	case "nan":
		return "NaN", nil
	case "infinity", "+infinity", "inf", "+inf":
		return "Infinity", nil
	case "-infinity", "-inf":
		return "-Infinity", nil
	}
	syntax := func() error { return syntaxError(NumericOID, s) }
	neg := false
	body := t
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	if len(body) > 1 && body[0] == '0' && strings.ContainsRune("xXoObB", rune(body[1])) {
		return parseNonDecimalNumeric(t, s)
	}
	intDigits, fracDigits, exp, ok := scanDecimal(body)
	if !ok {
		return "", syntax()
	}
	if exp >= numericMaxExponent || exp <= -numericMaxExponent {
		return "", pgerr.New(pgerr.NumericValueOutOfRange, numericOverflowMessage)
	}
	return normalizeDecimal(neg, intDigits, fracDigits, exp)
}

// scanDecimal splits digits[.digits][e[+-]digits] with PostgreSQL 16's
// underscore rule (only between two digits) and returns the digit strings
// without underscores.
func scanDecimal(b string) (intDigits, fracDigits string, exp int, ok bool) {
	i := 0
	readDigits := func() (string, bool) {
		start := i
		var sb []byte
		hasUnderscore := false
		for i < len(b) {
			c := b[i]
			if isDigit(c) {
				i++
				continue
			}
			if c == '_' && i > start && isDigit(b[i-1]) && i+1 < len(b) && isDigit(b[i+1]) {
				hasUnderscore = true
				i++
				continue
			}
			break
		}
		if !hasUnderscore {
			return b[start:i], true
		}
		for j := start; j < i; j++ {
			if b[j] != '_' {
				sb = append(sb, b[j])
			}
		}
		return string(sb), true
	}
	intDigits, _ = readDigits()
	if i < len(b) && b[i] == '.' {
		i++
		fracDigits, _ = readDigits()
	}
	if intDigits == "" && fracDigits == "" {
		return "", "", 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		start := i
		for i < len(b) && isDigit(b[i]) {
			if exp < 1<<31 {
				exp = exp*10 + int(b[i]-'0')
			}
			i++
		}
		if i == start {
			return "", "", 0, false
		}
		if eneg {
			exp = -exp
		}
	}
	return intDigits, fracDigits, exp, i == len(b)
}

func normalizeDecimal(neg bool, intDigits, fracDigits string, exp int) (string, error) {
	digits := intDigits + fracDigits
	point := len(intDigits) + exp // position of the decimal point in digits
	dscale := max(len(fracDigits)-exp, 0)
	firstNonZero := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	// Check the storage limits before building anything: the exponent may
	// put the point far away from the digits.
	if dscale > numericMaxDisplayScale || firstNonZero >= 0 && point-firstNonZero > numericMaxIntDigits {
		return "", pgerr.New(pgerr.NumericValueOutOfRange, numericOverflowMessage)
	}
	var sb strings.Builder
	if neg && firstNonZero >= 0 && firstNonZero < point+dscale {
		sb.WriteByte('-')
	}
	if firstNonZero < 0 || point <= firstNonZero {
		sb.WriteByte('0')
	} else {
		end := min(point, len(digits))
		sb.WriteString(digits[firstNonZero:end])
		for i := len(digits); i < point; i++ {
			sb.WriteByte('0')
		}
	}
	if dscale > 0 {
		sb.WriteByte('.')
		for i := point; i < point+dscale; i++ {
			if i >= 0 && i < len(digits) {
				sb.WriteByte(digits[i])
			} else {
				sb.WriteByte('0')
			}
		}
	}
	return sb.String(), nil
}

func parseNonDecimalNumeric(t, orig string) (string, error) {
	clean := strings.ReplaceAll(t, "_", "")
	if _, _, st := scanInt(t); st == scanSyntax {
		return "", syntaxError(NumericOID, orig)
	}
	n, ok := new(big.Int).SetString(clean, 0)
	if !ok {
		return "", syntaxError(NumericOID, orig)
	}
	out := n.String()
	if len(out) > numericMaxIntDigits {
		return "", pgerr.New(pgerr.NumericValueOutOfRange, numericOverflowMessage)
	}
	return out, nil
}
