package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Date/time constructors and interval arithmetic (timestamp.c, date.c).

const usecsPerDay = int64(86_400_000_000)

func dateFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_make_date":      {3, makeDate},
		"chr2_make_time":      {3, makeTime},
		"chr2_make_timestamp": {6, makeTimestamp},
		"chr2_make_interval":  {7, makeInterval},
		"chr2_age":            {2, ageFn},
		"chr2_justify":        {2, justifyFn},
		"chr2_date_bin":       {3, dateBin},
		"chr2_get_byte":       {2, getByte},
	}
}

func anyNil(a []driver.Value) bool {
	for _, v := range a {
		if v == nil {
			return true
		}
	}
	return false
}

// civilDate checks a date as make_date does.
func civilDate(y, m, d int64) (time.Time, error) {
	if y <= 0 || m < 1 || m > 12 || d < 1 || d > int64(daysIn(int(y), int(m))) {
		return time.Time{}, Error(pgerr.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	return time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC), nil
}

// clockMicros checks a time of day as make_time does.
func clockMicros(h, m int64, sec float64) (int64, error) {
	if h < 0 || h > 24 || m < 0 || m > 59 || sec < 0 || sec > 60 || math.IsNaN(sec) ||
		h*3_600_000_000+m*60_000_000+int64(math.Round(sec*1e6)) > usecsPerDay {
		return 0, Error(pgerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%s", h, m, formatSeconds(sec))
	}
	return h*3_600_000_000 + m*60_000_000 + int64(math.Round(sec*1e6)), nil
}

func formatSeconds(sec float64) string {
	s := fmt.Sprintf("%09.6f", sec)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func makeDate(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	t, err := civilDate(asInt(a[0]), asInt(a[1]), asInt(a[2]))
	if err != nil {
		return nil, err
	}
	return t.Format(sqltype.DateLayout), nil
}

func makeTime(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	us, err := clockMicros(asInt(a[0]), asInt(a[1]), asFloat(a[2]))
	if err != nil {
		return nil, err
	}
	if us == usecsPerDay {
		return "24:00:00", nil
	}
	return formatClock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(us) * time.Microsecond)), nil
}

func makeTimestamp(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	t, err := civilDate(asInt(a[0]), asInt(a[1]), asInt(a[2]))
	if err != nil {
		return nil, err
	}
	us, err := clockMicros(asInt(a[3]), asInt(a[4]), asFloat(a[5]))
	if err != nil {
		return nil, err
	}
	return t.Add(time.Duration(us) * time.Microsecond).Format(sqltype.TimestampLayout), nil
}

// makeInterval is make_interval(years, months, weeks, days, hours, mins, secs).
func makeInterval(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	months := asInt(a[0])*12 + asInt(a[1])
	days := asInt(a[2])*7 + asInt(a[3])
	secs := asFloat(a[6])
	micros := float64(asInt(a[4]))*3.6e9 + float64(asInt(a[5]))*6e7 + math.Round(secs*1e6)
	if months > math.MaxInt32 || months < math.MinInt32 || days > math.MaxInt32 || days < math.MinInt32 ||
		math.Abs(micros) > math.MaxInt64/2 || math.IsNaN(secs) {
		return nil, Error(pgerr.DatetimeFieldOverflow, "interval out of range")
	}
	return pgval.Interval{Months: int32(months), Days: int32(days), Micros: int64(micros)}.String(), nil
}

// ageFn is age(a, b): the difference field by field, borrowing from the
// next larger field with the month lengths PostgreSQL uses.
func ageFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	t1, err := parseStoredTime(a[0])
	if err != nil {
		return nil, FromPG(err)
	}
	t2, err := parseStoredTime(a[1])
	if err != nil {
		return nil, FromPG(err)
	}
	f := [6]int64{int64(t1.Year() - t2.Year()), int64(t1.Month() - t2.Month()), int64(t1.Day() - t2.Day()),
		int64(t1.Hour() - t2.Hour()), int64(t1.Minute() - t2.Minute()), int64(t1.Second() - t2.Second())}
	us := int64(t1.Nanosecond()/1000 - t2.Nanosecond()/1000)
	neg := t1.Before(t2)
	if neg {
		us = -us
		for i := range f {
			f[i] = -f[i]
		}
	}
	ref := t2
	if neg {
		ref = t1
	}
	for ; us < 0; f[5]-- {
		us += 1_000_000
	}
	for ; f[5] < 0; f[4]-- {
		f[5] += 60
	}
	for ; f[4] < 0; f[3]-- {
		f[4] += 60
	}
	for ; f[3] < 0; f[2]-- {
		f[3] += 24
	}
	for ; f[2] < 0; f[1]-- {
		f[2] += int64(daysIn(ref.Year(), int(ref.Month())))
	}
	for ; f[1] < 0; f[0]-- {
		f[1] += 12
	}
	iv := pgval.Interval{Months: int32(f[0]*12 + f[1]), Days: int32(f[2]),
		Micros: ((f[3]*60+f[4])*60+f[5])*1_000_000 + us}
	if neg {
		iv = pgval.Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}
	}
	return iv.String(), nil
}

// justifyFn is justify_hours (mode 1), justify_days (2) or
// justify_interval (3).
func justifyFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
	if err != nil {
		return nil, FromPG(err)
	}
	m, d, t := int64(iv.Months), int64(iv.Days), iv.Micros
	switch asInt(a[1]) {
	case 1:
		d, t = d+t/usecsPerDay, t%usecsPerDay
		d, t = fixSign(d, t, usecsPerDay)
	case 2:
		m, d = m+d/30, d%30
		m, d = fixSign(m, d, 30)
	default:
		if d > 0 && t > 0 || d < 0 && t < 0 {
			m, d = m+d/30, d%30
		}
		d, t = d+t/usecsPerDay, t%usecsPerDay
		m, d = m+d/30, d%30
		if m > 0 && (d < 0 || d == 0 && t < 0) {
			d, m = d+30, m-1
		} else if m < 0 && (d > 0 || d == 0 && t > 0) {
			d, m = d-30, m+1
		}
		d, t = fixSign(d, t, usecsPerDay)
	}
	if m > math.MaxInt32 || m < math.MinInt32 || d > math.MaxInt32 || d < math.MinInt32 {
		return nil, Error(pgerr.DatetimeFieldOverflow, "interval out of range")
	}
	return pgval.Interval{Months: int32(m), Days: int32(d), Micros: t}.String(), nil
}

// fixSign makes the smaller unit agree in sign with the larger one.
func fixSign(big, small, unit int64) (int64, int64) {
	switch {
	case big > 0 && small < 0:
		return big - 1, small + unit
	case big < 0 && small > 0:
		return big + 1, small - unit
	}
	return big, small
}

// dateBin is date_bin(stride, source, origin) over timestamps.
func dateBin(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
	if err != nil {
		return nil, FromPG(err)
	}
	if iv.Months != 0 {
		return nil, Error(pgerr.FeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	stride := int64(iv.Days)*usecsPerDay + iv.Micros
	if stride <= 0 {
		return nil, Error(pgerr.DatetimeFieldOverflow, "stride must be greater than zero")
	}
	src, err := parseStoredTime(a[1])
	if err != nil {
		return nil, FromPG(err)
	}
	origin, err := parseStoredTime(a[2])
	if err != nil {
		return nil, FromPG(err)
	}
	diff := src.Sub(origin).Microseconds()
	delta := diff - diff%stride
	if origin.After(src) && stride > 1 {
		delta -= stride
	}
	return origin.Add(time.Duration(delta) * time.Microsecond).Format(sqltype.TimestampLayout), nil
}

// getByte is get_byte(bytea, n).
func getByte(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if anyNil(a) {
		return nil, nil
	}
	var b []byte
	switch x := a[0].(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	}
	n := asInt(a[1])
	if n < 0 || n >= int64(len(b)) {
		return nil, Error(pgerr.ArraySubscriptError, "index %d out of valid range, 0..%d", n, len(b)-1)
	}
	return int64(b[n]), nil
}
