package funcs

import (
	"bytes"
	"database/sql/driver"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// Ordered-set aggregates: percentile_cont, percentile_disc and mode, ports
// of PostgreSQL's orderedsetaggs.c. NULL inputs are ignored; the fraction
// is the direct argument, evaluated once per group in PostgreSQL, so the
// first row's value is used.
//
//	chr2_percentile_cont_float(frac, x, desc)     x float8, sorted here
//	chr2_percentile_cont_interval(frac, x, desc)  x interval, sorted here
//	chr2_percentile_disc(frac, x ORDER BY key)    rows arrive sorted
//	chr2_mode(x, numeric ORDER BY key)            rows arrive sorted

type aggMaker = func() sqlite.AggregateFunction

func orderedSetAggregates() map[string]struct {
	n    int32
	make aggMaker
} {
	return map[string]struct {
		n    int32
		make aggMaker
	}{
		"chr2_percentile_cont_float":    {3, func() sqlite.AggregateFunction { return &percentile{cont: true} }},
		"chr2_percentile_cont_interval": {3, func() sqlite.AggregateFunction { return &percentile{cont: true, interval: true} }},
		"chr2_percentile_disc":          {2, func() sqlite.AggregateFunction { return &percentile{} }},
		"chr2_mode":                     {2, func() sqlite.AggregateFunction { return &modeAgg{} }},
	}
}

// percentileResult(frac, value) is value once frac is checked: NULL for a
// NULL fraction, 22003 outside [0, 1].
func percentileResult(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	if err := checkFraction(asFloat(a[0])); err != nil {
		return nil, err
	}
	return a[1], nil
}

func checkFraction(frac float64) error {
	if frac < 0 || frac > 1 || math.IsNaN(frac) {
		return Error(pgerr.NumericValueOutOfRange, "percentile value %s is not between 0 and 1",
			strconv.FormatFloat(frac, 'g', -1, 64))
	}
	return nil
}

// percentile collects the non-null values of a group.
type percentile struct {
	cont, interval bool
	fracSeen       bool
	frac           driver.Value
	desc           bool
	vals           []driver.Value
}

func (p *percentile) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if !p.fracSeen {
		p.fracSeen, p.frac = true, args[0]
		p.desc = len(args) > 2 && asInt(args[2]) == 1
	}
	if args[1] != nil {
		p.vals = append(p.vals, args[1])
	}
	return nil
}

func (p *percentile) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return Error(pgerr.FeatureNotSupported, "OVER is not supported for ordered-set aggregates")
}

func (p *percentile) Final(*sqlite.FunctionContext) {}

func (p *percentile) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if p.frac == nil || len(p.vals) == 0 {
		return nil, nil
	}
	frac := asFloat(p.frac)
	if err := checkFraction(frac); err != nil {
		return nil, err
	}
	n := len(p.vals)
	if !p.cont {
		row := int(math.Ceil(frac * float64(n)))
		if row < 1 {
			row = 1
		}
		return p.vals[row-1], nil
	}
	pos := frac * float64(n-1)
	first, second := int(math.Floor(pos)), int(math.Ceil(pos))
	if p.interval {
		return p.contInterval(first, second, pos-float64(first))
	}
	vals := make([]float64, n)
	for i, v := range p.vals {
		vals[i] = asFloat(v)
	}
	sort.Float64s(vals)
	if p.desc {
		reverseFloats(vals)
	}
	lo, hi := vals[first], vals[second]
	if first == second {
		return lo, nil
	}
	return lo + (hi-lo)*(pos-float64(first)), nil // float8_lerp
}

func reverseFloats(v []float64) {
	for i, j := 0, len(v)-1; i < j; i, j = i+1, j-1 {
		v[i], v[j] = v[j], v[i]
	}
}

// contInterval interpolates between the first-th and second-th intervals
// in sort order as interval_lerp: lo + (hi - lo) * pct.
func (p *percentile) contInterval(first, second int, pct float64) (driver.Value, error) {
	ivs := make([]pgval.Interval, len(p.vals))
	for i, v := range p.vals {
		iv, err := pgval.ParseInterval(fmt.Sprint(v))
		if err != nil {
			return nil, FromPG(err)
		}
		ivs[i] = iv
	}
	sort.SliceStable(ivs, func(i, j int) bool {
		c := intervalCmp(ivs[i], ivs[j])
		if p.desc {
			return c > 0
		}
		return c < 0
	})
	lo, hi := ivs[first], ivs[second]
	if first == second {
		return lo.String(), nil
	}
	diff := pgval.Interval{Months: hi.Months - lo.Months, Days: hi.Days - lo.Days, Micros: hi.Micros - lo.Micros}
	scaled, err := IntervalMul(diff, pct)
	if err != nil {
		return nil, err
	}
	return pgval.Interval{Months: lo.Months + scaled.Months, Days: lo.Days + scaled.Days,
		Micros: lo.Micros + scaled.Micros}.String(), nil
}

// intervalCmp orders intervals as interval_cmp: by their length with 30-day
// months and 24-hour days.
func intervalCmp(a, b pgval.Interval) int {
	return intervalSpan(a).Cmp(intervalSpan(b))
}

func intervalSpan(iv pgval.Interval) *big.Int {
	days := big.NewInt(int64(iv.Months)*daysPerMonth + int64(iv.Days))
	days.Mul(days, big.NewInt(secsPerDay*1_000_000))
	return days.Add(days, big.NewInt(iv.Micros))
}

// modeAgg is mode(): the most frequent value; among equally frequent ones
// the first in sort order (mode_final replaces only on a strictly higher
// count).
type modeAgg struct {
	kind             int64 // how text values compare: mode* below
	last, best       driver.Value
	lastN, bestCount int
}

// The second argument of chr2_mode: how its text values are equal (the
// translator's collatedSortKey types).
const (
	modeText     = 0
	modeNumeric  = 1
	modeInterval = 2
	modeJSONB    = 3
)

func (m *modeAgg) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	v := args[0]
	if v == nil {
		return nil
	}
	m.kind = asInt(args[1])
	if m.lastN > 0 && m.equal(v, m.last) {
		m.lastN++
		return nil
	}
	m.flush()
	m.last, m.lastN = v, 1
	return nil
}

func (m *modeAgg) flush() {
	if m.lastN > m.bestCount {
		m.best, m.bestCount = m.last, m.lastN
	}
}

func (m *modeAgg) equal(a, b driver.Value) bool {
	switch x := a.(type) {
	case int64, float64:
		switch b.(type) {
		case int64, float64:
			return asFloat(a) == asFloat(b)
		}
		return false
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		switch m.kind {
		case modeNumeric:
			return compareNumericText(x, y) == 0
		case modeInterval:
			return compareIntervalText(x, y) == 0
		case modeJSONB:
			return compareJSONBText(x, y) == 0
		}
		return x == y
	}
	return false
}

func (m *modeAgg) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return Error(pgerr.FeatureNotSupported, "OVER is not supported for ordered-set aggregates")
}

func (m *modeAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	m.flush()
	return m.best, nil
}

func (m *modeAgg) Final(*sqlite.FunctionContext) {}
