package funcs

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// to_date and to_timestamp(text, text): the from-char half of PostgreSQL's
// formatting.c in its default (non-FX) mode. A separator in the template
// matches one separator in the input or none; spaces before fields are
// skipped; a numeric field followed by a separator takes every digit,
// otherwise exactly its width.

// fromChar is what the template read from the input (TmFromChar).
type fromChar struct {
	year, yearDigits, bc     int
	mon, mday, yday, julian  int
	hour, min, sec, usec     int
	clock12, pm              bool
	hasYear, hasMon, hasMday bool
	tzh, tzm                 int
	hasTZ                    bool
	input                    string
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september",
	"october", "november", "december"}
var dayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// fieldWidth is how many digits a numeric keyword reads when the next
// template element is a digit too.
func fieldWidth(up string) int {
	switch up {
	case "HH24", "HH12":
		return 2
	case "MS":
		return 3
	case "US":
		return 6
	case "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
		return int(up[2] - '0')
	}
	return len(up)
}

func isSeparator(c byte) bool {
	return c < 0x80 && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
}

// nextIsSeparator reports whether the element after nodes[i] never starts
// with a digit (is_next_separator).
func nextIsSeparator(nodes []dchNode, i int) bool {
	if nodes[i].th {
		return true
	}
	if i+1 >= len(nodes) {
		return true
	}
	n := nodes[i+1]
	if n.key != "" {
		return !isDigitKeyword(strings.ToUpper(n.key))
	}
	return !(len(n.text) == 1 && n.text[0] >= '0' && n.text[0] <= '9')
}

func isDigitKeyword(up string) bool {
	switch up {
	case "A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "DAY", "DY", "FX", "MONTH", "MON", "OF", "P.M.", "PM", "RM", "TZ", "TZH":
		return false
	}
	return true
}

func invalidValue(val, key, detail string) error {
	return FromPG(pgerr.New(pgerr.InvalidDatetimeFormat, "invalid value %q for %q", val, key).WithDetail("%s", detail))
}

// parseFromChar reads input s with template f.
func parseFromChar(s, f string) (*fromChar, error) {
	fc := &fromChar{input: s}
	nodes := parseDCH(f)
	pos := 0
	for i, n := range nodes {
		if n.key == "" {
			switch {
			case n.text == " ":
				for pos < len(s) && s[pos] == ' ' {
					pos++
				}
			case len(n.text) == 1 && isSeparator(n.text[0]):
				if pos < len(s) && isSeparator(s[pos]) {
					pos++
				}
			case pos < len(s):
				pos += len(n.text)
			}
			continue
		}
		for pos < len(s) && s[pos] == ' ' {
			pos++
		}
		up := strings.ToUpper(n.key)
		var err error
		if isDigitKeyword(up) {
			pos, err = fc.readNumber(s, pos, n, up, nextIsSeparator(nodes, i))
		} else {
			pos, err = fc.readWord(s, pos, n, up)
		}
		if err != nil {
			return nil, err
		}
		if n.th {
			pos = min(pos+2, len(s))
		}
	}
	return fc, nil
}

// readNumber reads a numeric field at s[pos:].
func (fc *fromChar) readNumber(s string, pos int, n dchNode, up string, slurp bool) (int, error) {
	if up == "Y,YYY" {
		rest := s[pos:]
		var hi, lo int
		if k, err := fmt.Sscanf(rest, "%d,%03d", &hi, &lo); k != 2 || err != nil {
			return pos, invalidValue(rest, n.key, "Value must be an integer.")
		}
		fc.year, fc.yearDigits, fc.hasYear = hi*1000+lo, 4, true
		return pos + len(strconv.Itoa(hi)) + 4, nil
	}
	if up == "TZ" {
		return pos, Error(pgerr.FeatureNotSupported, "formatting field \"%s\" is only supported in to_char", n.key)
	}
	width := fieldWidth(up)
	end := pos
	var text string
	if slurp || n.fm {
		if end < len(s) && (s[end] == '-' || s[end] == '+') {
			end++
		}
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		text = s[pos:end]
		if text == "" || text == "-" || text == "+" {
			return pos, invalidValue(s[pos:min(len(s), pos+width)], n.key, "Value must be an integer.")
		}
	} else {
		if len(s)-pos < width {
			return pos, FromPG(pgerr.New(pgerr.InvalidDatetimeFormat, "source string too short for %q formatting field", n.key).
				WithDetail("Field requires %d characters, but only %d remain.", width, len(s)-pos))
		}
		end = pos + width
		text = s[pos:end]
		if _, err := strconv.Atoi(text); err != nil {
			return pos, invalidValue(text, n.key, fmt.Sprintf("Field requires %d characters, but only %d could be parsed.",
				width, leadingDigits(text)))
		}
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		return pos, Error(pgerr.DatetimeFieldOverflow, "value for %q in source string is out of range", n.key)
	}
	fc.set(up, v, len(strings.TrimLeft(text, "+-")))
	return end, nil
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// set stores numeric field up.
func (fc *fromChar) set(up string, v, digits int) {
	switch up {
	case "YYYY", "YYY", "YY", "Y", "IYYY", "IYY", "IY", "I":
		fc.year, fc.yearDigits, fc.hasYear = v, digits, true
		if len(up) < 4 && up != "I" || up == "Y" {
			fc.yearDigits = min(digits, len(strings.TrimLeft(up, "I")))
		}
	case "MM":
		fc.mon, fc.hasMon = v, true
	case "DD":
		fc.mday, fc.hasMday = v, true
	case "DDD", "IDDD":
		fc.yday = v
	case "J":
		fc.julian = v
	case "HH", "HH12":
		fc.hour, fc.clock12 = v, true
	case "HH24":
		fc.hour = v
	case "MI":
		fc.min = v
	case "SS":
		fc.sec = v
	case "SSSS", "SSSSS":
		fc.hour, fc.min, fc.sec = v/3600, v/60%60, v%60
	case "MS":
		fc.usec = v * 1000
	case "US":
		fc.usec = v
	case "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
		for i := int(up[2] - '0'); i < 6; i++ {
			v *= 10
		}
		fc.usec = v
	case "TZH":
		fc.tzh, fc.hasTZ = v, true
	case "TZM":
		fc.tzm, fc.hasTZ = v, true
	}
}

// readWord reads a name field (month, day, meridiem, era) at s[pos:].
func (fc *fromChar) readWord(s string, pos int, n dchNode, up string) (int, error) {
	rest := strings.ToLower(s[pos:])
	match := func(names []string, short bool) (int, int) {
		for i, name := range names {
			if short {
				name = name[:3]
			}
			if strings.HasPrefix(rest, name) {
				return i, len(name)
			}
		}
		return -1, 0
	}
	var idx, size int
	switch up {
	case "MONTH", "MON":
		idx, size = match(monthNames, up == "MON")
		fc.mon, fc.hasMon = idx+1, true
	case "DAY", "DY":
		idx, size = match(dayNames, up == "DY")
	case "AM", "PM", "A.M.", "P.M.":
		names := []string{"am", "pm"}
		if len(up) == 4 {
			names = []string{"a.m.", "p.m."}
		}
		idx, size = match(names, false)
		fc.pm = idx == 1
	case "AD", "BC", "A.D.", "B.C.":
		names := []string{"ad", "bc"}
		if len(up) == 4 {
			names = []string{"a.d.", "b.c."}
		}
		idx, size = match(names, false)
		fc.bc = idx
	case "RM":
		idx, size = -1, 0
		for i := len(romanMonths) - 1; i >= 0; i-- {
			if r := strings.ToLower(romanMonths[i]); strings.HasPrefix(rest, r) && len(r) > size {
				idx, size = i, len(r)
			}
		}
		fc.mon, fc.hasMon = idx+1, true
	case "OF", "TZH":
		return fc.readOffset(s, pos, n)
	default:
		return pos, Error(pgerr.FeatureNotSupported, "formatting field \"%s\" is only supported in to_char", n.key)
	}
	if idx < 0 {
		word := s[pos:]
		if sp := strings.IndexByte(word, ' '); sp >= 0 {
			word = word[:sp]
		}
		return pos, invalidValue(word, n.key, "The given value did not match any of the allowed values for this field.")
	}
	return pos + size, nil
}

// readOffset reads OF: ±HH[:MM].
func (fc *fromChar) readOffset(s string, pos int, n dchNode) (int, error) {
	end := pos
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return pos, invalidValue(s[pos:], n.key, "Value must be an integer.")
	}
	fc.tzh, _ = strconv.Atoi(s[pos:end])
	fc.hasTZ = true
	if n.key == "OF" && end < len(s) && s[end] == ':' {
		m := end + 1
		for m < len(s) && s[m] >= '0' && s[m] <= '9' {
			m++
		}
		fc.tzm, _ = strconv.Atoi(s[end+1 : m])
		end = m
	}
	return end, nil
}

func (fc *fromChar) rangeError() error {
	return Error(pgerr.DatetimeFieldOverflow, "date/time field value out of range: %q", fc.input)
}

// date resolves the year, month and day (do_to_timestamp).
func (fc *fromChar) date() (int, int, int, error) {
	year := fc.year
	if fc.hasYear {
		switch fc.yearDigits {
		case 1:
			year += 2000
		case 2:
			if year < 70 {
				year += 2000
			} else {
				year += 1900
			}
		case 3:
			if year < 100 {
				year += 2000
			} else {
				year += 1000
			}
		}
		if fc.bc == 1 {
			year = -year + 1
		}
	}
	mon, mday := fc.mon, fc.mday
	if !fc.hasMon {
		mon = 1
	}
	if !fc.hasMday {
		mday = 1
	}
	if fc.julian > 0 {
		t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, fc.julian-julianDay(2000, 1, 1))
		return t.Year(), int(t.Month()), t.Day(), nil
	}
	if fc.yday > 0 && !fc.hasMon && !fc.hasMday {
		if fc.yday > 365+b2i(isLeap(year)) {
			return 0, 0, 0, fc.rangeError()
		}
		t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, fc.yday-1)
		return t.Year(), int(t.Month()), t.Day(), nil
	}
	if !fc.hasYear {
		year = 0 // PostgreSQL's default is the year 1 BC
	}
	if mon < 1 || mon > 12 || mday < 1 || mday > daysIn(year, mon) {
		return 0, 0, 0, fc.rangeError()
	}
	return year, mon, mday, nil
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m+1), 0, 0, 0, 0, 0, time.UTC).Day()
}

// clock resolves the time of day.
func (fc *fromChar) clock() (int, error) {
	hour := fc.hour
	if fc.clock12 {
		if hour < 1 || hour > 12 {
			return 0, FromPG(pgerr.New(pgerr.InvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", hour).
				WithHint("Use the 24-hour clock, or give an hour between 1 and 12."))
		}
		if fc.pm && hour < 12 {
			hour += 12
		} else if !fc.pm && hour == 12 {
			hour = 0
		}
	}
	if hour < 0 || hour > 24 || fc.min < 0 || fc.min > 59 || fc.sec < 0 || fc.sec > 60 ||
		hour == 24 && (fc.min > 0 || fc.sec > 0 || fc.usec > 0) {
		return 0, fc.rangeError()
	}
	return hour, nil
}

// readDate parses input a[0] with template a[1] and resolves the date.
func readDate(a []driver.Value) (*fromChar, int, int, int, error) {
	fc, err := parseFromChar(fmt.Sprint(a[0]), fmt.Sprint(a[1]))
	if err != nil {
		return nil, 0, 0, 0, err
	}
	y, m, d, err := fc.date()
	return fc, y, m, d, err
}

// toDate is chr2_to_date(text, template).
func toDate(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	_, y, m, d, err := readDate(a)
	if err != nil {
		return nil, err
	}
	return storeDate(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC))
}

func storeDate(t time.Time) (driver.Value, error) {
	v, err := sqltype.ToStorage(pgval.DateOID, t)
	if err != nil {
		return nil, FromPG(err)
	}
	return v, nil
}

// toTimestampText is chr2_to_timestamp_text(text, template, zone): the
// wall clock read in zone unless the input gave an offset.
func toTimestampText(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	fc, y, m, d, err := readDate(a)
	if err != nil {
		return nil, err
	}
	hour, err := fc.clock()
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	if fc.hasTZ {
		off := fc.tzh*3600 + fc.tzm*60
		if fc.tzh < 0 {
			off = fc.tzh*3600 - fc.tzm*60
		}
		loc = time.FixedZone("", off)
	} else if l, err := pgval.LoadLocation(fmt.Sprint(a[2])); err == nil {
		loc = l
	}
	t := time.Date(y, time.Month(m), d, hour, fc.min, fc.sec, fc.usec*1000, loc)
	v, err := sqltype.ToStorage(pgval.TimestamptzOID, t.UTC())
	if err != nil {
		return nil, FromPG(err)
	}
	return v, nil
}
