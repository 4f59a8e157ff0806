package funcs

import (
	"crypto/sha256"
	"crypto/sha512"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// String, regular expression and byte functions.

func stringFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_regexp_replace":   {4, regexpReplace},
		"chr2_regexp_match":     {3, regexpMatchFn},
		"chr2_regexp_items":     {4, regexpItems},
		"chr2_string_to_array":  {3, stringToArray},
		"chr2_translate":        {3, translateFn},
		"chr2_format":           {-1, formatFn},
		"chr2_ascii":            {1, textFn(asciiOf)},
		"chr2_chr":              {1, chrFn},
		"chr2_encode":           {2, encodeFn},
		"chr2_decode":           {2, decodeFn},
		"chr2_convert_from":     {2, convertFrom},
		"chr2_sha":              {2, shaFn},
		"chr2_overlay":          {4, overlayFn},
		"chr2_substr":           {3, substrFn},
		"chr2_substring_regex":  {2, substringRegex},
		"chr2_similar_to_regex": {2, similarToRegex},
		"chr2_bytes_length":     {1, bytesLength},
	}
}

// compileRegexp compiles a PostgreSQL pattern with flags (i: case
// insensitive; n, p, w, s: newline handling; x: expanded).
func compileRegexp(pattern, flags string) (*regexp.Regexp, error) {
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'i':
			prefix += "i"
		case 's':
			prefix += "s"
		case 'n', 'p', 'w', 'm':
			prefix += "m"
		case 'g', 'c', 'x', 't':
		default:
			return nil, Error(pgerr.InvalidParameterValue, "invalid regular expression option: %q", string(f))
		}
	}
	key := prefix + "\x00" + pattern
	if re, ok := regexCache.Load(key); ok {
		return re.(*regexp.Regexp), nil
	}
	p := pattern
	if prefix != "" {
		p = "(?" + prefix + ")" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, Error(pgerr.InvalidRegularExpression, "invalid regular expression: %v", err)
	}
	v, _ := regexCache.LoadOrStore(key, re)
	return v.(*regexp.Regexp), nil
}

// pgReplacement converts PostgreSQL's \1 and \& in a replacement to Go's
// ${1} and ${0}.
func pgReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			b.WriteString("${" + string(r[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '&':
			b.WriteString("${0}")
			i++
		case c == '\\' && i+1 < len(r):
			b.WriteByte(r[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func regexpReplace(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil {
		return nil, nil
	}
	flags := ""
	if a[3] != nil {
		flags = fmt.Sprint(a[3])
	}
	re, err := compileRegexp(fmt.Sprint(a[1]), flags)
	if err != nil {
		return nil, err
	}
	src, repl := fmt.Sprint(a[0]), pgReplacement(fmt.Sprint(a[2]))
	if strings.Contains(flags, "g") {
		return re.ReplaceAllString(src, repl), nil
	}
	loc := re.FindStringSubmatchIndex(src)
	if loc == nil {
		return src, nil
	}
	var out []byte
	out = re.ExpandString(out, repl, src, loc)
	return src[:loc[0]] + string(out) + src[loc[1]:], nil
}

// matchArray renders one match as text[]: its groups, or the whole match.
func matchArray(m []string) (string, error) {
	parts := m
	if len(m) > 1 {
		parts = m[1:]
	}
	vals := make([]any, len(parts))
	for i, p := range parts {
		vals[i] = p
	}
	return pgval.Format(pgval.TextArrayOID, vals, time.UTC)
}

func regexpMatchFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	flags := ""
	if a[2] != nil {
		flags = fmt.Sprint(a[2])
	}
	re, err := compileRegexp(fmt.Sprint(a[1]), flags)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatch(fmt.Sprint(a[0]))
	if m == nil {
		return nil, nil
	}
	s, err := matchArray(m)
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

// regexpItems lists regexp_matches' matches (as text[] literals) or
// regexp_split_to_table's parts as a JSON array for json_each.
func regexpItems(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return "[]", nil
	}
	flags := ""
	if a[2] != nil {
		flags = fmt.Sprint(a[2])
	}
	re, err := compileRegexp(fmt.Sprint(a[1]), flags)
	if err != nil {
		return nil, err
	}
	src := fmt.Sprint(a[0])
	var items []string
	mode := fmt.Sprint(a[3])
	if mode == "split" || mode == "split_array" {
		items = re.Split(src, -1)
		if mode == "split_array" {
			vals := make([]any, len(items))
			for i, it := range items {
				vals[i] = it
			}
			out, err := pgval.Format(pgval.TextArrayOID, vals, time.UTC)
			if err != nil {
				return nil, FromPG(err)
			}
			return out, nil
		}
	} else {
		n := 1
		if strings.Contains(flags, "g") {
			n = -1
		}
		for _, m := range re.FindAllStringSubmatch(src, n) {
			s, err := matchArray(m)
			if err != nil {
				return nil, FromPG(err)
			}
			items = append(items, s)
		}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	if items == nil {
		return "[]", nil
	}
	return string(b), nil
}

func stringToArray(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	s := fmt.Sprint(a[0])
	var parts []string
	switch {
	case a[1] == nil:
		for _, r := range s {
			parts = append(parts, string(r))
		}
	case s == "":
		parts = nil
	case fmt.Sprint(a[1]) == "":
		parts = []string{s}
	default:
		parts = strings.Split(s, fmt.Sprint(a[1]))
	}
	vals := make([]any, len(parts))
	for i, p := range parts {
		if a[2] != nil && p == fmt.Sprint(a[2]) {
			vals[i] = nil
			continue
		}
		vals[i] = p
	}
	out, err := pgval.Format(pgval.TextArrayOID, vals, time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	return out, nil
}

func translateFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil {
		return nil, nil
	}
	from, to := []rune(fmt.Sprint(a[1])), []rune(fmt.Sprint(a[2]))
	var b strings.Builder
	for _, r := range fmt.Sprint(a[0]) {
		i := strings.IndexRune(string(from), r)
		switch {
		case i < 0:
			b.WriteRune(r)
		default:
			idx := utf8.RuneCountInString(string(from)[:i])
			if idx < len(to) {
				b.WriteRune(to[idx])
			}
		}
	}
	return b.String(), nil
}

func asciiOf(s string) any {
	if s == "" {
		return int64(0)
	}
	r, _ := utf8.DecodeRuneInString(s)
	return int64(r)
}

func chrFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	n := asInt(a[0])
	switch {
	case n == 0:
		return nil, Error(pgerr.ProgramLimitExceeded, "null character not permitted")
	case n < 0 || n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF:
		return nil, Error(pgerr.ProgramLimitExceeded, "requested character too large for encoding: %d", n)
	}
	return string(rune(n)), nil
}

func bytesOf(v driver.Value) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}

func encodeFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	b := bytesOf(a[0])
	switch strings.ToLower(fmt.Sprint(a[1])) {
	case "base64":
		s := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for i := 0; i < len(s); i += 76 { // PostgreSQL wraps base64 at 76 characters
			if i > 0 {
				out.WriteByte('\n')
			}
			out.WriteString(s[i:min(i+76, len(s))])
		}
		return out.String(), nil
	case "hex":
		return hex.EncodeToString(b), nil
	case "escape":
		var out strings.Builder
		for _, c := range b {
			switch {
			case c == '\\':
				out.WriteString(`\\`)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&out, `\%03o`, c)
			default:
				out.WriteByte(c)
			}
		}
		return out.String(), nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unrecognized encoding: %q", a[1])
}

func decodeFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	s := fmt.Sprint(a[0])
	switch strings.ToLower(fmt.Sprint(a[1])) {
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, Error(pgerr.InvalidParameterValue, "invalid base64 end sequence")
		}
		return b, nil
	case "hex":
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, Error(pgerr.InvalidParameterValue, "invalid hexadecimal data")
		}
		return b, nil
	case "escape":
		v, err := pgval.Parse(pgval.ByteaOID, strings.ReplaceAll(s, `\x`, `\\x`), time.UTC)
		if err != nil {
			return nil, FromPG(err)
		}
		return v, nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unrecognized encoding: %q", a[1])
}

func convertFrom(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	enc := strings.ToUpper(strings.ReplaceAll(fmt.Sprint(a[1]), "-", ""))
	if enc != "UTF8" && enc != "SQLASCII" {
		return nil, Error(pgerr.FeatureNotSupported, "conversion from %s is not supported", a[1])
	}
	b := bytesOf(a[0])
	if err := pgval.CheckUTF8(b); err != nil {
		return nil, FromPG(err)
	}
	return string(b), nil
}

func shaFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	b := bytesOf(a[0])
	switch asInt(a[1]) {
	case 224:
		s := sha256.Sum224(b)
		return s[:], nil
	case 256:
		s := sha256.Sum256(b)
		return s[:], nil
	case 384:
		s := sha512.Sum384(b)
		return s[:], nil
	}
	s := sha512.Sum512(b)
	return s[:], nil
}

// substrFn is substring(s, start [, count]) on characters of text or bytes
// of a blob: positions before 1 count toward count but yield nothing.
func substrFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	start := asInt(a[1])
	end := int64(math.MaxInt64)
	if a[2] != nil {
		count := asInt(a[2])
		if count < 0 {
			return nil, Error(pgerr.SubstringError, "negative substring length not allowed")
		}
		if start > 0 && count > math.MaxInt64-start {
			count = math.MaxInt64 - start
		}
		end = start + count
	}
	clip := func(n int) (int, int) {
		from := max(start, 1) - 1
		to := min(end-1, int64(n))
		if from >= int64(n) || to <= from {
			return 0, 0
		}
		return int(from), int(to)
	}
	if b, ok := a[0].([]byte); ok {
		from, to := clip(len(b))
		return append([]byte{}, b[from:to]...), nil
	}
	r := []rune(fmt.Sprint(a[0]))
	from, to := clip(len(r))
	return string(r[from:to]), nil
}

// substringRegex is substring(s from pattern): the text of the first
// parenthesised subexpression, or of the whole match if there is none.
func substringRegex(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	re, err := compileRegexp(fmt.Sprint(a[1]), "")
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(fmt.Sprint(a[0]))
	if m == nil {
		return nil, nil
	}
	s := fmt.Sprint(a[0])
	if len(m) > 2 {
		if m[2] < 0 {
			return nil, nil
		}
		return s[m[2]:m[3]], nil
	}
	return s[m[0]:m[1]], nil
}

// overlayFn is overlay(s placing r from start [for count]).
func overlayFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil {
		return nil, nil
	}
	s, r := []rune(fmt.Sprint(a[0])), fmt.Sprint(a[1])
	start := int(asInt(a[2]))
	count := utf8.RuneCountInString(r)
	if a[3] != nil {
		count = int(asInt(a[3]))
	}
	if start < 1 {
		return nil, Error(pgerr.SubstringError, "negative substring length not allowed")
	}
	head := string(s[:min(start-1, len(s))])
	tailAt := min(max(start-1+count, 0), len(s))
	return head + r + string(s[tailAt:]), nil
}

// similarToRegex translates SIMILAR TO's pattern to a regular expression
// anchored at both ends (PostgreSQL's similar_to_escape).
func similarToRegex(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	esc := `\`
	if a[1] != nil {
		esc = fmt.Sprint(a[1])
	}
	var b strings.Builder
	b.WriteString("^(?:")
	p := fmt.Sprint(a[0])
	inBracket := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case esc != "" && strings.HasPrefix(p[i:], esc) && i+len(esc) < len(p):
			i += len(esc)
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case inBracket:
			b.WriteByte(c)
			if c == ']' {
				inBracket = false
			}
		case c == '[':
			inBracket = true
			b.WriteByte(c)
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteByte('.')
		case c == '.' || c == '^' || c == '$':
			b.WriteString(`\` + string(c))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(")$")
	return b.String(), nil
}

func bytesLength(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	return int64(len(bytesOf(a[0]))), nil
}

// formatFn is format(fmt, args…): %s, %I and %L with optional position
// (%2$s), left alignment (%-5s) and width (%5s, %*s).
func formatFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) == 0 || a[0] == nil {
		return nil, nil
	}
	f, args := fmt.Sprint(a[0]), a[1:]
	var b strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, Error(pgerr.InvalidParameterValue, "unterminated format() type specifier")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		spec, n, err := parseFormatSpec(f[i:], &next, args)
		if err != nil {
			return nil, err
		}
		i += n
		b.WriteString(spec)
	}
	return b.String(), nil
}

func parseFormatSpec(f string, next *int, args []driver.Value) (string, int, error) {
	i := 0
	num := func() (int, bool) {
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j == i {
			return 0, false
		}
		v, _ := strconv.Atoi(f[i:j])
		i = j
		return v, true
	}
	argPos := -1
	if v, ok := num(); ok {
		if i < len(f) && f[i] == '$' {
			argPos = v - 1
			i++
		} else {
			i -= len(strconv.Itoa(v)) // a width, parsed below
		}
	}
	left := false
	if i < len(f) && f[i] == '-' {
		left = true
		i++
	}
	width, _ := num()
	if i >= len(f) {
		return "", 0, Error(pgerr.InvalidParameterValue, "unterminated format() type specifier")
	}
	conv := f[i]
	if argPos < 0 {
		argPos = *next
	}
	*next = argPos + 1
	if argPos >= len(args) {
		return "", 0, Error(pgerr.InvalidParameterValue, "too few arguments for format()")
	}
	v := args[argPos]
	var s string
	switch conv {
	case 's':
		if v != nil {
			s = fmt.Sprint(v)
		}
	case 'I':
		if v == nil {
			return "", 0, Error(pgerr.NullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
		}
		s = QuoteIdent(fmt.Sprint(v))
	case 'L':
		s = "NULL"
		if v != nil {
			s = quoteLiteral(fmt.Sprint(v))
		}
	default:
		return "", 0, Error(pgerr.InvalidParameterValue, "unrecognized format() type specifier %q", string(conv))
	}
	if pad := width - utf8.RuneCountInString(s); pad > 0 {
		if left {
			s += strings.Repeat(" ", pad)
		} else {
			s = strings.Repeat(" ", pad) + s
		}
	}
	return s, i, nil
}
