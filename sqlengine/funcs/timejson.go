package funcs

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

func parseStoredTime(v driver.Value) (time.Time, error) {
	s := fmt.Sprint(v)
	if t, err := time.Parse(sqltype.TimestampLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(sqltype.DateLayout, s); err == nil {
		return t, nil
	}
	if t, ok := parseClock(s); ok {
		return t, nil
	}
	pv, err := pgval.Parse(pgval.TimestamptzOID, s, time.UTC)
	if err != nil {
		return time.Time{}, err
	}
	return pv.(time.Time), nil
}

// parseClock reads a stored time of day ("HH:MM:SS[.ffffff]") as that
// time on 2000-01-01 UTC.
func parseClock(s string) (time.Time, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return time.Time{}, false
	}
	t, err := time.Parse("15:04:05.999999", s)
	if err != nil {
		if s[:8] == "24:00:00" {
			return time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	return time.Date(2000, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
}

// formatClock stores a time of day (the clock of t) as time does.
func formatClock(t time.Time) string {
	out := t.Format("15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%06d", us), "0")
	}
	return out
}

// timeAdd adds sign × interval to a timestamp; the result is stored in the
// layout of type oid.
func timeAdd(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	t, err := parseStoredTime(a[0])
	if err != nil {
		return nil, FromPG(err)
	}
	iv, err := pgval.ParseInterval(fmt.Sprint(a[1]))
	if err != nil {
		return nil, FromPG(err)
	}
	sign := int(asInt(a[2]))
	if pgval.OID(asInt(a[3])) == pgval.TimeOID { // only the interval's time part moves a clock, wrapping at midnight
		t = t.Add(time.Duration(int64(sign)*iv.Micros) * time.Microsecond)
		return formatClock(t), nil
	}
	t = addMonths(t, sign*int(iv.Months)).AddDate(0, 0, sign*int(iv.Days)).
		Add(time.Duration(int64(sign)*iv.Micros) * time.Microsecond)
	if pgval.OID(asInt(a[3])) == pgval.DateOID {
		return t.Format(sqltype.DateLayout), nil
	}
	return t.Format(sqltype.TimestampLayout), nil
}

// timeRound applies a time precision typmod (timestamp(p), time(p)):
// microseconds rounded half away from zero, measured from PostgreSQL's
// epoch 2000-01-01 as PostgreSQL does.
func timeRound(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	p, oid := asInt(a[1]), pgval.OID(asInt(a[2]))
	if p < 0 || p >= 6 {
		return a[0], nil
	}
	scale := int64(math.Pow10(int(6 - p)))
	if oid == pgval.TimeOID {
		return roundClock(fmt.Sprint(a[0]), scale)
	}
	pv, err := pgval.Parse(oid, fmt.Sprint(a[0]), time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	t, ok := pv.(time.Time)
	if !ok {
		return a[0], nil
	}
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	d := t.Sub(epoch).Microseconds()
	if d >= 0 {
		d = (d + scale/2) / scale * scale
	} else {
		d = -((-d + scale/2) / scale * scale)
	}
	out, err := sqltype.ToStorage(oid, epoch.Add(time.Duration(d)*time.Microsecond))
	if err != nil {
		return nil, FromPG(err)
	}
	return out, nil
}

// roundClock rounds a stored time of day ("HH:MM:SS[.ffffff]") to a
// multiple of scale microseconds, half up.
func roundClock(s string, scale int64) (driver.Value, error) {
	var h, m, sec int64
	frac := ""
	clock, f, _ := strings.Cut(s, ".")
	if _, err := fmt.Sscanf(clock, "%d:%d:%d", &h, &m, &sec); err != nil {
		return nil, Error(pgerr.InvalidDatetimeFormat, "invalid input syntax for type time: %q", s)
	}
	frac = (f + "000000")[:6]
	us, _ := strconv.ParseInt(frac, 10, 64)
	total := ((h*60+m)*60+sec)*1_000_000 + us
	total = (total + scale/2) / scale * scale
	out := fmt.Sprintf("%02d:%02d:%02d", total/3_600_000_000, total/60_000_000%60, total/1_000_000%60)
	if rest := total % 1_000_000; rest != 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%06d", rest), "0")
	}
	return out, nil
}

// extractFn is EXTRACT: date_part's value as numeric text with the scale
// PostgreSQL 15 gives it (seconds and epochs to the microsecond,
// milliseconds to the microsecond, the rest whole; an epoch of a date is
// whole).
func extractFn(ctx *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	v, err := datePart(ctx, a)
	if err != nil || v == nil {
		return v, err
	}
	f, ok := v.(float64)
	if !ok {
		return v, nil
	}
	scale := 0
	switch strings.ToLower(fmt.Sprint(a[0])) {
	case "second", "epoch":
		scale = 6
		if pgval.OID(asInt(a[2])) == pgval.DateOID {
			scale = 0
		}
	case "milliseconds":
		scale = 3
	}
	return strconv.FormatFloat(f, 'f', scale, 64), nil
}

// addMonths moves t by months as PostgreSQL does: the day of month is
// kept, or clamped to the last day of a shorter month (Jan 31 + 1 month is
// Feb 29 in a leap year, where Go's AddDate would give Mar 2).
func addMonths(t time.Time, months int) time.Time {
	if months == 0 {
		return t
	}
	y, m, d := t.Date()
	total := int(m) - 1 + months
	ny, nm := y+total/12, total%12
	if nm < 0 {
		ny, nm = ny-1, nm+12
	}
	last := time.Date(ny, time.Month(nm+2), 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(ny, time.Month(nm+1), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// atTimeZone is AT TIME ZONE: mode 1 turns a timestamptz into the wall
// clock of zone (timestamp), mode 2 reads a timestamp as zone's wall clock
// (timestamptz).
func atTimeZone(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	loc, err := pgval.LoadLocation(fmt.Sprint(a[1]))
	if err != nil {
		return nil, Error(pgerr.InvalidParameterValue, "time zone %q not recognized", a[1])
	}
	t, err := parseStoredTime(a[0])
	if err != nil {
		return nil, FromPG(err)
	}
	if asInt(a[2]) == 1 {
		w := t.In(loc)
		return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC).
			Format(sqltype.TimestampLayout), nil
	}
	w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	return w.UTC().Format(sqltype.TimestampLayout), nil
}

// intervalNeg is unary minus on an interval.
func intervalNeg(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
	if err != nil {
		return nil, FromPG(err)
	}
	return pgval.Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}.String(), nil
}

func timeDiff(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, err := parseStoredTime(a[0])
	if err != nil {
		return nil, FromPG(err)
	}
	y, err := parseStoredTime(a[1])
	if err != nil {
		return nil, FromPG(err)
	}
	d := x.Sub(y)
	days := int32(d / (24 * time.Hour))
	rest := d - time.Duration(days)*24*time.Hour
	return pgval.Interval{Days: days, Micros: rest.Microseconds()}.String(), nil
}

func dateTrunc(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	t, err := parseStoredTime(a[1])
	if err != nil {
		return nil, FromPG(err)
	}
	switch strings.ToLower(fmt.Sprint(a[0])) {
	case "microseconds":
	case "milliseconds":
		t = t.Truncate(time.Millisecond)
	case "second":
		t = t.Truncate(time.Second)
	case "minute":
		t = t.Truncate(time.Minute)
	case "hour":
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, time.UTC)
	case "day":
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "week":
		wd := (int(t.Weekday()) + 6) % 7
		t = time.Date(t.Year(), t.Month(), t.Day()-wd, 0, 0, 0, 0, time.UTC)
	case "month":
		t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		t = time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case "year":
		t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case "decade":
		t = time.Date(t.Year()-t.Year()%10, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return nil, Error(pgerr.InvalidParameterValue, "unit %q not recognized for type timestamp with time zone", a[0])
	}
	return t.Format(sqltype.TimestampLayout), nil
}

// yearGroup is PostgreSQL's decade, century or millennium of a year (the
// first century is years 1–100; there is no year 0 before it).
func yearGroup(field string, year int) int {
	switch field {
	case "decade":
		if year >= 0 {
			return year / 10
		}
		return -((8 - (year - 1)) / 10)
	case "century":
		if year > 0 {
			return (year + 99) / 100
		}
		return -((99 - (year - 1)) / 100)
	}
	if year > 0 {
		return (year + 999) / 1000
	}
	return -((999 - (year - 1)) / 1000)
}

func datePart(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	field := strings.ToLower(fmt.Sprint(a[0]))
	if pgval.OID(asInt(a[2])) == pgval.IntervalOID {
		return intervalPart(field, fmt.Sprint(a[1]))
	}
	t, err := parseStoredTime(a[1])
	if err != nil {
		return nil, FromPG(err)
	}
	if pgval.OID(asInt(a[2])) == pgval.DateOID {
		switch field {
		case "hour", "minute", "second", "milliseconds", "microseconds", "timezone", "timezone_hour", "timezone_minute":
			return nil, Error(pgerr.FeatureNotSupported, "unit %q not supported for type date", field)
		}
	}
	if field == "epoch" && pgval.OID(asInt(a[2])) == pgval.TimeOID {
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return float64(t.Sub(midnight).Microseconds()) / 1e6, nil
	}
	switch field {
	case "year":
		return float64(t.Year()), nil
	case "month":
		return float64(t.Month()), nil
	case "day":
		return float64(t.Day()), nil
	case "hour":
		return float64(t.Hour()), nil
	case "minute":
		return float64(t.Minute()), nil
	case "second":
		return float64(t.Second()) + float64(t.Nanosecond())/1e9, nil
	case "milliseconds":
		return float64(t.Second())*1000 + float64(t.Nanosecond())/1e6, nil
	case "microseconds":
		return float64(t.Second())*1e6 + float64(t.Nanosecond()/1000), nil
	case "dow":
		return float64(t.Weekday()), nil
	case "isodow":
		return float64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return float64(t.YearDay()), nil
	case "quarter":
		return float64((int(t.Month())-1)/3 + 1), nil
	case "week":
		_, w := t.ISOWeek()
		return float64(w), nil
	case "epoch":
		return float64(t.UnixMicro()) / 1e6, nil
	case "isoyear":
		y, _ := t.ISOWeek()
		return float64(y), nil
	case "decade", "century", "millennium":
		return float64(yearGroup(field, t.Year())), nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unit %q not recognized for type timestamp with time zone", field)
}

func intervalPart(field, s string) (driver.Value, error) {
	iv, err := pgval.ParseInterval(s)
	if err != nil {
		return nil, FromPG(err)
	}
	switch field {
	case "epoch":
		return float64(iv.Months)*30*86400 + float64(iv.Days)*86400 + float64(iv.Micros)/1e6, nil
	case "day":
		return float64(iv.Days), nil
	case "hour":
		return float64(iv.Micros / 3600e6), nil
	case "minute":
		return float64(iv.Micros / 60e6 % 60), nil
	case "second":
		return math.Mod(float64(iv.Micros)/1e6, 60), nil
	}
	return nil, Error(pgerr.InvalidParameterValue, "unit %q not supported for type interval", field)
}

// arrayFn builds a PostgreSQL array literal from storage values of type elem.
func arrayFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if len(a) == 0 {
		return nil, Error(pgerr.InternalError, "chr2_array needs an element type")
	}
	elem := pgval.OID(asInt(a[0]))
	vals := make([]any, 0, len(a)-1)
	for _, v := range a[1:] {
		pv, err := sqltype.FromStorage(elem, v)
		if err != nil {
			return nil, FromPG(err)
		}
		vals = append(vals, pv)
	}
	ti, ok := pgval.Lookup(elem)
	if !ok || ti.Array == 0 {
		return nil, Error(pgerr.FeatureNotSupported, "arrays of type %d are not supported", elem)
	}
	s, err := pgval.Format(ti.Array, vals, time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	return s, nil
}

// arrayJSON turns a PostgreSQL array literal into a JSON array of storage
// values, for json_each in x = ANY(array).
func arrayJSON(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return "[]", nil
	}
	out, err := arrayItems(a[0], pgval.OID(asInt(a[1])))
	if err != nil {
		return nil, err
	}
	if out == nil {
		return "[]", nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return string(b), nil
}

func decodeJSON(v driver.Value) (any, error) {
	dec := json.NewDecoder(strings.NewReader(fmt.Sprint(v)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, Error(pgerr.InvalidTextRepresentation, "invalid input syntax for type json")
	}
	return out, nil
}

// encodeJSONB renders a decoded value as normalized jsonb text.
func encodeJSONB(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return pgval.NormalizeJSONB(strings.TrimSpace(buf.String()))
}

// jsonResult returns element el of a JSON document as text (->>) or jsonb (->).
func jsonResult(el any, found, asText bool) (driver.Value, error) {
	if !found {
		return nil, nil
	}
	if asText {
		switch x := el.(type) {
		case nil:
			return nil, nil
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	}
	s, err := encodeJSONB(el)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return s, nil
}

func jsonStep(doc any, key string) (any, bool) {
	switch x := doc.(type) {
	case map[string]any:
		v, ok := x[key]
		return v, ok
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil {
			return nil, false
		}
		if i < 0 {
			i += len(x)
		}
		if i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	}
	return nil, false
}

func jsonGet(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	var key string
	if n, ok := a[1].(int64); ok {
		if _, isArr := doc.([]any); !isArr {
			return nil, nil
		}
		key = strconv.FormatInt(n, 10)
	} else {
		if _, isObj := doc.(map[string]any); !isObj {
			return nil, nil
		}
		key = fmt.Sprint(a[1])
	}
	el, found := jsonStep(doc, key)
	return jsonResult(el, found, asInt(a[2]) != 0)
}

func jsonGetPath(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	doc, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	pv, err := pgval.Parse(pgval.TextArrayOID, fmt.Sprint(a[1]), time.UTC)
	if err != nil {
		return nil, FromPG(err)
	}
	path, _ := pv.([]any)
	cur, found := doc, true
	for _, p := range path {
		if p == nil {
			return nil, nil
		}
		if cur, found = jsonStep(cur, fmt.Sprint(p)); !found {
			return nil, nil
		}
	}
	return jsonResult(cur, found, asInt(a[2]) != 0)
}

func jsonbConcat(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	l, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	r, err := decodeJSON(a[1])
	if err != nil {
		return nil, err
	}
	lo, lok := l.(map[string]any)
	ro, rok := r.(map[string]any)
	var out any
	switch {
	case lok && rok:
		for k, v := range ro {
			lo[k] = v
		}
		out = lo
	default:
		out = append(asArray(l), asArray(r)...)
	}
	s, err := encodeJSONB(out)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return s, nil
}

func asArray(v any) []any {
	if arr, ok := v.([]any); ok {
		return arr
	}
	return []any{v}
}

func jsonbContains(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	l, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	r, err := decodeJSON(a[1])
	if err != nil {
		return nil, err
	}
	return boolInt(contains(l, r, true)), nil
}

// contains implements jsonb @>.
func contains(l, r any, top bool) bool {
	switch rv := r.(type) {
	case map[string]any:
		lm, ok := l.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range rv {
			lv, ok := lm[k]
			if !ok || !contains(lv, v, false) {
				return false
			}
		}
		return true
	case []any:
		la, ok := l.([]any)
		if !ok {
			return false
		}
		for _, want := range rv {
			found := false
			for _, have := range la {
				if contains(have, want, false) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if la, ok := l.([]any); ok && top {
		for _, have := range la {
			if contains(have, r, false) {
				return true
			}
		}
		return false
	}
	return fmt.Sprint(l) == fmt.Sprint(r)
}

func jsonObject(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	obj := map[string]any{}
	for i := 0; i+1 < len(a); i += 2 {
		if a[i] == nil {
			return nil, Error(pgerr.NullValueNotAllowed, "argument %d cannot be null", i+1)
		}
		v, err := decodeJSON(a[i+1])
		if err != nil {
			return nil, err
		}
		obj[fmt.Sprint(a[i])] = v
	}
	s, err := encodeJSONB(obj)
	if err != nil {
		return nil, Error(pgerr.InternalError, "%v", err)
	}
	return s, nil
}

func jsonbTypeof(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	v, err := decodeJSON(a[0])
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case map[string]any:
		return "object", nil
	case []any:
		return "array", nil
	case string:
		return "string", nil
	case json.Number:
		return "number", nil
	case bool:
		return "boolean", nil
	}
	return "null", nil
}
