package pgval

import (
	"strconv"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

// InfinityTime and NegInfinityTime stand for 'infinity' and '-infinity' of
// date, timestamp and timestamptz. They lie outside every finite range
// PostgreSQL accepts, so they never collide with a real value; compare with
// time.Time.Equal.
var (
	InfinityTime    = time.Date(10_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
	NegInfinityTime = time.Date(-10_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// PostgreSQL's epoch and limits, in units relative to 2000-01-01 00:00 UTC.
const (
	pgEpochUnixSec = 946684800
	// minTimestampMicros is 4714-11-24 00:00:00 BC (Julian day 0).
	minTimestampMicros = -211813488000000000
	// endTimestampMicros is 294277-01-01 00:00:00, the first invalid instant.
	endTimestampMicros = 9223371331200000000
	minDateDays        = -2451545   // Julian day 0
	endDateDays        = 2145031949 // 5874898-01-01, the first invalid date
	microsPerDay       = 86_400_000_000
)

// dtFields is what the date/time scanner found, before validation.
type dtFields struct {
	year, month, day    int
	hour, minute, sec   int
	micros              int64
	hasDate, hasTime    bool
	yearDigits          int
	bc                  bool
	zoneSet             bool
	zoneOffsetSec       int
	zoneLoc             *time.Location
	twoDigitYearAllowed bool
}

// parseDateTime handles date, timestamp, timestamptz and time input: ISO
// 8601 dates (with 'T' or space before the time), MDY slashes, YYYYMMDD,
// fractional seconds, numeric and named zones, AD/BC, and the constant words
// 'infinity', '-infinity', 'epoch' and 'allballs'.
func parseDateTime(oid OID, s string, loc *time.Location) (any, error) {
	t := trimSpace(s)
	if v, ok, err := specialDateTime(oid, lowerASCII(t), s); ok || err != nil {
		return v, err
	}
	var f dtFields
	sc := dtScanner{s: t}
	if err := sc.scan(oid, &f); err != nil {
		if pe, ok := err.(*pgerr.Error); ok {
			return nil, pe
		}
		return nil, datetimeSyntax(oid, s)
	}
	if !f.hasDate && oid != TimeOID || !f.hasTime && oid == TimeOID {
		return nil, datetimeSyntax(oid, s)
	}
	if err := f.validate(); err != nil {
		return nil, fieldOverflow(s)
	}
	switch oid {
	case TimeOID:
		return formatClockMicros(f.clockMicros()), nil
	case DateOID:
		d := time.Date(f.year, time.Month(f.month), f.day, 0, 0, 0, 0, time.UTC)
		if days := daysSince2000(d); days < minDateDays || days >= endDateDays {
			return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: \"%s\"", s)
		}
		return d, nil
	}
	zone := time.UTC
	if oid == TimestamptzOID {
		zone = loc
		if f.zoneLoc != nil {
			zone = f.zoneLoc
		} else if f.zoneSet {
			zone = time.FixedZone("", f.zoneOffsetSec)
		}
	}
	ts := wallToInstant(time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.sec,
		int(f.micros)*1000, time.UTC), zone)
	if _, ok := timestampMicros(ts); !ok {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", s)
	}
	return ts, nil
}

func specialDateTime(oid OID, lt, orig string) (any, bool, error) {
	switch lt {
	case "now", "today", "tomorrow", "yesterday":
		return nil, false, pgerr.Wrap(ErrTimeDependent, pgerr.FeatureNotSupported,
			"date/time input \"%s\" depends on the current time", lt)
	}
	if oid == TimeOID {
		if lt == "allballs" {
			return "00:00:00", true, nil
		}
		return nil, false, nil
	}
	switch lt {
	case "infinity", "+infinity":
		return InfinityTime, true, nil
	case "-infinity":
		return NegInfinityTime, true, nil
	case "epoch":
		return time.Unix(0, 0).UTC(), true, nil
	}
	return nil, false, nil
}

// datetimeSyntax uses the type spellings of PostgreSQL's DateTimeParseError
// callers ("timestamp", not "timestamp without time zone").
func datetimeSyntax(oid OID, s string) *pgerr.Error {
	name := typeName(oid)
	switch oid {
	case TimestampOID:
		name = "timestamp"
	case TimeOID:
		name = "time"
	}
	return pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", name, s)
}

func fieldOverflow(s string) *pgerr.Error {
	return pgerr.New(pgerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
}

// errDTSyntax is internal to the scanner; callers turn it into 22007.
type dtSyntaxError struct{}

func (dtSyntaxError) Error() string { return "date/time syntax" }

type dtScanner struct {
	s string
	i int
}

func (sc *dtScanner) eof() bool { return sc.i >= len(sc.s) }

func (sc *dtScanner) digits() string {
	start := sc.i
	for sc.i < len(sc.s) && isDigit(sc.s[sc.i]) {
		sc.i++
	}
	return sc.s[start:sc.i]
}

func (sc *dtScanner) skipSpace() {
	for sc.i < len(sc.s) && isSpace(sc.s[sc.i]) {
		sc.i++
	}
}

func (sc *dtScanner) scan(oid OID, f *dtFields) error {
	if oid != TimeOID || sc.looksLikeDate() {
		if err := sc.date(f); err != nil {
			return err
		}
		switch {
		case sc.eof():
			return nil
		case sc.s[sc.i] == 'T' || sc.s[sc.i] == 't':
			sc.i++
			if sc.eof() || !isDigit(sc.s[sc.i]) {
				return dtSyntaxError{}
			}
		default:
			sc.skipSpace()
		}
	}
	if !sc.eof() && isDigit(sc.s[sc.i]) {
		if err := sc.clock(f); err != nil {
			return err
		}
	}
	return sc.tail(f)
}

// looksLikeDate reports whether time input starts with a date part, which
// time_in accepts and ignores.
func (sc *dtScanner) looksLikeDate() bool {
	for i := 0; i < len(sc.s); i++ {
		switch c := sc.s[i]; {
		case c == '-' || c == '/':
			return i > 0
		case c == ':':
			return false
		case !isDigit(c):
			return false
		}
	}
	return len(sc.s) == 8
}

func (sc *dtScanner) date(f *dtFields) error {
	d1 := sc.digits()
	if d1 == "" || len(d1) > 9 {
		return dtSyntaxError{}
	}
	f.hasDate = true
	if sc.eof() || (sc.s[sc.i] != '-' && sc.s[sc.i] != '/') {
		if len(d1) != 8 {
			return dtSyntaxError{}
		}
		f.year, _ = strconv.Atoi(d1[:4])
		f.month, _ = strconv.Atoi(d1[4:6])
		f.day, _ = strconv.Atoi(d1[6:])
		f.yearDigits = 4
		return nil
	}
	sep := sc.s[sc.i]
	sc.i++
	d2 := sc.digits()
	if d2 == "" || len(d2) > 2 || sc.eof() || sc.s[sc.i] != sep {
		return dtSyntaxError{}
	}
	sc.i++
	d3 := sc.digits()
	if d3 == "" || len(d3) > 9 {
		return dtSyntaxError{}
	}
	yearText := d1
	if sep == '/' && len(d1) <= 2 { // DateStyle MDY: month/day/year
		f.month, _ = strconv.Atoi(d1)
		f.day, _ = strconv.Atoi(d2)
		yearText = d3
	} else {
		if len(d3) > 2 {
			return dtSyntaxError{}
		}
		f.month, _ = strconv.Atoi(d2)
		f.day, _ = strconv.Atoi(d3)
	}
	f.year, _ = strconv.Atoi(yearText)
	f.yearDigits = len(yearText)
	f.twoDigitYearAllowed = sep == '/'
	return nil
}

func (sc *dtScanner) clock(f *dtFields) error {
	h := sc.digits()
	if len(h) > 2 || sc.eof() || sc.s[sc.i] != ':' {
		return dtSyntaxError{}
	}
	sc.i++
	m := sc.digits()
	if m == "" || len(m) > 2 {
		return dtSyntaxError{}
	}
	f.hasTime = true
	f.hour, _ = strconv.Atoi(h)
	f.minute, _ = strconv.Atoi(m)
	if sc.eof() || sc.s[sc.i] != ':' {
		return nil
	}
	sc.i++
	sec := sc.digits()
	if sec == "" || len(sec) > 2 {
		return dtSyntaxError{}
	}
	f.sec, _ = strconv.Atoi(sec)
	if sc.eof() || (sc.s[sc.i] != '.' && sc.s[sc.i] != ',') {
		return nil
	}
	sc.i++
	frac := sc.digits()
	if frac == "" {
		return nil
	}
	f.micros = fractionMicros(frac)
	return nil
}

// fractionMicros rounds a fraction of a second to microseconds the way
// PostgreSQL does (rint, i.e. half to even on the exact decimal value).
func fractionMicros(frac string) int64 {
	var us int64
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(frac) {
			us += int64(frac[i] - '0')
		}
	}
	if len(frac) <= 6 {
		return us
	}
	rest := frac[6:]
	switch {
	case rest[0] > '5':
		us++
	case rest[0] == '5':
		tailNonZero := false
		for _, c := range []byte(rest[1:]) {
			if c != '0' {
				tailNonZero = true
				break
			}
		}
		if tailNonZero || us%2 == 1 {
			us++
		}
	}
	return us
}

// tail reads zones and era markers after the date and time.
func (sc *dtScanner) tail(f *dtFields) error {
	for {
		sc.skipSpace()
		if sc.eof() {
			return nil
		}
		c := sc.s[sc.i]
		if c == '+' || c == '-' {
			if f.zoneSet {
				return dtSyntaxError{}
			}
			off, err := sc.numericZone()
			if err != nil {
				return err
			}
			f.zoneSet, f.zoneOffsetSec = true, off
			continue
		}
		start := sc.i
		for sc.i < len(sc.s) && !isSpace(sc.s[sc.i]) {
			sc.i++
		}
		word := sc.s[start:sc.i]
		if err := f.applyWord(word); err != nil {
			return err
		}
	}
}

func (sc *dtScanner) numericZone() (int, error) {
	sign := 1
	if sc.s[sc.i] == '-' {
		sign = -1
	}
	sc.i++
	h := sc.digits()
	var hh, mm, ss int
	switch len(h) {
	case 1, 2:
		hh, _ = strconv.Atoi(h)
		if !sc.eof() && sc.s[sc.i] == ':' {
			sc.i++
			m := sc.digits()
			if len(m) != 2 {
				return 0, dtSyntaxError{}
			}
			mm, _ = strconv.Atoi(m)
			if !sc.eof() && sc.s[sc.i] == ':' {
				sc.i++
				sec := sc.digits()
				if len(sec) != 2 {
					return 0, dtSyntaxError{}
				}
				ss, _ = strconv.Atoi(sec)
			}
		}
	case 4:
		hh, _ = strconv.Atoi(h[:2])
		mm, _ = strconv.Atoi(h[2:])
	case 6:
		hh, _ = strconv.Atoi(h[:2])
		mm, _ = strconv.Atoi(h[2:4])
		ss, _ = strconv.Atoi(h[4:])
	default:
		return 0, dtSyntaxError{}
	}
	if mm > 59 || ss > 59 || hh > 15 {
		return 0, pgerr.New(pgerr.InvalidTimeZoneDisplacement, "time zone displacement out of range: \"%s\"", sc.s)
	}
	return sign * (hh*3600 + mm*60 + ss), nil
}

// zoneAbbrevs are the common abbreviations from PostgreSQL's Default
// timezone_abbreviations set (offsets in seconds east of UTC).
var zoneAbbrevs = map[string]int{
	"z": 0, "zulu": 0, "utc": 0, "ut": 0, "gmt": 0,
	"est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
	"mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600,
	"akst": -9 * 3600, "akdt": -8 * 3600, "hst": -10 * 3600,
	"cet": 3600, "cest": 2 * 3600, "eet": 2 * 3600, "eest": 3 * 3600,
	"wet": 0, "west": 3600, "bst": 3600, "msk": 3 * 3600, "ist": 2 * 3600,
	"jst": 9 * 3600, "kst": 9 * 3600, "aest": 10 * 3600, "aedt": 11 * 3600,
	"nzst": 12 * 3600, "nzdt": 13 * 3600,
}

func (f *dtFields) applyWord(word string) error {
	lw := lowerASCII(word)
	switch lw {
	case "bc":
		f.bc = true
		return nil
	case "ad":
		return nil
	}
	if f.zoneSet || f.zoneLoc != nil {
		return dtSyntaxError{}
	}
	if off, ok := zoneAbbrevs[lw]; ok {
		f.zoneSet, f.zoneOffsetSec = true, off
		return nil
	}
	if loc, err := LoadLocation(word); err == nil {
		f.zoneLoc = loc
		return nil
	}
	// Like ParseDateTime, only a word with a '/' is taken for a zone name;
	// any other unknown word is a syntax error.
	if indexByte(word, '/') < 0 {
		return dtSyntaxError{}
	}
	return pgerr.New(pgerr.InvalidParameterValue, "time zone \"%s\" not recognized", lowerASCII(word))
}

func (f *dtFields) validate() error {
	if f.hasDate {
		if f.twoDigitYearAllowed && f.yearDigits <= 2 && !f.bc {
			if f.year < 70 {
				f.year += 2000
			} else {
				f.year += 1900
			}
		}
		if f.year == 0 || f.month < 1 || f.month > 12 || f.day < 1 {
			return dtSyntaxError{}
		}
		if f.bc {
			f.year = 1 - f.year
		}
		if f.day > daysIn(time.Month(f.month), f.year) {
			return dtSyntaxError{}
		}
	}
	if f.hour > 24 || f.minute > 59 || f.sec > 60 {
		return dtSyntaxError{}
	}
	if f.hour == 24 && (f.minute != 0 || f.sec != 0 || f.micros != 0) {
		return dtSyntaxError{}
	}
	return nil
}

func (f *dtFields) clockMicros() int64 {
	us := (int64(f.hour)*3600+int64(f.minute)*60+int64(f.sec))*1_000_000 + f.micros
	if us > microsPerDay {
		us = microsPerDay
	}
	return us
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func daysSince2000(d time.Time) int64 {
	sec := d.Unix() - pgEpochUnixSec
	if sec < 0 {
		return -((-sec + 86399) / 86400)
	}
	return sec / 86400
}

// timestampMicros converts t to PostgreSQL's microseconds since 2000-01-01
// UTC and reports whether it is inside the timestamp range.
func timestampMicros(t time.Time) (int64, bool) {
	const minSec = minTimestampMicros / 1_000_000
	const endSec = endTimestampMicros / 1_000_000
	sec := t.Unix() - pgEpochUnixSec
	if sec < minSec || sec >= endSec {
		return 0, false
	}
	return sec*1_000_000 + int64(t.Nanosecond()/1000), true
}

func timeFromMicros(us int64) time.Time {
	sec, rem := us/1_000_000, us%1_000_000
	if rem < 0 {
		sec--
		rem += 1_000_000
	}
	return time.Unix(sec+pgEpochUnixSec, rem*1000).UTC()
}

// appendTimestamp writes PostgreSQL's ISO output: "2006-01-02 15:04:05.999999",
// then the UTC offset when withZone ("+00", "+05:30", "-04:56:02"), then " BC"
// for years before 1.
func appendTimestamp(dst []byte, t time.Time, withZone bool) []byte {
	switch {
	case t.Equal(InfinityTime):
		return append(dst, "infinity"...)
	case t.Equal(NegInfinityTime):
		return append(dst, "-infinity"...)
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	bc := year <= 0
	if bc {
		year = 1 - year
	}
	dst = appendDatePart(dst, year, int(month), day)
	dst = append(dst, ' ')
	dst = appendClock(dst, hour, minute, sec, t.Nanosecond()/1000)
	if withZone {
		_, off := t.Zone()
		dst = appendOffset(dst, off)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

func appendDate(dst []byte, t time.Time) []byte {
	switch {
	case t.Equal(InfinityTime):
		return append(dst, "infinity"...)
	case t.Equal(NegInfinityTime):
		return append(dst, "-infinity"...)
	}
	year, month, day := t.Date()
	bc := year <= 0
	if bc {
		year = 1 - year
	}
	dst = appendDatePart(dst, year, int(month), day)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

func appendDatePart(dst []byte, year, month, day int) []byte {
	dst = appendPadded(dst, year, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, month, 2)
	dst = append(dst, '-')
	return appendPadded(dst, day, 2)
}

func appendClock(dst []byte, hour, minute, sec, micros int) []byte {
	dst = appendPadded(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec, 2)
	return appendFraction(dst, micros)
}

// appendFraction writes ".ffffff" without trailing zeros, nothing for 0.
func appendFraction(dst []byte, micros int) []byte {
	if micros == 0 {
		return dst
	}
	var buf [7]byte
	buf[0] = '.'
	for i := 6; i >= 1; i-- {
		buf[i] = byte('0' + micros%10)
		micros /= 10
	}
	n := 7
	for buf[n-1] == '0' {
		n--
	}
	return append(dst, buf[:n]...)
}

func appendOffset(dst []byte, off int) []byte {
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = appendPadded(dst, off/3600, 2)
	if m, s := off/60%60, off%60; m != 0 || s != 0 {
		dst = append(dst, ':')
		dst = appendPadded(dst, m, 2)
		if s != 0 {
			dst = append(dst, ':')
			dst = appendPadded(dst, s, 2)
		}
	}
	return dst
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// formatClockMicros renders a time of day (0..24h in microseconds).
func formatClockMicros(us int64) string {
	return string(appendClockMicros(nil, us))
}

func appendClockMicros(dst []byte, us int64) []byte {
	sec := us / 1_000_000
	return appendClock(dst, int(sec/3600), int(sec/60%60), int(sec%60), int(us%1_000_000))
}

// wallToInstant interprets a wall-clock time (carried in UTC) in loc the
// way PostgreSQL's DetermineTimeZoneOffset does: around a transition, a
// time in a spring-forward gap takes the offset from before it and an
// ambiguous fall-back time takes the offset from after it. (time.Date
// leaves that choice unspecified.)
func wallToInstant(wall time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return wall
	}
	w := wall.Unix()
	probe := time.Unix(w-86400, 0).In(loc)
	_, beforeOff := probe.Zone()
	_, boundary := probe.ZoneBounds()
	off := beforeOff
	if !boundary.IsZero() {
		_, afterOff := boundary.In(loc).Zone()
		b := boundary.Unix()
		beforeTime, afterTime := w-int64(beforeOff), w-int64(afterOff)
		switch {
		case beforeTime < b && afterTime < b:
			off = beforeOff
		case beforeTime >= b && afterTime >= b:
			off = afterOff
		case beforeTime > afterTime: // spring forward: a gap
			off = beforeOff
		default: // fall back: ambiguous
			off = afterOff
		}
	}
	return wall.Add(-time.Duration(off) * time.Second).UTC()
}
