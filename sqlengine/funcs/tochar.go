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
)

// to_char for timestamps and intervals, after PostgreSQL's formatting.c:
// the template is split into keywords (matched case-sensitively, longest
// first, as PostgreSQL's DCH_keywords table lists them), quoted literals
// and other characters copied as they are.

// dchKeywords lists the datetime template patterns; within one first
// letter the longer patterns come first, so the first prefix match is the
// longest.
var dchKeywords = []string{
	"A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D",
	"FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FX", "HH24", "HH12", "HH", "IDDD", "ID", "IW", "IYYY", "IYY", "IY", "I",
	"J", "MI", "MM", "MONTH", "MON", "MS", "Month", "Mon", "OF", "P.M.", "PM", "Q", "RM", "SSSSS", "SSSS", "SS",
	"TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY", "YYY", "YY", "Y",
	"a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy", "d",
	"ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "fx", "hh24", "hh12", "hh", "iddd", "id", "iw", "iyyy", "iyy", "iy", "i",
	"j", "mi", "mm", "month", "mon", "ms", "of", "p.m.", "pm", "q", "rm", "sssss", "ssss", "ss",
	"tzh", "tzm", "tz", "us", "ww", "w", "y,yyy", "yyyy", "yyy", "yy", "y",
}

// dchNode is one element of a parsed datetime template.
type dchNode struct {
	key     string // the keyword as written, "" for literal text
	text    string // literal text
	fm, th  bool   // FM prefix; TH/th suffix
	thUpper bool
}

// parseDCH splits a datetime template into nodes.
func parseDCH(f string) []dchNode {
	var out []dchNode
	for i := 0; i < len(f); {
		fm := false
		for {
			switch {
			case strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm"):
				fm = true
				i += 2
				continue
			case strings.HasPrefix(f[i:], "TM") || strings.HasPrefix(f[i:], "tm"):
				i += 2 // translation mode: C locale names are the same
				continue
			}
			break
		}
		if i >= len(f) {
			break
		}
		if kw := matchKeyword(dchKeywords, f[i:]); kw != "" {
			n := dchNode{key: kw, fm: fm}
			i += len(kw)
			if strings.HasPrefix(f[i:], "TH") || strings.HasPrefix(f[i:], "th") {
				n.th, n.thUpper = true, f[i] == 'T'
				i += 2
			}
			out = append(out, n)
			continue
		}
		text, size := literalText(f[i:])
		out = append(out, dchNode{text: text})
		i += size
	}
	return out
}

// literalText reads the template text at the start of f that is not a
// pattern: a double-quoted string (backslash escapes the next character),
// an escaped quote or one character. It returns the text and its length
// in f.
func literalText(f string) (string, int) {
	switch {
	case f[0] == '"':
		var b strings.Builder
		j := 1
		for j < len(f) && f[j] != '"' {
			if f[j] == '\\' && j+1 < len(f) {
				j++
			}
			b.WriteByte(f[j])
			j++
		}
		return b.String(), min(j+1, len(f))
	case f[0] == '\\' && len(f) > 1 && f[1] == '"':
		return `"`, 2
	}
	_, size := decodeRune(f)
	return f[:size], size
}

func decodeRune(s string) (rune, int) {
	for i, r := range s {
		if i == 0 {
			return r, len(string(r))
		}
	}
	return 0, 1
}

// matchKeyword returns the first keyword that prefixes s.
func matchKeyword(keys []string, s string) string {
	for _, k := range keys {
		if strings.HasPrefix(s, k) {
			return k
		}
	}
	return ""
}

// tmParts is a broken-down timestamp or interval, as PostgreSQL's pg_tm.
type tmParts struct {
	year, mon, mday, hour, min, sec, usec int
	yday, wday                            int // day of year (1-based), day of week (0 = Sunday)
	interval                              bool
	zone                                  string // abbreviation; "" for timestamp without time zone
	offset                                int    // seconds east of UTC
	t                                     time.Time
}

func timeParts(t time.Time, zone string) tmParts {
	name, off := t.Zone()
	if zone == "" {
		name = ""
	}
	return tmParts{year: t.Year(), mon: int(t.Month()), mday: t.Day(), hour: t.Hour(), min: t.Minute(),
		sec: t.Second(), usec: t.Nanosecond() / 1000, yday: t.YearDay(), wday: int(t.Weekday()), zone: name,
		offset: off, t: t}
}

func intervalParts(iv pgval.Interval) tmParts {
	p := tmParts{interval: true, year: int(iv.Months / 12), mon: int(iv.Months % 12), mday: int(iv.Days)}
	us := iv.Micros
	p.hour = int(us / 3_600_000_000)
	us -= int64(p.hour) * 3_600_000_000
	p.min = int(us / 60_000_000)
	us -= int64(p.min) * 60_000_000
	p.sec = int(us / 1_000_000)
	p.usec = int(us - int64(p.sec)*1_000_000)
	p.yday = (p.year*12+p.mon)*30 + p.mday
	return p
}

var romanMonths = []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}

// toCharTime is chr2_to_char_time(value, type oid, template, zone).
func toCharTime(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[2] == nil {
		return nil, nil
	}
	var p tmParts
	switch pgval.OID(asInt(a[1])) {
	case pgval.IntervalOID:
		iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
		if err != nil {
			return nil, FromPG(err)
		}
		p = intervalParts(iv)
	case pgval.TimestamptzOID:
		t, err := parseStoredTime(a[0])
		if err != nil {
			return nil, FromPG(err)
		}
		zone := fmt.Sprint(a[3])
		loc, err := pgval.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		p = timeParts(t.In(loc), zone)
	default:
		t, err := parseStoredTime(a[0])
		if err != nil {
			return nil, FromPG(err)
		}
		p = timeParts(t, "")
	}
	f := fmt.Sprint(a[2])
	if f == "" {
		return nil, nil
	}
	var b strings.Builder
	for _, n := range parseDCH(f) {
		if n.key == "" {
			b.WriteString(n.text)
			continue
		}
		s, err := p.format(n)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// pad formats v zero-padded to width (FM: unpadded); negative values get
// one more position, as C's %0*d.
func zpad(v, width int, fm bool) string {
	if fm {
		return strconv.Itoa(v)
	}
	if v < 0 {
		width++
	}
	return fmt.Sprintf("%0*d", width, v)
}

// textCase renders a name in the case the keyword was written in:
// all upper (MONTH), capitalized (Month) or lower (month).
func textCase(name, key string, width int, fm bool) string {
	switch {
	case key == strings.ToUpper(key):
		name = strings.ToUpper(name)
	case key == strings.ToLower(key):
		name = strings.ToLower(name)
	}
	if fm || width == 0 {
		return name
	}
	return fmt.Sprintf("%-*s", width, name)
}

func errIntervalFormat() error {
	return FromPG(pgerr.New(pgerr.InvalidDatetimeFormat, "invalid format specification for an interval value").
		WithHint("Intervals are not tied to specific calendar dates."))
}

// format renders one keyword node.
func (p tmParts) format(n dchNode) (string, error) {
	key := n.key
	up := strings.ToUpper(key)
	switch up {
	case "A.D.", "B.C.", "AD", "BC", "MONTH", "MON", "DAY", "DY", "D", "ID", "TZ", "OF", "TZH", "TZM":
		if p.interval {
			return "", errIntervalFormat()
		}
	}
	s, numeric := p.formatValue(n, up)
	if n.th && numeric {
		s += ordinalSuffix(s, n.thUpper)
	}
	return s, nil
}

// formatValue renders keyword up (the upper-case form of n.key); numeric
// reports whether a TH suffix applies.
func (p tmParts) formatValue(n dchNode, up string) (string, bool) {
	fm := n.fm
	hour12 := p.hour % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch up {
	case "A.D.", "B.C.":
		return textCase(map[bool]string{true: "A.D.", false: "B.C."}[p.year > 0], n.key, 0, true), false
	case "AD", "BC":
		return textCase(map[bool]string{true: "AD", false: "BC"}[p.year > 0], n.key, 0, true), false
	case "A.M.", "P.M.":
		return textCase(map[bool]string{true: "P.M.", false: "A.M."}[p.hour%24 >= 12], n.key, 0, true), false
	case "AM", "PM":
		return textCase(map[bool]string{true: "PM", false: "AM"}[p.hour%24 >= 12], n.key, 0, true), false
	case "HH", "HH12":
		return zpad(hour12, 2, fm), true
	case "HH24":
		return zpad(p.hour, 2, fm), true
	case "MI":
		return zpad(p.min, 2, fm), true
	case "SS":
		return zpad(p.sec, 2, fm), true
	case "MS":
		return zpad(p.usec/1000, 3, fm), true
	case "US":
		return zpad(p.usec, 6, fm), true
	case "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
		digits := int(up[2] - '0')
		v := p.usec
		for i := digits; i < 6; i++ {
			v /= 10
		}
		return zpad(v, digits, fm), true
	case "SSSS", "SSSSS":
		return strconv.Itoa(p.hour*3600 + p.min*60 + p.sec), true
	case "TZ":
		return textCase(p.zone, n.key, 0, true), false
	case "OF":
		return p.offsetText(fm, true), false
	case "TZH":
		return p.offsetText(fm, false), false
	case "TZM":
		off := p.offset
		if off < 0 {
			off = -off
		}
		return zpad(off/60%60, 2, fm), false
	case "MONTH", "MON":
		if p.mon == 0 {
			return "", false
		}
		name := time.Month(p.mon).String()
		if up == "MON" {
			return textCase(name[:3], n.key, 0, true), false
		}
		return textCase(name, n.key, 9, fm), false
	case "DAY", "DY":
		name := time.Weekday(p.wday).String()
		if up == "DY" {
			return textCase(name[:3], n.key, 0, true), false
		}
		return textCase(name, n.key, 9, fm), false
	case "RM":
		if p.mon == 0 {
			return "", false
		}
		return textCase(romanMonths[p.mon-1], n.key, 4, fm), false
	}
	return p.formatDate(up, fm), true
}

// formatDate renders the numeric date fields.
func (p tmParts) formatDate(up string, fm bool) string {
	year := p.year
	if !p.interval && year <= 0 {
		year = -(year - 1)
	}
	isoYear, isoWeek := 0, 0
	if !p.interval {
		isoYear, isoWeek = p.t.ISOWeek()
	}
	switch up {
	case "Y,YYY":
		return fmt.Sprintf("%d,%03d", year/1000, year%1000)
	case "YYYY":
		return zpad(year, 4, fm)
	case "YYY":
		return zpad(year%1000, 3, fm)
	case "YY":
		return zpad(year%100, 2, fm)
	case "Y":
		return zpad(year%10, 1, fm)
	case "IYYY":
		return zpad(isoYear, 4, fm)
	case "IYY":
		return zpad(isoYear%1000, 3, fm)
	case "IY":
		return zpad(isoYear%100, 2, fm)
	case "I":
		return zpad(isoYear%10, 1, fm)
	case "CC":
		cc := p.year / 100
		if !p.interval {
			if p.year > 0 {
				cc = (p.year-1)/100 + 1
			} else {
				cc = p.year/100 - 1
			}
		}
		return zpad(cc, 2, fm)
	case "MM":
		return zpad(p.mon, 2, fm)
	case "DD":
		return zpad(p.mday, 2, fm)
	case "DDD":
		return zpad(p.yday, 3, fm)
	case "IDDD":
		return zpad((isoWeek-1)*7+(p.wday+6)%7+1, 3, fm)
	case "D":
		return strconv.Itoa(p.wday + 1)
	case "ID":
		return strconv.Itoa((p.wday+6)%7 + 1)
	case "W":
		return strconv.Itoa((p.mday-1)/7 + 1)
	case "WW":
		return zpad((p.yday-1)/7+1, 2, fm)
	case "IW":
		return zpad(isoWeek, 2, fm)
	case "Q":
		if p.interval && p.mon == 0 {
			return ""
		}
		return strconv.Itoa((p.mon-1)/3 + 1)
	case "J":
		return strconv.Itoa(julianDay(p.year, p.mon, p.mday))
	}
	return ""
}

// offsetText renders the zone offset as +HH[:MM] (OF) or +HH (TZH).
func (p tmParts) offsetText(fm, minutes bool) string {
	off, sign := p.offset, "+"
	if off < 0 {
		off, sign = -off, "-"
	}
	s := sign + zpad(off/3600, 2, fm)
	if minutes && off/60%60 != 0 {
		s += fmt.Sprintf(":%02d", off/60%60)
	}
	return s
}

// julianDay is PostgreSQL's date2j.
func julianDay(y, m, d int) int {
	if m > 2 {
		m++
		y += 4800
	} else {
		m += 13
		y += 4799
	}
	century := y / 100
	julian := y*365 - 32167
	julian += y/4 - century + century/4
	julian += 7834*m/256 + d
	return julian
}

// ordinalSuffix is the TH suffix of a number's text: st, nd, rd or th.
func ordinalSuffix(num string, upper bool) string {
	num = strings.TrimSpace(num)
	s := "th"
	if len(num) > 0 {
		last := num[len(num)-1]
		teen := len(num) > 1 && num[len(num)-2] == '1'
		switch {
		case teen:
		case last == '1':
			s = "st"
		case last == '2':
			s = "nd"
		case last == '3':
			s = "rd"
		}
	}
	if upper {
		return strings.ToUpper(s)
	}
	return s
}
