package funcs

import (
	"crypto/md5"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

func pureFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_nonzero":       {1, nonzero},
		"chr2_raise":         {2, raise},
		"chr2_rowid_notnull": {3, rowidNotNull},
		"chr2_cast":          {3, castFn},
		"chr2_to_text":       {2, toTextFn},
		"chr2_greatest":      {-1, extremum(1)},
		"chr2_least":         {-1, extremum(-1)},
		"chr2_regex_match":   {3, regexMatch},
		"chr2_octet_length":  {1, textFn(func(s string) any { return int64(len(s)) })},
		"chr2_reverse":       {1, textFn(reverse)},
		"chr2_initcap":       {1, textFn(initcap)},
		// SQLite's lower/upper change ASCII letters only; PostgreSQL's
		// (in a UTF-8 locale) map every letter.
		"chr2_lower": {1, textFn(func(s string) any { return strings.ToLower(s) })},
		"chr2_upper": {1, textFn(func(s string) any { return strings.ToUpper(s) })},
		"chr2_md5": {1, textFn(func(s string) any {
			sum := md5.Sum([]byte(s))
			return hex.EncodeToString(sum[:])
		})},
		"chr2_left":         {2, leftRight(true)},
		"chr2_right":        {2, leftRight(false)},
		"chr2_lpad":         {-1, pad(true)},
		"chr2_rpad":         {-1, pad(false)},
		"chr2_repeat":       {2, repeatFn},
		"chr2_split_part":   {3, splitPart},
		"chr2_starts_with":  {2, startsWith},
		"chr2_concat_ws":    {-1, concatWS},
		"chr2_to_hex":       {1, toHex},
		"chr2_ceil":         {1, mathFn(math.Ceil)},
		"chr2_floor":        {1, mathFn(math.Floor)},
		"chr2_sqrt":         {1, sqrtFn},
		"chr2_power":        {2, powerFn},
		"chr2_round":        {2, roundFn(false)},
		"chr2_round_float":  {1, floatFn(math.RoundToEven)},
		"chr2_trunc_float":  {1, floatFn(math.Trunc)},
		"chr2_trunc":        {2, roundFn(true)},
		"chr2_time_add":     {4, timeAdd},
		"chr2_time_diff":    {2, timeDiff},
		"chr2_time_round":   {3, timeRound},
		"chr2_interval_neg": {1, intervalNeg},
		"chr2_at_time_zone": {3, atTimeZone},
		"chr2_date_trunc":   {2, dateTrunc},
		"chr2_date_part":    {3, datePart},
		"chr2_extract":      {3, extractFn},
		"chr2_to_timestamp": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			f := asFloat(a[0])
			t := time.UnixMicro(int64(math.Round(f * 1e6))).UTC()
			return t.Format(sqltype.TimestampLayout), nil
		}},
		"chr2_array":          {-1, arrayFn},
		"chr2_array_json":     {2, arrayJSON},
		"chr2_json_get":       {3, jsonGet},
		"chr2_json_get_path":  {3, jsonGetPath},
		"chr2_jsonb_concat":   {2, jsonbConcat},
		"chr2_jsonb_contains": {2, jsonbContains},
		"chr2_json_object":    {-1, jsonObject},
		"chr2_jsonb_typeof":   {1, jsonbTypeof},
	}
}

// raise fails the statement with SQLSTATE a[0] and message a[1]: the
// translator's way to report an error only the data reveals.
func raise(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	return nil, Error(pgerr.Code(fmt.Sprint(a[0])), "%s", fmt.Sprint(a[1]))
}

// rowidNotNull passes a value written to a table's rowid column and
// refuses NULL, which SQLite would replace with a new row number.
func rowidNotNull(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] != nil {
		return a[0], nil
	}
	col, table := fmt.Sprint(a[1]), fmt.Sprint(a[2])
	pe := pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", col, table)
	pe.TableName, pe.ColumnName = table, col
	return nil, FromPG(pe)
}

func nonzero(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	switch x := a[0].(type) {
	case int64:
		if x == 0 {
			return nil, Error(pgerr.DivisionByZero, "division by zero")
		}
	case float64:
		if x == 0 {
			return nil, Error(pgerr.DivisionByZero, "division by zero")
		}
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && f == 0 {
			return nil, Error(pgerr.DivisionByZero, "division by zero")
		}
	}
	return a[0], nil
}

// castFn converts a storage value of type from to the storage value of type
// to with PostgreSQL's cast semantics.
func castFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	from, to := pgval.OID(asInt(a[1])), pgval.OID(asInt(a[2]))
	v, err := Cast(a[0], from, to)
	if err != nil {
		return nil, FromPG(err)
	}
	return v, nil
}

// Cast converts a storage value between PostgreSQL types.
func Cast(v any, from, to pgval.OID) (any, error) {
	if v == nil {
		return nil, nil
	}
	if fe, te := pgval.ArrayElem(from), pgval.ArrayElem(to); fe != 0 && te != 0 && fe != te {
		return castArray(v, fe, te) // arraymd.go
	}
	if sqltype.IsText(to) {
		s, err := castText(v, from)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	if sqltype.IsInteger(to) && (from == pgval.NumericOID || from == pgval.Float8OID || from == pgval.Float4OID) {
		f := asFloat(v)
		if from == pgval.NumericOID {
			f = math.Round(f) // numeric rounds half away from zero
		} else {
			f = math.RoundToEven(f)
		}
		return sqltype.ToStorage(to, f)
	}
	if to == pgval.BoolOID && sqltype.IsInteger(from) {
		return boolInt(asInt(v) != 0), nil
	}
	if to == pgval.NumericOID && (sqltype.IsNumeric(from)) {
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64), nil
		}
		return fmt.Sprint(v), nil
	}
	if sqltype.IsNumeric(from) && (to == pgval.Float8OID || to == pgval.Float4OID) {
		return asFloat(v), nil
	}
	text, err := castText(v, from)
	if err != nil {
		return nil, err
	}
	return sqltype.ToStorage(to, text)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// castText renders a storage value as PostgreSQL's text cast would.
func castText(v any, from pgval.OID) (string, error) {
	if from == pgval.BoolOID {
		if asInt(v) != 0 {
			return "true", nil
		}
		return "false", nil
	}
	if sqltype.IsText(from) || from == pgval.Unspecified {
		return fmt.Sprint(v), nil
	}
	pv, err := sqltype.FromStorage(from, v)
	if err != nil {
		return "", err
	}
	return pgval.Format(from, pv, time.UTC)
}

func toTextFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	s, err := castText(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

// extremum implements greatest (dir 1) and least (dir -1): NULLs are ignored.
func extremum(dir int) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		var best driver.Value
		for _, v := range a {
			if v == nil {
				continue
			}
			if best == nil || compareValues(v, best)*dir > 0 {
				best = v
			}
		}
		return best, nil
	}
}

func compareValues(a, b driver.Value) int {
	switch x := a.(type) {
	case int64, float64:
		fa, fb := asFloat(x), asFloat(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func asFloat(v driver.Value) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f
	}
	return 0
}

var regexCache sync.Map // pattern+flags → *regexp.Regexp

func regexMatch(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	pattern := fmt.Sprint(a[1])
	if asInt(a[2]) != 0 {
		pattern = "(?i)" + pattern
	}
	re, ok := regexCache.Load(pattern)
	if !ok {
		compiled, err := regexp.Compile(pattern)
		if err != nil {
			return nil, Error(pgerr.InvalidRegularExpression, "invalid regular expression: %v", err)
		}
		re, _ = regexCache.LoadOrStore(pattern, compiled)
	}
	return boolInt(re.(*regexp.Regexp).MatchString(fmt.Sprint(a[0]))), nil
}

func textFn(f func(string) any) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		return f(fmt.Sprint(a[0])), nil
	}
}

func reverse(s string) any {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func initcap(s string) any {
	var b strings.Builder
	start := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			start = false
			continue
		}
		b.WriteRune(r)
		start = true
	}
	return b.String()
}

func leftRight(left bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		r := []rune(fmt.Sprint(a[0]))
		n := int(asInt(a[1]))
		if n < 0 {
			n = len(r) + n
			if n < 0 {
				n = 0
			}
		}
		if n > len(r) {
			n = len(r)
		}
		if left {
			return string(r[:n]), nil
		}
		return string(r[len(r)-n:]), nil
	}
}

func pad(left bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if len(a) < 2 || a[0] == nil || a[1] == nil {
			return nil, nil
		}
		s, n, fill := []rune(fmt.Sprint(a[0])), int(asInt(a[1])), " "
		if len(a) > 2 {
			if a[2] == nil {
				return nil, nil
			}
			fill = fmt.Sprint(a[2])
		}
		if n < 0 {
			n = 0
		}
		if len(s) >= n {
			return string(s[:n]), nil
		}
		if fill == "" {
			return string(s), nil
		}
		f := []rune(fill)
		padding := make([]rune, 0, n-len(s))
		for i := 0; len(padding) < n-len(s); i++ {
			padding = append(padding, f[i%len(f)])
		}
		if left {
			return string(padding) + string(s), nil
		}
		return string(s) + string(padding), nil
	}
}

func repeatFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	n := asInt(a[1])
	s := fmt.Sprint(a[0])
	if n <= 0 {
		return "", nil
	}
	if int64(len(s))*n > 1<<28 {
		return nil, Error(pgerr.ProgramLimitExceeded, "requested length too large")
	}
	return strings.Repeat(s, int(n)), nil
}

func splitPart(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil {
		return nil, nil
	}
	s, sep, n := fmt.Sprint(a[0]), fmt.Sprint(a[1]), int(asInt(a[2]))
	if n == 0 {
		return nil, Error(pgerr.InvalidParameterValue, "field position must not be zero")
	}
	var parts []string
	if sep == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, sep)
	}
	if n < 0 {
		n = len(parts) + n + 1
	}
	if n < 1 || n > len(parts) {
		return "", nil
	}
	return parts[n-1], nil
}

func startsWith(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	return boolInt(strings.HasPrefix(fmt.Sprint(a[0]), fmt.Sprint(a[1]))), nil
}

func concatWS(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) == 0 || a[0] == nil {
		return nil, nil
	}
	sep := fmt.Sprint(a[0])
	parts := make([]string, 0, len(a)-1)
	for _, v := range a[1:] {
		if v != nil {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, sep), nil
}

func toHex(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	return strconv.FormatUint(uint64(asInt(a[0])), 16), nil
}

func mathFn(f func(float64) float64) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		switch x := a[0].(type) {
		case nil:
			return nil, nil
		case int64:
			return x, nil
		}
		return f(asFloat(a[0])), nil
	}
}

// floatFn applies f to a float argument.
func floatFn(f func(float64) float64) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		return f(asFloat(a[0])), nil
	}
}

func sqrtFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	f := asFloat(a[0])
	if f < 0 {
		return nil, Error(pgerr.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
	}
	return math.Sqrt(f), nil
}

func powerFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, y := asFloat(a[0]), asFloat(a[1])
	if x == 0 && y < 0 {
		return nil, Error(pgerr.InvalidArgumentForPowerFunction, "zero raised to a negative power is undefined")
	}
	return math.Pow(x, y), nil
}

// roundFn rounds (or truncates) to n decimal places, half away from zero as
// PostgreSQL's numeric round does; the result is decimal text.
func roundFn(truncate bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		n := int(asInt(a[1]))
		f := asFloat(a[0])
		scale := math.Pow(10, float64(n))
		var r float64
		if truncate {
			r = math.Trunc(f*scale) / scale
		} else {
			r = math.Round(f*scale) / scale
		}
		if _, isFloat := a[0].(float64); isFloat && n == 0 {
			return r, nil
		}
		if n < 0 {
			n = 0
		}
		return strconv.FormatFloat(r, 'f', n, 64), nil
	}
}
