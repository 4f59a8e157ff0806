package pgval

import (
	"github.com/chr2sql/chr2sql/pgerr"
)

const hexDigits = "0123456789abcdef"

// parseBytea accepts the hex format ("\x0102", whitespace allowed between
// digit pairs) and the escape format (octal "\ooo", "\\" and raw bytes).
func parseBytea(s string) ([]byte, error) {
	if len(s) >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X') {
		return parseByteaHex(s[2:])
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func parseByteaHex(h string) ([]byte, error) {
	out := make([]byte, 0, len(h)/2)
	for i := 0; i < len(h); {
		if isSpace(h[i]) {
			i++
			continue
		}
		hi := digitValue(h[i])
		if hi > 15 {
			return nil, invalidHexDigit(h[i])
		}
		if i+1 >= len(h) {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
		}
		lo := digitValue(h[i+1])
		if lo > 15 {
			return nil, invalidHexDigit(h[i+1])
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return out, nil
}

func invalidHexDigit(c byte) *pgerr.Error {
	if c < 0x20 || c >= 0x7f {
		return pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: \"\\x%02x\"", c)
	}
	return pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: \"%c\"", c)
}

// appendByteaHex writes bytea_output=hex: "\x" then lower-case hex.
func appendByteaHex(dst, b []byte) []byte {
	dst = append(dst, '\\', 'x')
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// uuid

// parseUUID is string_to_uuid: optional braces, 32 hex digits, a hyphen
// allowed after any group of four digits; returns the canonical form.
func parseUUID(s string) (string, error) {
	var raw [16]byte
	if !decodeUUIDText(s, &raw) {
		return "", syntaxError(UUIDOID, s)
	}
	return string(appendUUID(nil, raw[:])), nil
}

func decodeUUIDText(s string, raw *[16]byte) bool {
	i := 0
	braces := len(s) > 0 && s[0] == '{'
	if braces {
		i++
	}
	for k := 0; k < 16; k++ {
		if i+1 >= len(s) {
			return false
		}
		hi, lo := digitValue(s[i]), digitValue(s[i+1])
		if hi > 15 || lo > 15 {
			return false
		}
		raw[k] = byte(hi<<4 | lo)
		i += 2
		if i < len(s) && s[i] == '-' && k%2 == 1 && k < 15 {
			i++
		}
	}
	if braces {
		if i >= len(s) || s[i] != '}' {
			return false
		}
		i++
	}
	return i == len(s)
}

func appendUUID(dst, raw []byte) []byte {
	for k, c := range raw {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}
