package pgval

import (
	"sort"
	"unicode/utf8"

	"github.com/chr2sql/chr2sql/pgerr"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust memory; it is
// in the range PostgreSQL reaches with its default max_stack_depth.
const maxJSONDepth = 6400

// ValidateJSON checks s against the JSON grammar PostgreSQL's json type
// enforces. The json type keeps its input text verbatim.
func ValidateJSON(s string) error {
	p := jsonParser{s: s}
	_, err := p.document()
	return err
}

// NormalizeJSONB parses s as jsonb and returns PostgreSQL's jsonb output:
// object keys sorted by (length, bytes), duplicate keys resolved to the last
// value, numbers in numeric output form, ", " and ": " separators.
func NormalizeJSONB(s string) (string, error) {
	p := jsonParser{s: s, build: true}
	v, err := p.document()
	if err != nil {
		return "", err
	}
	return string(v.appendText(make([]byte, 0, len(s)))), nil
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonTrue
	jsonFalse
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

type jsonValue struct {
	kind    jsonKind
	text    string // string contents (unescaped) or normalized number
	items   []jsonValue
	members []jsonMember
}

type jsonMember struct {
	key string
	val jsonValue
}

type jsonParser struct {
	s     string
	i     int
	depth int
	build bool // jsonb: build a tree and apply jsonb's stricter string rules
}

func jsonSyntax(detail string, args ...any) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail(detail, args...)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// token returns the text PostgreSQL would quote in an error: a run of
// alphanumerics, or one character.
func (p *jsonParser) token() string {
	if p.i >= len(p.s) {
		return ""
	}
	j := p.i
	for j < len(p.s) && (isDigit(p.s[j]) || p.s[j]|0x20 >= 'a' && p.s[j]|0x20 <= 'z' || p.s[j] >= 0x80) {
		j++
	}
	if j == p.i {
		_, n := utf8.DecodeRuneInString(p.s[p.i:])
		j = p.i + n
	}
	return p.s[p.i:j]
}

func (p *jsonParser) unexpectedEnd() *pgerr.Error {
	return jsonSyntax("The input string ended unexpectedly.")
}

func (p *jsonParser) document() (jsonValue, error) {
	p.ws()
	v, err := p.value()
	if err != nil {
		return v, err
	}
	p.ws()
	if p.i < len(p.s) {
		return v, jsonSyntax("Expected end of input, but found \"%s\".", p.token())
	}
	return v, nil
}

func (p *jsonParser) value() (jsonValue, error) {
	if p.i >= len(p.s) {
		return jsonValue{}, p.unexpectedEnd()
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		str, err := p.str()
		return jsonValue{kind: jsonString, text: str}, err
	case c == '-' || isDigit(c):
		return p.number()
	}
	tok := p.token()
	switch tok {
	case "true":
		p.i += 4
		return jsonValue{kind: jsonTrue}, nil
	case "false":
		p.i += 5
		return jsonValue{kind: jsonFalse}, nil
	case "null":
		p.i += 4
		return jsonValue{kind: jsonNull}, nil
	}
	return jsonValue{}, jsonSyntax("Token \"%s\" is invalid.", tok)
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return pgerr.New(pgerr.StatementTooComplex, "stack depth limit exceeded").
			WithHint("JSON nesting is limited to %d levels.", maxJSONDepth)
	}
	return nil
}

func (p *jsonParser) array() (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // '['
	v := jsonValue{kind: jsonArray}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		item, err := p.value()
		if err != nil {
			return v, err
		}
		if p.build {
			v.items = append(v.items, item)
		}
		p.ws()
		if p.i >= len(p.s) {
			return v, p.unexpectedEnd()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return v, nil
		default:
			return v, jsonSyntax("Expected \",\" or \"]\", but found \"%s\".", p.token())
		}
	}
}

func (p *jsonParser) object() (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	v := jsonValue{kind: jsonObject}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) {
			return v, p.unexpectedEnd()
		}
		if p.s[p.i] != '"' {
			return v, jsonSyntax("Expected string, but found \"%s\".", p.token())
		}
		key, err := p.str()
		if err != nil {
			return v, err
		}
		p.ws()
		if p.i >= len(p.s) {
			return v, p.unexpectedEnd()
		}
		if p.s[p.i] != ':' {
			return v, jsonSyntax("Expected \":\", but found \"%s\".", p.token())
		}
		p.i++
		p.ws()
		val, err := p.value()
		if err != nil {
			return v, err
		}
		if p.build {
			v.members = append(v.members, jsonMember{key: key, val: val})
		}
		p.ws()
		if p.i >= len(p.s) {
			return v, p.unexpectedEnd()
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			if p.build {
				v.members = dedupeMembers(v.members)
			}
			return v, nil
		default:
			return v, jsonSyntax("Expected \",\" or \"}\", but found \"%s\".", p.token())
		}
	}
}

// dedupeMembers sorts keys as jsonb does (shorter first, then bytewise) and
// keeps the last value of a repeated key.
func dedupeMembers(ms []jsonMember) []jsonMember {
	sort.SliceStable(ms, func(a, b int) bool {
		ka, kb := ms[a].key, ms[b].key
		if len(ka) != len(kb) {
			return len(ka) < len(kb)
		}
		return ka < kb
	})
	out := ms[:0]
	for i := range ms {
		if i+1 < len(ms) && ms[i+1].key == ms[i].key {
			continue
		}
		out = append(out, ms[i])
	}
	return out
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	bad := func() (jsonValue, error) {
		for p.i < len(p.s) && (isDigit(p.s[p.i]) || p.s[p.i]|0x20 >= 'a' && p.s[p.i]|0x20 <= 'z' || p.s[p.i] == '.') {
			p.i++
		}
		return jsonValue{}, jsonSyntax("Token \"%s\" is invalid.", p.s[start:p.i])
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case p.i < len(p.s) && isDigit(p.s[p.i]):
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	default:
		return bad()
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.i >= len(p.s) || !isDigit(p.s[p.i]) {
			return bad()
		}
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.i >= len(p.s) || !isDigit(p.s[p.i]) {
			return bad()
		}
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	}
	if p.i < len(p.s) && (isDigit(p.s[p.i]) || p.s[p.i]|0x20 >= 'a' && p.s[p.i]|0x20 <= 'z') {
		return bad()
	}
	lit := p.s[start:p.i]
	if !p.build {
		return jsonValue{kind: jsonNumber}, nil
	}
	norm, err := ParseNumeric(lit)
	if err != nil {
		return jsonValue{}, err
	}
	return jsonValue{kind: jsonNumber, text: norm}, nil
}

// str reads a JSON string; for jsonb it also de-escapes and refuses \u0000.
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	var out []byte
	for {
		if p.i >= len(p.s) {
			return "", p.unexpectedEnd()
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if out == nil {
				return p.s[start : p.i-1], nil
			}
			return string(out), nil
		case c < 0x20:
			return "", jsonSyntax("Character with value 0x%02x must be escaped.", c)
		case c != '\\':
			if out != nil {
				out = append(out, c)
			}
			p.i++
			continue
		}
		if out == nil && p.build {
			out = append(make([]byte, 0, len(p.s)-start), p.s[start:p.i]...)
		}
		var err error
		if out, err = p.escape(out); err != nil {
			return "", err
		}
	}
}

func (p *jsonParser) escape(out []byte) ([]byte, error) {
	p.i++ // backslash
	if p.i >= len(p.s) {
		return out, p.unexpectedEnd()
	}
	c := p.s[p.i]
	p.i++
	var b byte
	switch c {
	case '"', '\\', '/':
		b = c
	case 'b':
		b = '\b'
	case 'f':
		b = '\f'
	case 'n':
		b = '\n'
	case 'r':
		b = '\r'
	case 't':
		b = '\t'
	case 'u':
		return p.unicodeEscape(out)
	default:
		_, n := utf8.DecodeRuneInString(p.s[p.i-1:])
		return out, jsonSyntax("Escape sequence \"\\%s\" is invalid.", p.s[p.i-1:p.i-1+n])
	}
	if out != nil {
		out = append(out, b)
	}
	return out, nil
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		d := digitValue(p.s[p.i+k])
		if d > 15 {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}

func (p *jsonParser) unicodeEscape(out []byte) ([]byte, error) {
	r, ok := p.hex4()
	if !ok {
		return out, jsonSyntax("\"\\u\" must be followed by four hexadecimal digits.")
	}
	if !p.build {
		return out, nil // the json type keeps escapes as written, even lone surrogates
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return out, jsonSyntax("Unicode low surrogate must follow a high surrogate.")
	case r >= 0xD800 && r <= 0xDBFF:
		if p.i+2 > len(p.s) || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
			return out, jsonSyntax("Unicode low surrogate must follow a high surrogate.")
		}
		p.i += 2
		lo, ok := p.hex4()
		if !ok {
			return out, jsonSyntax("\"\\u\" must be followed by four hexadecimal digits.")
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			if lo >= 0xD800 && lo <= 0xDBFF {
				return out, jsonSyntax("Unicode high surrogate must not follow a high surrogate.")
			}
			return out, jsonSyntax("Unicode low surrogate must follow a high surrogate.")
		}
		r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
	case r == 0:
		return out, pgerr.New(pgerr.UntranslatableCharacter, "unsupported Unicode escape sequence").
			WithDetail("\\u0000 cannot be converted to text.")
	}
	if out != nil {
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

func (v *jsonValue) appendText(dst []byte) []byte {
	switch v.kind {
	case jsonNull:
		return append(dst, "null"...)
	case jsonTrue:
		return append(dst, "true"...)
	case jsonFalse:
		return append(dst, "false"...)
	case jsonNumber:
		return append(dst, v.text...)
	case jsonString:
		return appendJSONString(dst, v.text)
	case jsonArray:
		dst = append(dst, '[')
		for i := range v.items {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = v.items[i].appendText(dst)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i := range v.members {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendJSONString(dst, v.members[i].key)
		dst = append(dst, ": "...)
		dst = v.members[i].val.appendText(dst)
	}
	return append(dst, '}')
}

// appendJSONString is PostgreSQL's escape_json.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		default:
			if c < 0x20 {
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}
