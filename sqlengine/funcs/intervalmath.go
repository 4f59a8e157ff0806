package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Interval × number and interval / number, ports of PostgreSQL 15's
// interval_mul and interval_div: each field is scaled on its own, and the
// fractional part of the months cascades into days (30 a month) and that
// of the days into the time (86400 s a day), never upwards.

func intervalMathFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_interval_mul":  {2, intervalScaleFn(false)},
		"chr2_interval_div":  {2, intervalScaleFn(true)},
		"chr2_interval_sign": {1, intervalSign},
		"chr2_interval_add":  {3, intervalAdd}, // intervalsum.go
		"chr2_time_key":      {1, timeKey},
		// orderedset.go
		"chr2_percentile_result": {2, percentileResult},
	}
}

func intervalScaleFn(divide bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
		if err != nil {
			return nil, FromPG(err)
		}
		f := asFloat(a[1])
		if divide {
			if f == 0 {
				return nil, Error(pgerr.DivisionByZero, "division by zero")
			}
			out, err := intervalDiv(iv, f)
			return intervalResult(out, err)
		}
		out, err := IntervalMul(iv, f)
		return intervalResult(out, err)
	}
}

func intervalResult(iv pgval.Interval, err error) (driver.Value, error) {
	if err != nil {
		return nil, err
	}
	return iv.String(), nil
}

const (
	daysPerMonth = 30
	secsPerDay   = 86400
)

// tsRound is PostgreSQL's TSROUND: rounding to microsecond precision, to
// turn near-whole floating point results into whole ones.
func tsRound(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }

func errIntervalRange() error {
	return Error(pgerr.DatetimeFieldOverflow, "interval out of range")
}

// IntervalMul is interval_mul.
func IntervalMul(iv pgval.Interval, factor float64) (pgval.Interval, error) {
	months := float64(iv.Months) * factor
	days := float64(iv.Days) * factor
	if math.IsNaN(months) || months > math.MaxInt32 || months < math.MinInt32 ||
		math.IsNaN(days) || days > math.MaxInt32 || days < math.MinInt32 {
		return pgval.Interval{}, errIntervalRange()
	}
	return cascadeInterval(iv, months, days, float64(iv.Micros)*factor)
}

// intervalDiv is interval_div (the quotients, not a multiplication by the
// reciprocal, so that results match PostgreSQL's to the microsecond).
func intervalDiv(iv pgval.Interval, factor float64) (pgval.Interval, error) {
	return cascadeInterval(iv, float64(iv.Months)/factor, float64(iv.Days)/factor, float64(iv.Micros)/factor)
}

// cascadeInterval builds the result from the scaled fields: whole months
// and days, their fractions cascaded down.
func cascadeInterval(iv pgval.Interval, months, days, micros float64) (pgval.Interval, error) {
	out := pgval.Interval{Months: int32(months), Days: int32(days)}
	monthRemDays := tsRound((months - float64(out.Months)) * daysPerMonth)
	secRem := tsRound((days - float64(out.Days) + monthRemDays - float64(int32(monthRemDays))) * secsPerDay)
	if math.Abs(secRem) >= secsPerDay {
		out.Days += int32(secRem / secsPerDay)
		secRem -= float64(int32(secRem/secsPerDay)) * secsPerDay
	}
	out.Days += int32(monthRemDays)
	t := math.RoundToEven(micros + secRem*1e6)
	if math.IsNaN(t) || t >= math.MaxInt64 || t < math.MinInt64 {
		return pgval.Interval{}, errIntervalRange()
	}
	out.Micros = int64(t)
	return out, nil
}

// intervalSign is the sign of an interval by interval comparison (30-day
// months, 24-hour days), for generate_series's direction; zero is 22023.
func intervalSign(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	iv, err := pgval.ParseInterval(fmt.Sprint(a[0]))
	if err != nil {
		return nil, FromPG(err)
	}
	sign := intervalSpan(iv).Sign()
	if sign == 0 {
		return nil, Error(pgerr.InvalidParameterValue, "step size cannot equal zero")
	}
	return int64(sign), nil
}
