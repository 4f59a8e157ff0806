package pgval

import (
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Interval is PostgreSQL's interval: months, days and microseconds are kept
// apart because a month and a day have no fixed length.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// IntervalFromDuration converts a Go duration (which has only a time part).
func IntervalFromDuration(d time.Duration) Interval {
	return Interval{Micros: d.Microseconds()}
}

// String is the IntervalStyle postgres output ("1 year 2 mons -3 days +04:05:06.5").
func (iv Interval) String() string { return string(iv.AppendText(nil)) }

// AppendText appends the IntervalStyle postgres output, mirroring
// EncodeInterval's sign rules (each part signed; "+" on a positive part
// that follows a negative one).
func (iv Interval) AppendText(dst []byte) []byte {
	start := len(dst)
	isBefore := false
	years, months := int64(iv.Months)/12, int64(iv.Months)%12
	dst = appendIntervalPart(dst, start, years, "year", &isBefore)
	dst = appendIntervalPart(dst, start, months, "mon", &isBefore)
	dst = appendIntervalPart(dst, start, int64(iv.Days), "day", &isBefore)
	if len(dst) != start && iv.Micros == 0 {
		return dst
	}
	if len(dst) != start {
		dst = append(dst, ' ')
	}
	mag := uint64(iv.Micros)
	if iv.Micros < 0 {
		dst = append(dst, '-')
		mag = uint64(-iv.Micros) //nolint:gosec // two's complement gives |MinInt64| correctly
	} else if isBefore {
		dst = append(dst, '+')
	}
	totalSec := mag / 1_000_000
	dst = appendPaddedU(dst, totalSec/3600, 2)
	dst = append(dst, ':')
	dst = appendPaddedU(dst, totalSec/60%60, 2)
	dst = append(dst, ':')
	dst = appendPaddedU(dst, totalSec%60, 2)
	return appendFraction(dst, int(mag%1_000_000))
}

func appendIntervalPart(dst []byte, start int, v int64, unit string, isBefore *bool) []byte {
	if v == 0 {
		return dst
	}
	if len(dst) != start {
		dst = append(dst, ' ')
	}
	if *isBefore && v > 0 {
		dst = append(dst, '+')
	}
	dst = strconv.AppendInt(dst, v, 10)
	dst = append(dst, ' ')
	dst = append(dst, unit...)
	if v != 1 {
		dst = append(dst, 's')
	}
	*isBefore = v < 0
	return dst
}

func appendPaddedU(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	b := strconv.AppendUint(buf[:0], v, 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// intervalAcc accumulates parsed fields with overflow detection.
type intervalAcc struct {
	months, days, micros int64
	overflow             bool
}

func (a *intervalAcc) add(dst *int64, v int64) {
	s := *dst + v
	if (v > 0 && s < *dst) || (v < 0 && s > *dst) {
		a.overflow = true
	}
	*dst = s
}

func (a *intervalAcc) addScaled(dst *int64, v, scale int64) {
	hi, lo := bits.Mul64(uint64(absInt(v)), uint64(scale))
	if hi != 0 || lo > math.MaxInt64 {
		a.overflow = true
		return
	}
	p := int64(lo)
	if v < 0 {
		p = -p
	}
	a.add(dst, p)
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// addFrac adds round(frac*scale) microseconds (PostgreSQL's rint).
func (a *intervalAcc) addFracMicros(frac float64, scale float64) {
	x := math.RoundToEven(frac * scale)
	if math.Abs(x) > 9e18 {
		a.overflow = true
		return
	}
	a.add(&a.micros, int64(x))
}

// addFracDays spreads a fraction of days-per-unit into days and micros.
func (a *intervalAcc) addFracDays(frac float64, daysPerUnit float64) {
	d := frac * daysPerUnit
	whole := math.Trunc(d)
	if math.Abs(whole) > 9e18 {
		a.overflow = true
		return
	}
	a.add(&a.days, int64(whole))
	a.addFracMicros(d-whole, microsPerDay)
}

type intervalUnit int

const (
	unitNone intervalUnit = iota
	unitMicro
	unitMilli
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitYear
	unitDecade
	unitCentury
	unitMillennium
)

var intervalUnits = map[string]intervalUnit{
	"microsecond": unitMicro, "microseconds": unitMicro, "usec": unitMicro, "usecs": unitMicro, "us": unitMicro,
	"millisecond": unitMilli, "milliseconds": unitMilli, "msec": unitMilli, "msecs": unitMilli, "ms": unitMilli,
	"second": unitSecond, "seconds": unitSecond, "sec": unitSecond, "secs": unitSecond, "s": unitSecond,
	"minute": unitMinute, "minutes": unitMinute, "min": unitMinute, "mins": unitMinute, "m": unitMinute,
	"hour": unitHour, "hours": unitHour, "hr": unitHour, "hrs": unitHour, "h": unitHour,
	"day": unitDay, "days": unitDay, "d": unitDay,
	"week": unitWeek, "weeks": unitWeek, "w": unitWeek,
	"month": unitMonth, "months": unitMonth, "mon": unitMonth, "mons": unitMonth,
	"year": unitYear, "years": unitYear, "yr": unitYear, "yrs": unitYear, "y": unitYear,
	"decade": unitDecade, "decades": unitDecade, "dec": unitDecade, "decs": unitDecade,
	"century": unitCentury, "centuries": unitCentury, "cent": unitCentury, "c": unitCentury,
	"millennium": unitMillennium, "millennia": unitMillennium, "mil": unitMillennium, "mils": unitMillennium,
}

// apply adds whole+frac units, following DecodeInterval's fraction cascade.
func (a *intervalAcc) apply(u intervalUnit, whole int64, frac float64) {
	switch u {
	case unitMicro:
		a.add(&a.micros, whole)
		a.addFracMicros(frac, 1)
	case unitMilli:
		a.addScaled(&a.micros, whole, 1000)
		a.addFracMicros(frac, 1000)
	case unitSecond:
		a.addScaled(&a.micros, whole, 1_000_000)
		a.addFracMicros(frac, 1_000_000)
	case unitMinute:
		a.addScaled(&a.micros, whole, 60_000_000)
		a.addFracMicros(frac, 60_000_000)
	case unitHour:
		a.addScaled(&a.micros, whole, 3_600_000_000)
		a.addFracMicros(frac, 3_600_000_000)
	case unitDay:
		a.add(&a.days, whole)
		a.addFracMicros(frac, microsPerDay)
	case unitWeek:
		a.addScaled(&a.days, whole, 7)
		a.addFracDays(frac, 7)
	case unitMonth:
		a.add(&a.months, whole)
		a.addFracDays(frac, 30)
	case unitYear, unitDecade, unitCentury, unitMillennium:
		perUnit := int64(12)
		switch u {
		case unitDecade:
			perUnit = 120
		case unitCentury:
			perUnit = 1200
		case unitMillennium:
			perUnit = 12000
		}
		a.addScaled(&a.months, whole, perUnit)
		a.add(&a.months, int64(math.RoundToEven(frac*float64(perUnit))))
	}
}

// ParseInterval accepts PostgreSQL's postgres-style interval input
// ("1 year 2 mons 3 days 04:05:06.5", "@ 1 hour ago", "1.5 weeks", "-1 day
// +02:00"), the SQL-standard forms "1-2" and "3 4:05:06", and ISO 8601
// durations ("P1Y2M3DT4H5M6.5S").
func ParseInterval(s string) (Interval, error) {
	t := lowerASCII(trimSpace(s))
	var acc intervalAcc
	var ok bool
	if len(t) > 0 && t[0] == 'p' {
		ok = parseISOInterval(t[1:], &acc)
	} else {
		ok = parsePostgresInterval(t, &acc)
	}
	if !ok {
		return Interval{}, pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", s)
	}
	if acc.overflow || acc.months != int64(int32(acc.months)) || acc.days != int64(int32(acc.days)) {
		return Interval{}, pgerr.New(pgerr.IntervalFieldOverflow, "interval field value out of range: \"%s\"", s)
	}
	return Interval{Months: int32(acc.months), Days: int32(acc.days), Micros: acc.micros}, nil
}

type ivScanner struct {
	s string
	i int
}

func (sc *ivScanner) skipSpace() {
	for sc.i < len(sc.s) && isSpace(sc.s[sc.i]) {
		sc.i++
	}
}

// number reads [+-]digits[.digits] as a whole part and a signed fraction.
func (sc *ivScanner) number() (whole int64, frac float64, neg bool, ok bool) {
	start := sc.i
	if sc.i < len(sc.s) && (sc.s[sc.i] == '+' || sc.s[sc.i] == '-') {
		neg = sc.s[sc.i] == '-'
		sc.i++
	}
	ds := sc.i
	for sc.i < len(sc.s) && isDigit(sc.s[sc.i]) {
		sc.i++
	}
	intDigits := sc.s[ds:sc.i]
	fracDigits := ""
	if sc.i < len(sc.s) && sc.s[sc.i] == '.' {
		sc.i++
		fs := sc.i
		for sc.i < len(sc.s) && isDigit(sc.s[sc.i]) {
			sc.i++
		}
		fracDigits = sc.s[fs:sc.i]
	}
	if intDigits == "" && fracDigits == "" {
		sc.i = start
		return 0, 0, false, false
	}
	if intDigits != "" {
		u, err := strconv.ParseUint(intDigits, 10, 63)
		if err != nil {
			return 0, 0, neg, false
		}
		whole = int64(u)
	}
	if fracDigits != "" {
		frac, _ = strconv.ParseFloat("0."+fracDigits, 64)
	}
	if neg {
		whole, frac = -whole, -frac
	}
	return whole, frac, neg, true
}

func (sc *ivScanner) word() string {
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= 'a' && sc.s[sc.i] <= 'z' {
		sc.i++
	}
	return sc.s[start:sc.i]
}

// peekClock reports whether a [+-]digits ':' time field starts here.
func (sc *ivScanner) peekClock() bool {
	j := sc.i
	if j < len(sc.s) && (sc.s[j] == '+' || sc.s[j] == '-') {
		j++
	}
	k := j
	for k < len(sc.s) && isDigit(sc.s[k]) {
		k++
	}
	return k > j && k < len(sc.s) && sc.s[k] == ':'
}

func parsePostgresInterval(t string, acc *intervalAcc) bool {
	sc := ivScanner{s: t}
	sc.skipSpace()
	if sc.i < len(sc.s) && sc.s[sc.i] == '@' {
		sc.i++
	}
	ago, fields := false, 0
	for {
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			break
		}
		if sc.peekClock() {
			if !sc.clockField(acc) {
				return false
			}
			fields++
			continue
		}
		if w := sc.word(); w != "" {
			if w != "ago" || ago {
				return false
			}
			ago = true
			continue
		}
		if !sc.numberField(acc) {
			return false
		}
		fields++
	}
	if fields == 0 {
		return false
	}
	if ago {
		acc.months, acc.days, acc.micros = -acc.months, -acc.days, -acc.micros
	}
	return true
}

func (sc *ivScanner) numberField(acc *intervalAcc) bool {
	whole, frac, neg, ok := sc.number()
	if !ok {
		return false
	}
	// SQL-standard year-month literal: "1-2".
	if frac == 0 && sc.i < len(sc.s) && sc.s[sc.i] == '-' && sc.i+1 < len(sc.s) && isDigit(sc.s[sc.i+1]) {
		sc.i++
		m, _, _, ok := sc.number()
		if !ok || m > 11 {
			return false
		}
		if neg {
			m = -m
		}
		acc.addScaled(&acc.months, whole, 12)
		acc.add(&acc.months, m)
		return true
	}
	sc.skipSpace()
	w := sc.word()
	if w == "" {
		if sc.peekClock() { // SQL-standard day-time literal: "3 4:05:06"
			acc.apply(unitDay, whole, frac)
		} else {
			acc.apply(unitSecond, whole, frac)
		}
		return true
	}
	u, known := intervalUnits[w]
	if !known {
		return false
	}
	acc.apply(u, whole, frac)
	return true
}

// clockField reads [+-]H:MM[:SS[.frac]]; the sign covers every part.
func (sc *ivScanner) clockField(acc *intervalAcc) bool {
	neg := false
	if sc.s[sc.i] == '+' || sc.s[sc.i] == '-' {
		neg = sc.s[sc.i] == '-'
		sc.i++
	}
	h, _, _, ok := sc.number()
	if !ok || sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
		return false
	}
	sc.i++
	m, mfrac, _, ok := sc.number()
	if !ok || m > 59 || m < 0 {
		return false
	}
	var sec int64
	var frac float64
	if mfrac == 0 && sc.i < len(sc.s) && sc.s[sc.i] == ':' {
		sc.i++
		sec, frac, _, ok = sc.number()
		if !ok || sec > 59 || sec < 0 || frac < 0 {
			return false
		}
	}
	var part intervalAcc
	part.addScaled(&part.micros, h, 3_600_000_000)
	part.addScaled(&part.micros, m, 60_000_000)
	part.addFracMicros(mfrac, 60_000_000)
	part.addScaled(&part.micros, sec, 1_000_000)
	part.addFracMicros(frac, 1_000_000)
	if part.overflow {
		acc.overflow = true
	}
	if neg {
		part.micros = -part.micros
	}
	acc.add(&acc.micros, part.micros)
	return true
}

// parseISOInterval reads the designator form after the leading 'P'.
func parseISOInterval(t string, acc *intervalAcc) bool {
	sc := ivScanner{s: t}
	inTime, fields := false, 0
	for sc.i < len(sc.s) {
		if sc.s[sc.i] == 't' {
			if inTime {
				return false
			}
			inTime = true
			sc.i++
			continue
		}
		whole, frac, _, ok := sc.number()
		if !ok || sc.i >= len(sc.s) {
			return false
		}
		d := sc.s[sc.i]
		sc.i++
		var u intervalUnit
		switch {
		case !inTime && d == 'y':
			u = unitYear
		case !inTime && d == 'm':
			u = unitMonth
		case !inTime && d == 'w':
			u = unitWeek
		case !inTime && d == 'd':
			u = unitDay
		case inTime && d == 'h':
			u = unitHour
		case inTime && d == 'm':
			u = unitMinute
		case inTime && d == 's':
			u = unitSecond
		default:
			return false
		}
		acc.apply(u, whole, frac)
		fields++
	}
	return fields > 0
}
