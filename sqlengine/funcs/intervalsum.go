package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgval"
)

// interval ± interval and sum/avg of intervals, as PostgreSQL 15's
// interval_pl/interval_mi and interval_accum/interval_avg: months, days and
// microseconds add field by field (no cascading), and any field leaving its
// range is 22008 "interval out of range". Stored intervals are text, which
// SQLite's + and sum() would read as numbers ('1 day' + '1 hour' = 2).

// addIntervals returns x + sign·y (sign ±1).
func addIntervals(x, y pgval.Interval, sign int64) (pgval.Interval, error) {
	months := int64(x.Months) + sign*int64(y.Months)
	days := int64(x.Days) + sign*int64(y.Days)
	if months < math.MinInt32 || months > math.MaxInt32 || days < math.MinInt32 || days > math.MaxInt32 {
		return pgval.Interval{}, errIntervalRange()
	}
	ym := y.Micros
	if sign < 0 {
		if ym == math.MinInt64 {
			return pgval.Interval{}, errIntervalRange()
		}
		ym = -ym
	}
	micros := x.Micros + ym // wraps on overflow (Go's signed arithmetic); checked below
	// Signed overflow: both operands have one sign and the sum the other.
	if (x.Micros >= 0) == (ym >= 0) && (micros >= 0) != (x.Micros >= 0) {
		return pgval.Interval{}, errIntervalRange()
	}
	return pgval.Interval{Months: int32(months), Days: int32(days), Micros: micros}, nil
}

func storedInterval(v driver.Value) (pgval.Interval, error) {
	iv, err := pgval.ParseInterval(fmt.Sprint(v))
	if err != nil {
		return pgval.Interval{}, FromPG(err)
	}
	return iv, nil
}

// intervalAdd is chr2_interval_add(a, b, sign).
func intervalAdd(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, err := storedInterval(a[0])
	if err != nil {
		return nil, err
	}
	y, err := storedInterval(a[1])
	if err != nil {
		return nil, err
	}
	return intervalResult(addIntervals(x, y, asInt(a[2])))
}

// intervalSum is the chr2_interval_sum and chr2_interval_avg aggregate
// (also as a window function).
type intervalSum struct {
	sum pgval.Interval
	n   int64
	avg bool
}

func (s *intervalSum) add(v driver.Value, sign int64) error {
	if v == nil {
		return nil
	}
	iv, err := storedInterval(v)
	if err != nil {
		return err
	}
	if s.sum, err = addIntervals(s.sum, iv, sign); err != nil {
		return err
	}
	s.n += sign
	return nil
}

func (s *intervalSum) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	return s.add(args[0], 1)
}

func (s *intervalSum) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	return s.add(args[0], -1)
}

func (s *intervalSum) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if s.n == 0 {
		return nil, nil
	}
	if !s.avg {
		return s.sum.String(), nil
	}
	return intervalResult(intervalDiv(s.sum, float64(s.n)))
}

func (s *intervalSum) Final(*sqlite.FunctionContext) {}

// timeKey is chr2_time_key(stored date/timestamp): its microseconds since
// 1970, exact, for RANGE frames with an offset (translate/rangeframe.go).
func timeKey(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	ts, err := parseStoredTime(a[0])
	if err != nil {
		return nil, FromPG(err)
	}
	return ts.UnixMicro(), nil
}
